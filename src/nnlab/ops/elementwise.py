"""Elementwise primitives. Each forward is array code; each backward is Tensor ops (so it
can itself be differentiated) with the derivative in a one-line comment. Binary ops
broadcast as NumPy does and sum their gradients back with `sum_to`."""


import math

import numpy as np

from ..autograd.function import Function
from ..autograd.fused import FusedFunction
from ..autograd.tensor import Tensor
from ..backend import get_array_module, get_default_dtype, special_functions
from ..parallel import ufunc
from .broadcast import sum_to
from .convert import cast
from .select import select


# -- operands --------------------------------------------------------------------------
def _operands(a, b):
    """Two operands typed as PyTorch types them: Python scalars stay scalars (so a float
    never promotes a float32 tensor), and an integer tensor meeting a float is cast to it."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a._data.dtype is b._data.dtype:
            return a, b
        ka, kb = a._data.dtype.kind, b._data.dtype.kind
        if ka == "f" and kb in "iu":
            return a, b.to(a.dtype)
        if kb == "f" and ka in "iu":
            return a.to(b.dtype), b
        return a, b
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return Tensor(a), b
    t, s = (a, b) if isinstance(a, Tensor) else (b, a)
    if isinstance(s, np.generic):   # a numpy scalar counts as the Python scalar it holds
        s = s.item()
    if isinstance(s, float) and t._data.dtype.kind != "f":
        t = t.to(get_default_dtype())
    elif not isinstance(s, (int, float, bool)):   # a list or an array: make it a Tensor
        s = Tensor(s)
        return _operands(*((t, s) if t is a else (s, t)))
    return (t, s) if isinstance(a, Tensor) else (s, t)


def _shape(x):
    return getattr(x, "shape", ())


def _binary(cls, op, input, other):
    """`cls.apply` on the typed operands; shapes that do not broadcast are a clear error."""
    a, b = _operands(input, other)
    try:
        return cls.apply(a, b)
    except ValueError:
        try:
            np.broadcast_shapes(_shape(a), _shape(b))
        except ValueError:
            raise ValueError(f"{op}: shapes {_shape(a)} and {_shape(b)} cannot be broadcast "
                             "together") from None
        raise


def _floating(x):
    """An integer or bool tensor as the default float dtype (torch's exp(int) is float32)."""
    return x if x._data.dtype.kind in "fc" else x.to(get_default_dtype())


def _grads(ctx, ga, gb):
    """The pair of input gradients, each summed to its input's shape, None if not needed.
    `ga` and `gb` are callables so that an unneeded gradient is never computed."""
    need_a, need_b = ctx.needs_input_grad
    return (sum_to(ga(), ctx.shapes[0]) if need_a else None,
            sum_to(gb(), ctx.shapes[1]) if need_b else None)


# -- arithmetic ------------------------------------------------------------------------
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return ufunc(np.add, a, b)

    @staticmethod
    def backward(ctx, gy):
        return _grads(ctx, lambda: gy, lambda: gy)  # dL/da = dL/db = gy


def add(input, other, alpha=1):
    if alpha != 1:
        other = other * alpha
    return _binary(Add, "add", input, other)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return ufunc(np.subtract, a, b)

    @staticmethod
    def backward(ctx, gy):
        return _grads(ctx, lambda: gy, lambda: -gy)  # dL/da = gy, dL/db = -gy


def sub(input, other, alpha=1):
    if alpha != 1:
        other = other * alpha
    return _binary(Sub, "sub", input, other)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return ufunc(np.multiply, a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return _grads(ctx, lambda: gy * b, lambda: gy * a)  # dL/da = gy b, dL/db = gy a


def mul(input, other):
    return _binary(Mul, "mul", input, other)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return ufunc(np.true_divide, a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        # dL/da = gy / b, dL/db = -gy a / b^2
        return _grads(ctx, lambda: gy / b, lambda: -gy * a / (b * b))


def div(input, other):
    a, b = _operands(input, other)
    if all(t._data.dtype.kind in "iub" if isinstance(t, Tensor) else not isinstance(t, float)
           for t in (a, b)):
        # integer / integer is true division in the default float dtype, as torch
        a, b = (_floating(t) if isinstance(t, Tensor) else t for t in (a, b))
    return _binary(Div, "div", a, b)


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return ufunc(np.negative, x)

    @staticmethod
    def backward(ctx, gy):
        return -gy


def neg(input):
    return Neg.apply(input)


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        y = ufunc(np.power, a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        # dL/da = gy b a^(b-1), 0 where b = 0;  dL/db = gy a^b log(a), 0 where a = 0 <= b
        return _grads(ctx, lambda: gy * _times_power(b, a), lambda: gy * _times_log(y, a, b))


def pow(input, exponent):
    return _binary(Pow, "pow", input, exponent)


def _times_power(b, a):
    """b a^(b-1), with 0 where b = 0 (even at a = 0, where a^(b-1) is infinite)."""
    if not isinstance(b, Tensor):
        return a * 0 if b == 0 else b * a ** (b - 1)
    return where(b == 0, 0.0, b * a ** (b - 1))


def _times_log(y, a, b):
    """y log(a) for y = a^b, with 0 where a = 0 and b >= 0 (y is 0 or 1 there), as torch;
    at a = 0 with b < 0 it is inf * -inf = -inf."""
    if not isinstance(a, Tensor):
        if a != 0:
            return y * (math.log(a) if a > 0 else math.nan)
        return where(b >= 0, 0.0, y * -math.inf)
    masked = a == 0
    if isinstance(b, Tensor):
        masked = masked & (b >= 0)
    elif b < 0:
        return y * log(a)
    return where(masked, 0.0, y * log(where(masked, 1.0, a)))


# -- unary maths -----------------------------------------------------------------------
class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = ufunc(get_array_module(x).exp, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        return gy * y  # d exp(x) = exp(x)


def exp(input):
    return Exp.apply(_floating(input))


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ufunc(get_array_module(x).log, x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy / x  # d log(x) = 1 / x


def log(input):
    return Log.apply(_floating(input))


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ufunc(get_array_module(x).log1p, x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy / (x + 1)  # d log(1 + x) = 1 / (1 + x)


def log1p(input):
    return Log1p.apply(_floating(input))


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = ufunc(get_array_module(x).sqrt, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        return gy / (y * 2)  # d sqrt(x) = 1 / (2 sqrt(x))


def sqrt(input):
    return Sqrt.apply(_floating(input))


class Rsqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = 1 / get_array_module(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        return gy * y * y * y * -0.5  # d x^(-1/2) = -x^(-3/2) / 2


def rsqrt(input):
    return Rsqrt.apply(_floating(input))


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ufunc(get_array_module(x).abs, x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * sign(x)  # d|x| = sign(x), 0 at 0


def abs(input):
    return Abs.apply(input)


class Sign(Function):
    @staticmethod
    def forward(ctx, x):
        return get_array_module(x).sign(x)

    @staticmethod
    def backward(ctx, gy):
        return gy * 0  # piecewise constant


def sign(input):
    return Sign.apply(input)


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ufunc(get_array_module(x).sin, x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * cos(x)  # d sin = cos


def sin(input):
    return Sin.apply(_floating(input))


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ufunc(get_array_module(x).cos, x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return -gy * sin(x)  # d cos = -sin


def cos(input):
    return Cos.apply(_floating(input))


class Tan(Function):
    @staticmethod
    def forward(ctx, x):
        y = ufunc(get_array_module(x).tan, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        return gy * (y * y + 1)  # d tan = 1 + tan^2


def tan(input):
    return Tan.apply(_floating(input))


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        y = ufunc(get_array_module(x).tanh, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        return TanhGrad.apply(gy, y)  # d tanh = 1 - tanh^2


def tanh(input):
    return Tanh.apply(_floating(input))


class TanhGrad(FusedFunction):
    """gy (1 - y^2), the backward of tanh, in one buffer."""

    twin = staticmethod(lambda gy, y: gy * (1 - y * y))

    @staticmethod
    def forward(ctx, gy, y):
        ctx.save_for_backward(gy, y)
        xp = get_array_module(y)
        g = ufunc(xp.multiply, y, y)
        ufunc(xp.subtract, 1, g, out=g)
        return ufunc(xp.multiply, g, gy, out=g)

    @staticmethod
    def backward(ctx, gg):
        gy, y = ctx.saved_tensors
        return gg * (1 - y * y), gg * gy * y * -2  # d/dgy = 1 - y^2, d/dy = -2 y gy


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        y = ufunc(xp.negative, x)
        with np.errstate(over="ignore"):  # e^-x = inf for x << 0 gives 1 / inf = 0: exact
            ufunc(xp.exp, y, out=y)
        ufunc(xp.add, y, 1, out=y)
        ufunc(xp.reciprocal, y, out=y)  # 1 / (1 + e^-x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        return SigmoidGrad.apply(gy, y)  # d sigma = sigma (1 - sigma)


def sigmoid(input):
    return Sigmoid.apply(_floating(input))


class SigmoidGrad(FusedFunction):
    """gy y (1 - y), the backward of sigmoid, in one buffer."""

    twin = staticmethod(lambda gy, y: gy * y * (1 - y))

    @staticmethod
    def forward(ctx, gy, y):
        ctx.save_for_backward(gy, y)
        xp = get_array_module(y)
        g = ufunc(xp.subtract, 1, y)
        ufunc(xp.multiply, g, y, out=g)
        return ufunc(xp.multiply, g, gy, out=g)

    @staticmethod
    def backward(ctx, gg):
        gy, y = ctx.saved_tensors
        return gg * y * (1 - y), gg * gy * (1 - 2 * y)  # d/dgy = y(1-y), d/dy = gy(1-2y)


class Relu(Function):
    """max(x, 0); with `overwrite` the result is written over x's memory (for relu_,
    which needs no second buffer: the backward keeps only the mask)."""

    @staticmethod
    def forward(ctx, x, overwrite=False):
        xp = get_array_module(x)
        y = ufunc(xp.maximum, x, 0, out=x if overwrite else None)
        ctx.save_for_backward(ufunc(xp.greater, y, 0))
        return y

    @staticmethod
    def backward(ctx, gy):
        positive, = ctx.saved_tensors
        return gy * positive  # d relu = 1 where x > 0, else 0


def relu(input):
    return Relu.apply(input)


class Atan(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ufunc(get_array_module(x).arctan, x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy / (x * x + 1)  # d atan(x) = 1 / (1 + x^2)


def atan(input):
    return Atan.apply(_floating(input))


arctan = atan


class Softplus(Function):
    """log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): finite for any x."""

    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * sigmoid(x)  # d softplus = sigmoid


def softplus(input):
    """log(1 + e^x), finite for any x (nn.functional.softplus adds beta and threshold)."""
    return Softplus.apply(_floating(input))


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return special_functions(x).erf(x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * exp(-x * x) * (2 / math.sqrt(math.pi))  # d erf = 2/sqrt(pi) e^(-x^2)


def erf(input):
    return Erf.apply(_floating(input))


class Reciprocal(Function):
    @staticmethod
    def forward(ctx, x):
        y = ufunc(np.true_divide, 1, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        return -gy * y * y  # d (1/x) = -1/x^2


def reciprocal(input):
    return Reciprocal.apply(_floating(input))


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ufunc(np.multiply, x, x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * x * 2  # d x^2 = 2x


def square(input):
    return Square.apply(input)


class Rounding(Function):
    """floor, ceil, round, trunc: piecewise constant, so their gradient is zero."""

    @staticmethod
    def forward(ctx, x, name):
        return getattr(get_array_module(x), name)(x)

    @staticmethod
    def backward(ctx, gy):
        return gy * 0


def floor(input):
    return Rounding.apply(input, "floor")


def ceil(input):
    return Rounding.apply(input, "ceil")


def round(input):
    return Rounding.apply(input, "round")


def trunc(input):
    return Rounding.apply(input, "trunc")


# -- selections ------------------------------------------------------------------------
class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        y = get_array_module(a).maximum(a, b)
        # share of the gradient that goes to a: 1 where a > b, 1/2 on ties (as torch)
        ctx.save_for_backward((a > b) + (a == b) * y.dtype.type(0.5))
        return y

    @staticmethod
    def backward(ctx, gy):
        share_a, = ctx.saved_tensors
        return _grads(ctx, lambda: gy * share_a, lambda: gy * (1 - share_a))


def maximum(input, other):
    return _binary(Maximum, "maximum", input, other)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        y = get_array_module(a).minimum(a, b)
        ctx.save_for_backward((a < b) + (a == b) * y.dtype.type(0.5))
        return y

    @staticmethod
    def backward(ctx, gy):
        share_a, = ctx.saved_tensors
        return _grads(ctx, lambda: gy * share_a, lambda: gy * (1 - share_a))


def minimum(input, other):
    return _binary(Minimum, "minimum", input, other)


class Clamp(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        xp = get_array_module(x)
        inside = xp.ones(x.shape, bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        ctx.save_for_backward(inside)
        return xp.clip(x, low, high)

    @staticmethod
    def backward(ctx, gy):
        inside, = ctx.saved_tensors
        return gy * inside  # 1 between the bounds (inclusive, as torch), else 0


def clamp(input, min=None, max=None):
    """Elementwise min(max(input, min), max) for number bounds (tensor bounds:
    ops/clamp.py)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, float) or isinstance(max, float):
        input = _floating(input)   # an integer tensor clamped to a float bound is float
    return Clamp.apply(input, min, max)


clip = clamp


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.save_for_backward(condition)
        return select(condition, a, b)

    @staticmethod
    def backward(ctx, gy):
        condition, = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[1:]
        # dL/da = gy where the condition holds, dL/db = gy elsewhere
        return (None,
                sum_to(where(condition, gy, 0.0), ctx.shapes[0]) if need_a else None,
                sum_to(where(condition, 0.0, gy), ctx.shapes[1]) if need_b else None)


def where(condition, input, other):
    """`input` where `condition` holds, else `other` (both broadcast; scalars allowed)."""
    if not isinstance(condition, Tensor):
        condition = Tensor(condition)
    if condition._data.dtype.kind != "b":
        condition = condition != 0
    a, b = _operands(input, other)
    return Where.apply(condition, a, b)


def masked_fill(input, mask, value):
    """`input` with `value` written where `mask` is True (the dtype stays input's)."""
    return cast(where(mask, value, input), input.dtype)


# -- compositions ----------------------------------------------------------------------
def lerp(input, end, weight):
    """input + weight (end - input), elementwise (weight a number or a tensor)."""
    return add(input, mul(weight, sub(end, input)))


def addcmul(input, tensor1, tensor2, value=1):
    """input + value tensor1 tensor2, elementwise."""
    return add(input, mul(mul(tensor1, tensor2), value))


def addcdiv(input, tensor1, tensor2, value=1):
    """input + value tensor1 / tensor2, elementwise."""
    return add(input, mul(div(tensor1, tensor2), value))
