"""ONNX nodes for the fused fast paths of `nnlab.nn.functional` and the windows of
pooling: linear (Gemm), convolution (Conv), im2col (Slice per kernel offset), max pooling
(MaxPool), normalisation (mean / variance reductions), flash attention (softmax of masked
scores) and the fused recurrent sequences (LSTM, GRU, RNN). `TABLE` as in tensor_ops."""
import itertools
import math

import numpy as np

from ..nn.functional.attention import FlashAttention
from ..nn.functional.conv import Convolution
from ..nn.functional.linear import Affine
from ..nn.functional.normalization import Normalize
from ..nn.functional.recurrent_fused import GRUSequence, LSTMSequence, RNNSequence
from ..ops.conv import Im2col
from ..ops.index import Gather
from .tensor_ops import gather, reduce_node


def _affine(b, op):                     # y = x W^T + b
    x, w, bias = op.args
    return [b.node("Gemm", [b.value(x), b.value(w), b.value(bias)], transB=1)]


def _pads(pairs):
    """((lo, hi) per axis) -> ONNX's [lo..., hi...]."""
    return [lo for lo, _ in pairs] + [hi for _, hi in pairs]


def _convolution(b, op):                # y = W * x + b
    x, w, bias, stride, pairs, dilation, groups = op.args
    inputs = [b.value(x), b.value(w)] + ([] if bias is None else [b.value(bias)])
    return [b.node("Conv", inputs, kernel_shape=list(w.shape[2:]), strides=list(stride),
                   pads=_pads(pairs), dilations=list(dilation), group=groups)]


# -- pooling windows -------------------------------------------------------------------
def _im2col(b, op):
    """x (N, C, *spatial) -> (N, C, *kernel, *out): the input padded with pad_value, one
    strided Slice per kernel offset, the slices stacked on a new axis 2 and reshaped."""
    x, kernel, stride, pairs, dilation = op.args[:5]
    pad_value = op.args[5] if len(op.args) > 5 else 0.0
    cols = op.results[0]
    nd = len(kernel)
    out = cols.shape[2 + nd:]
    y = b.value(x)
    if pad_value == -math.inf:        # max pooling's windows: its Gather becomes a MaxPool
        b.max_windows.append((x._data, y, op.args))
    if any(lo or hi for lo, hi in pairs):
        y = b.node("Pad", [y, b.ints([0, 0] + [lo for lo, _ in pairs] + [0, 0]
                                     + [hi for _, hi in pairs]),
                           b.scalar_like(pad_value, x._data)], mode="constant")
    axes = b.ints(range(2, 2 + nd))
    steps = b.ints(stride)
    pieces = []
    for offset in itertools.product(*(range(k) for k in kernel)):
        starts = [o * d for o, d in zip(offset, dilation)]
        ends = [s0 + s * (n - 1) + 1 for s0, s, n in zip(starts, stride, out)]
        piece = b.node("Slice", [y, b.ints(starts), b.ints(ends), axes, steps])
        pieces.append(b.node("Unsqueeze", [piece, b.ints([2])]))
    stacked = b.node("Concat", pieces, axis=2)                    # (N, C, K, *out)
    shape = b.ints([0, 0] + list(kernel) + list(out))
    return [b.node("Reshape", [stacked, shape])]


def _gather(b, op):
    """Max pooling finds each window's maximum in array code and gathers the input there
    (nn/functional/pooling.py): a Gather whose index is not a traced value, of a flattened
    input whose windows were taken with -inf padding, is a MaxPool of that input, flattened
    to (N, C, L). Any other Gather is a GatherElements."""
    pooled = _max_pool(b, op)
    return gather(b, op) if pooled is None else [pooled]


def _max_pool(b, op):
    x, dim, idx = op.args
    if dim != 2 or b.source_of(idx) is not None:
        return None
    for source, name, args in reversed(b.max_windows):
        if not np.shares_memory(x._data, source):
            continue
        _, kernel, stride, pairs, dilation = args[:5]
        spatial = source.shape[2:]
        out = [(n + lo + hi - d * (k - 1) - 1) // s + 1
               for n, (lo, hi), d, k, s in zip(spatial, pairs, dilation, kernel, stride)]
        if math.prod(out) != op.results[0].shape[2]:
            return None
        pooled = b.node("MaxPool", [name], kernel_shape=list(kernel),
                        strides=list(stride), pads=_pads(pairs), dilations=list(dilation))
        return b.node("Reshape", [pooled, b.ints([0, 0, -1])])
    return None


