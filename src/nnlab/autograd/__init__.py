"""Floor 2: Tensor, Function, the reverse walk, grad modes and gradient checks."""
from .tensor import Tensor  # noqa: I001  (first: the rest build on it)
from .function import Function
from .engine import backward, grad
from .grad_mode import (detect_anomaly, enable_grad, inference_mode, is_anomaly_enabled,
                        is_grad_enabled, is_inference_mode_enabled, no_grad, set_detect_anomaly,
                        set_grad_enabled)
from .gradcheck import gradcheck, gradgradcheck
from .variable import Variable

__all__ = ["Tensor", "Function", "backward", "grad", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled", "Variable", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "gradcheck", "gradgradcheck"]
