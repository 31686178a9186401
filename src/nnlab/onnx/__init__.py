"""ONNX export: `export(model, args, f, ...)`, torch.onnx.export's common arguments.

One forward pass is traced op by op (`trace.py`: a recorder that autograd's
`Function.apply` calls while an export runs), and each op becomes ONNX nodes through a
table of small converters, one per op family (`tensor_ops.py` for the primitives,
`nn_ops.py` for the fused layers: Gemm, Conv, MaxPool, LSTM, attention, ...); `graph.py`
names the values, the initializers (the state_dict's names) and the dynamic axes. The
`onnx` package is imported only when `export` runs (pip install onnx).
"""
from .export import export

__all__ = ["export"]