# -- normalisation ---------------------------------------------------------------------
def _normalize(b, op):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, the statistics over `axes`."""
    x, weight, bias, axes, eps = op.args[:5]
    return_stats = len(op.args) > 5 and op.args[5]
    value = b.value(x)
    mean = reduce_node(b, "ReduceMean", value, tuple(axes), True)
    centred = b.node("Sub", [value, mean])
    var = reduce_node(b, "ReduceMean", b.node("Mul", [centred, centred]), tuple(axes), True)
    std = b.node("Sqrt", [b.node("Add", [var, b.scalar_like(eps, x._data)])])
    y = b.node("Div", [centred, std])
    if weight is not None:
        y = b.node("Mul", [y, b.value(weight)])
    if bias is not None:
        y = b.node("Add", [y, b.value(bias)])
    return [y, mean, var] if return_stats else [y]


# -- attention -------------------------------------------------------------------------
def _flash_attention(b, op):
    """softmax(q scale k^T, causal: -inf above the diagonal (top-left aligned)) v."""
    q, k, v, is_causal, scale = op.args[:5]
    scaled = b.node("Mul", [b.value(q), b.scalar_like(scale, q._data)])
    keys_t = b.node("Transpose", [b.value(k)], perm=list(range(k.ndim - 2)) + [k.ndim - 1,
                                                                                k.ndim - 2])
    scores = b.node("MatMul", [scaled, keys_t])                   # (..., L, S)
    if is_causal:
        ones = b.node("ConstantOfShape", [b.node("Shape", [scores])],
                      value=b.onnx.numpy_helper.from_array(np.ones(1, np.float32), "value"))
        keep = b.node("Cast", [b.node("Trilu", [ones], upper=0)],
                      to=b.onnx.TensorProto.BOOL)
        scores = b.node("Where", [keep, scores, b.scalar_like(-math.inf, q._data)])
    return [b.node("MatMul", [b.node("Softmax", [scores], axis=-1), b.value(v)])]


# -- recurrent sequences ---------------------------------------------------------------
# torch's gate blocks in the order ONNX wants them: LSTM i f g o -> i o f c; GRU r z n ->
# z r h; RNN one block
_GATES = {"LSTM": (4, [0, 3, 1, 2]), "GRU": (3, [1, 0, 2]), "RNN_TANH": (1, [0]),
          "RNN_RELU": (1, [0])}


def _gate_blocks(b, name, mode):
    """A weight or bias (G H, ...) with its gate blocks reordered for ONNX, and a leading
    axis of 1 (one direction): (1, G H, ...). Nodes, so the initializer keeps its name."""
    count, order = _GATES[mode]
    if count == 1:
        return b.node("Unsqueeze", [name, b.ints([0])])
    blocks = b.node("Split", [name], outputs=count, axis=0, num_outputs=count) \
        if b.opset >= 18 else b.node("Split", [name], outputs=count, axis=0)
    joined = b.node("Concat", [blocks[i] for i in order], axis=0)
    return b.node("Unsqueeze", [joined, b.ints([0])])


def _sequence(b, op):
    """One layer and direction of nn.LSTM / GRU / RNN: ONNX's LSTM, GRU or RNN with one
    direction; y (T, 1, B, H) loses its direction axis."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, mode = op.args[:10]
    reset_after = op.args[10] if len(op.args) > 10 else True
    if lengths is not None:
        raise NotImplementedError("onnx.export: recurrent sequences with lengths (packed "
                                  "sequences)")
    hidden = w_hh.shape[1]
    inputs = [b.value(x), _gate_blocks(b, b.value(w_ih), mode),
              _gate_blocks(b, b.value(w_hh), mode)]
    if b_ih is None and b_hh is None:
        inputs.append("")
    else:
        zeros = np.zeros(w_ih.shape[0], w_ih.dtype)
        pair = [_gate_blocks(b, b.value(t) if t is not None else b.const(zeros), mode)
                for t in (b_ih, b_hh)]
        inputs.append(b.node("Concat", pair, axis=1))
    axis0 = b.ints([0])
    inputs += ["", b.node("Unsqueeze", [b.value(h0), axis0])]
    attrs = dict(hidden_size=hidden, direction="reverse" if reverse else "forward")
    if mode == "LSTM":
        inputs.append(b.node("Unsqueeze", [b.value(c0), axis0]))
        op_type, outputs = "LSTM", 3
    elif mode == "GRU":
        op_type, outputs = "GRU", 2
        attrs["linear_before_reset"] = int(bool(reset_after))
    else:
        op_type, outputs = "RNN", 2
        attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"]
    outs = b.node(op_type, inputs, outputs=outputs, **attrs)
    y = b.node("Squeeze", [outs[0], b.ints([1])])                  # (T, B, H)
    return [y] + [b.node("Squeeze", [o, axis0]) for o in outs[1:]]


TABLE = {
    Affine: _affine, Convolution: _convolution, Im2col: _im2col, Gather: _gather,
    Normalize: _normalize,
    FlashAttention: _flash_attention,
    LSTMSequence: _sequence, GRUSequence: _sequence, RNNSequence: _sequence,
}
