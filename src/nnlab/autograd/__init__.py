"""Floor 2: Tensor, Function, the reverse walk, grad modes and gradient checks."""
from .tensor import Tensor  # noqa: I001  (first: the rest build on it)
from .function import Function
from .engine import backward, grad
from .grad_mode import (detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled,
                        no_grad, set_detect_anomaly, set_grad_enabled)
from .gradcheck import gradcheck, gradgradcheck

__all__ = ["Tensor", "Function", "backward", "grad", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "gradcheck", "gradgradcheck"]
