"""`Tensor`: an array of the backend plus what autograd needs to differentiate it.

    data           the xp array (numpy or cupy)
    grad           a Tensor, accumulated on leaves by backward()
    requires_grad  whether ops on it are recorded
    grad_fn        the Function node that made it (None for a leaf)

The arithmetic is done by the primitives of `nnlab.ops` (floor 3); the methods below only
name them, with PyTorch's spelling and arguments.
"""
import numpy as np

from .. import backend
from . import grad_mode


class Tensor:
    """A multi-dimensional array that records the ops applied to it (see module doc)."""

    __slots__ = ("_data", "grad", "requires_grad", "grad_fn", "_output_nr",
                 "_version_counter", "_hooks", "__weakref__")
    __array_priority__ = 1000   # numpy defers to Tensor's reflected operators
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data._data
        if not hasattr(data, "dtype") or isinstance(data, np.generic):
            data = np.asarray(data)
            if data.dtype == np.float64:
                data = data.astype(backend.get_default_dtype())
        self._data = data
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version_counter = [0]
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, output_nr=0):
        """A Tensor around `data` with no checks: the fast path used by ops."""
        t = object.__new__(cls)
        t._data = data
        t.grad = None
        t.requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._version_counter = [0]
        t._hooks = None
        return t

    # -- attributes ---------------------------------------------------------------------
    @property
    def data(self):
        """This tensor's values as a new Tensor that shares its memory, is not part of the
        graph and does not require grad (torch's `.data`: a change made through it is not
        seen by autograd's version checks). Assigning `t.data = other` makes `t` hold
        other's values (any shape or dtype), as in torch. Inside nnlab the array itself is
        `t._data`; `t.numpy()` is the public way to it."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: expected a Tensor to assign, got "
                            f"{type(value).__name__}")
        self._data = value._data

    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return backend.device_of(self._data)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def _version(self):
        """How many times this tensor (or a view sharing its memory) changed in place."""
        return self._version_counter[0]

    @property
    def T(self):
        return _ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _ops.transpose(self, -2, -1)

    def size(self, dim=None):
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self):
        return self._data.ndim

    def numel(self):
        return int(self._data.size)

    def element_size(self):
        return self._data.dtype.itemsize

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item(): a Tensor with {self._data.size} elements cannot be "
                             "converted to a Python scalar (expected exactly 1 element)")
        return self._data.item()

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("numpy(): can't call numpy() on a Tensor that requires grad; "
                               "use tensor.detach().numpy()")
        if backend.device_of(self._data) != "cpu":
            raise TypeError(f"numpy(): the tensor is on {self.device}; call .cpu() first")
        return self._data

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        data = self._data if backend.device_of(self._data) == "cpu" else self._data.get()
        return data if dtype is None else data.astype(dtype)

    # -- autograd -----------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"requires_grad_: only floating point tensors can require "
                               f"gradients (this one is {self._data.dtype})")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False): only leaf tensors can stop requiring "
                               "grad; use detach() for a non-leaf")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """The same values (same memory) outside the graph."""
        t = Tensor._make(self._data.view())
        t._version_counter = self._version_counter
        return t

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) * gradient into every leaf's `.grad`."""
        _engine.backward((self,), None if gradient is None else (gradient,),
                         retain_graph, create_graph, inputs)

    def register_hook(self, hook):
        """`hook(grad)` runs when this tensor's gradient is computed; it may return a
        replacement. Returns a handle whose `remove()` takes the hook away."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that "
                               "does not require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._hooks is None:
                node._hooks = {}
            hooks = node._hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in `.grad` after backward."""
        if self.grad_fn is None:
            return
        import weakref
        ref = weakref.ref(self)

        def keep(grad):
            t = ref()
            if t is not None:  # a copy: the gradient flows on, and may reach a leaf's .grad
                t.grad = grad.clone() if t.grad is None else t.grad + grad
        self.register_hook(keep)

    # -- copies and conversions ---------------------------------------------------------
    def clone(self):
        return _ops.clone(self)

    def contiguous(self):
        return self if self._data.flags.c_contiguous else _ops.clone(self)

    def to(self, *args, dtype=None, device=None):
        """`to(dtype)`, `to(device)`, `to(device, dtype)` or `to(other_tensor)`."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda"):
                device = a
            else:
                dtype = a
        out = self
        if device is not None and backend.device_of(self._data) != _normalise_device(device):
            out = _ops.to_device(out, device)
        if dtype is not None and backend.to_dtype(dtype) != self.dtype:
            out = _ops.cast(out, backend.to_dtype(dtype))
        return out

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def long(self):
        return self.to(backend.int64)

    def int(self):
        return self.to(backend.int32)

    def bool(self):
        return self.to(backend.bool_)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    # -- in place -----------------------------------------------------------------------
    def _assign(self, result, op):
        """Write `result` into this tensor's memory: the tail of every in-place op."""
        if grad_mode._enabled and self.requires_grad:
            what = ("a leaf tensor that requires grad" if self.grad_fn is None
                    else "a tensor that is part of the graph")
            raise RuntimeError(f"{op}: {what} cannot be changed in place while autograd "
                               "records; use the out-of-place op, or nnlab.no_grad()")
        if result.requires_grad and self._data.base is not None:
            raise RuntimeError(f"{op}: writing a tensor that requires grad into a view "
                               "is not supported; build the result out of place")
        xp = backend.get_array_module(self._data)
        try:
            xp.copyto(self._data, result._data, casting="same_kind")
        except TypeError:
            raise TypeError(f"{op}: the result has dtype {result.dtype}, which cannot be "
                            f"written into a {self.dtype} tensor in place") from None
        self._version_counter[0] += 1
        if result.requires_grad:
            self.requires_grad = True
            self.grad_fn = result.grad_fn
            self._output_nr = result._output_nr
        return self

    def add_(self, other, alpha=1):
        return self._assign(_ops.add(self, other if alpha == 1 else other * alpha), "add_")

    def sub_(self, other, alpha=1):
        return self._assign(_ops.sub(self, other if alpha == 1 else other * alpha), "sub_")

    def mul_(self, other):
        return self._assign(_ops.mul(self, other), "mul_")

    def div_(self, other):
        return self._assign(_ops.div(self, other), "div_")

    def pow_(self, exponent):
        return self._assign(_ops.pow(self, exponent), "pow_")

    def clamp_(self, min=None, max=None):
        return self._assign(_ops.clamp(self, min, max), "clamp_")

    def copy_(self, src):
        src = src if isinstance(src, Tensor) else Tensor(src)
        result = _ops.cast(_ops.broadcast_to(src, self.shape), self.dtype)
        if result is src and src.requires_grad and grad_mode._enabled:
            result = _ops.clone(src)  # a node of its own, through which the gradient reaches src
        return self._assign(result, "copy_")

    def fill_(self, value):
        return self._assign(Tensor._make(np.asarray(value)), "fill_")

    def zero_(self):
        return self.fill_(0)

    def uniform_(self, a=0.0, b=1.0):
        return self._assign(Tensor._make(_ops.random_array("uniform", self, a, b)), "uniform_")

    def normal_(self, mean=0.0, std=1.0):
        return self._assign(Tensor._make(_ops.random_array("normal", self, mean, std)),
                            "normal_")

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def __setitem__(self, key, value):
        self._assign(_ops.index_put(self, key, value), "__setitem__")

    # -- Python operators ---------------------------------------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    def __rpow__(self, base):
        return _ops.pow(base, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __invert__(self):
        return _ops.logical_not(self)

    def __and__(self, other):
        return _ops.logical_and(self, other)

    def __or__(self, other):
        return _ops.logical_or(self, other)

    __hash__ = object.__hash__

    def __getitem__(self, key):
        return _ops.getitem(self, key)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self._data.size} elements "
                               "is ambiguous; use .any() or .all()")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __format__(self, spec):
        return format(self.item(), spec) if self._data.ndim == 0 else format(repr(self), spec)

    def __repr__(self):
        return _format_tensor(self)

    # -- elementwise methods ------------------------------------------------------------
    def add(self, other, alpha=1):
        return _ops.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return _ops.sub(self, other if alpha == 1 else other * alpha)

    def mul(self, other):
        return _ops.mul(self, other)

    def div(self, other):
        return _ops.div(self, other)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def neg(self):
        return _ops.neg(self)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def log1p(self):
        return _ops.log1p(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def rsqrt(self):
        return _ops.rsqrt(self)

    def abs(self):
        return _ops.abs(self)

    def sign(self):
        return _ops.sign(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def tan(self):
        return _ops.tan(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def erf(self):
        return _ops.erf(self)

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    def clamp(self, min=None, max=None):
        return _ops.clamp(self, min, max)

    clip = clamp

    def reciprocal(self):
        return _ops.reciprocal(self)

    def square(self):
        return _ops.square(self)

    def floor(self):
        return _ops.floor(self)

    def ceil(self):
        return _ops.ceil(self)

    def round(self):
        return _ops.round(self)

    def trunc(self):
        return _ops.trunc(self)

    def where(self, condition, other):
        return _ops.where(condition, self, other)

    def masked_fill(self, mask, value):
        return _ops.masked_fill(self, mask, value)

    def eq(self, other):
        return _ops.eq(self, other)

    def ne(self, other):
        return _ops.ne(self, other)

    def lt(self, other):
        return _ops.lt(self, other)

    def le(self, other):
        return _ops.le(self, other)

    def gt(self, other):
        return _ops.gt(self, other)

    def ge(self, other):
        return _ops.ge(self, other)

    def isnan(self):
        return _ops.isnan(self)

    def isinf(self):
        return _ops.isinf(self)

    def isfinite(self):
        return _ops.isfinite(self)

    def logical_not(self):
        return _ops.logical_not(self)

    def logical_and(self, other):
        return _ops.logical_and(self, other)

    def logical_or(self, other):
        return _ops.logical_or(self, other)

    def logical_xor(self, other):
        return _ops.logical_xor(self, other)

    # -- reductions ---------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return _ops.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return _ops.mean(self, dim, keepdim)

    def prod(self, dim=None, keepdim=False):
        return _ops.prod(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return _ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _ops.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return _ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _ops.argmin(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _ops.std(self, dim, unbiased, keepdim, correction=correction)

    def norm(self, p="fro", dim=None, keepdim=False):
        return _ops.norm(self, p, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return _ops.logsumexp(self, dim, keepdim)

    def cumsum(self, dim):
        return _ops.cumsum(self, dim)

    def all(self, dim=None, keepdim=False):
        return _ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _ops.any(self, dim, keepdim)

    # -- shape --------------------------------------------------------------------------
    def reshape(self, *shape):
        return _ops.reshape(self, _sizes(shape))

    def view(self, *shape):
        return _ops.view(self, _sizes(shape))

    def view_as(self, other):
        return _ops.view(self, other.shape)

    def reshape_as(self, other):
        return _ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return _ops.transpose(self, dim0, dim1)

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t(): expects a tensor with <= 2 dimensions, got {self.ndim}")
        return self.T

    def permute(self, *dims):
        return _ops.permute(self, _sizes(dims))

    def movedim(self, source, destination):
        return _ops.movedim(self, source, destination)

    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _ops.unsqueeze(self, dim)

    def expand(self, *sizes):
        return _ops.expand(self, _sizes(sizes))

    def expand_as(self, other):
        return _ops.broadcast_to(self, other.shape)

    def broadcast_to(self, shape):
        return _ops.broadcast_to(self, shape)

    def split(self, split_size_or_sections, dim=0):
        return _ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _ops.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _ops.unbind(self, dim)

    def flip(self, dims):
        return _ops.flip(self, dims)

    def repeat(self, *sizes):
        return _ops.repeat(self, _sizes(sizes))

    def tile(self, dims):
        return _ops.tile(self, dims)

    def roll(self, shifts, dims=None):
        return _ops.roll(self, shifts, dims)

    def tril(self, diagonal=0):
        return _ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _ops.triu(self, diagonal)

    # -- linear algebra and indexing ----------------------------------------------------
    def matmul(self, other):
        return _ops.matmul(self, other)

    def mm(self, other):
        return _ops.mm(self, other)

    def bmm(self, other):
        return _ops.bmm(self, other)

    def outer(self, other):
        return _ops.outer(self, other)

    def gather(self, dim, index):
        return _ops.gather(self, dim, index)

    def scatter_add(self, dim, index, src):
        return _ops.scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        return _ops.index_select(self, dim, index)

    def index_add(self, dim, index, source, alpha=1):
        return _ops.index_add(self, dim, index, source, alpha=alpha)


def _sizes(args):
    """`f(2, 3)` and `f((2, 3))` both mean the shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


def _normalise_device(device):
    device = str(device)
    return "cuda:0" if device == "cuda" else device


class _RemovableHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _format_tensor(t):
    """PyTorch's layout: tensor([[1., 2.], [3., 4.]], dtype=..., grad_fn=<...>)."""
    data = np.asarray(t)
    options = {"separator": ", ", "prefix": "tensor(", "threshold": 1000, "edgeitems": 3}
    if data.dtype.kind == "f":
        finite = data[np.isfinite(data)]
        integral = finite.size == 0 or bool(np.all(finite == np.round(finite)))
        nonzero = np.abs(finite[finite != 0])
        big = nonzero.size > 0 and (nonzero.max() >= 1e8 or nonzero.min() < 1e-4
                                    or nonzero.max() / nonzero.min() > 1000)
        if integral and not big:
            body = np.array2string(data, **options)
        else:
            body = np.array2string(data, precision=4, floatmode="fixed",
                                   suppress_small=False, **options)
    else:
        body = np.array2string(data, **options)
    extras = []
    default = {backend.get_default_dtype(), backend.int64, backend.bool_}
    if data.size == 0 and data.ndim > 1:
        extras.append(f"size={tuple(data.shape)}")
    if t.dtype not in default or (data.size == 0 and t.dtype != backend.get_default_dtype()):
        extras.append(f"dtype=nnlab.{t.dtype}")
    if t.device != "cpu":
        extras.append(f"device='{t.device}'")
    if t.grad_fn is not None:
        extras.append(f"grad_fn={t.grad_fn!r}")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


# Tensor's methods name the ops of floor 3, which themselves build on Tensor: the two
# imports are bound here, after the class, so that either side can be imported first.
from .. import ops as _ops  # noqa: E402
from . import engine as _engine  # noqa: E402
