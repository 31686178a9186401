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
                 "_version_counter", "_hooks", "_base", "_view", "__weakref__")
    __array_priority__ = 1000   # numpy defers to Tensor's reflected operators
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data._data
        if not hasattr(data, "dtype") or isinstance(data, np.generic):
            data = np.asarray(data)
            if data.dtype == np.float64:
                data = data.astype(backend.get_default_dtype())
        elif getattr(data, "is_sparse", False):   # a dense op's sparse operand: dense form
            data = data._dense_array()
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
        """Where the memory lives: a `nnlab.device` (device(type='cpu') or 'cuda:i'); it
        also equals its name as a string (`t.device == 'cpu'`)."""
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
        """Keep this non-leaf tensor's gradient in `.grad` after backward (once, however
        often it is called; a leaf keeps its .grad anyway)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a Tensor that has "
                               "requires_grad=False")
        if self.grad_fn is None or self.retains_grad:
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

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False,
           memory_format=None):
        """This tensor on another device and/or in another dtype: `to(dtype)`,
        `to(device[, dtype])` or `to(other_tensor)` (its device and dtype), each optionally
        followed by `non_blocking` (accepted; copies are synchronous) and `copy`. Returns
        self when nothing changes, unless `copy=True`. Differentiable."""
        device, dtype, _, copy = backend.parse_to(args, device, dtype, non_blocking, copy,
                                                  "Tensor.to")
        out = self
        if device is not None and not backend.on_device(self._data, device):
            out = _ops.to_device(out, device)
        if dtype is not None and dtype != self._data.dtype:
            out = _ops.cast(out, dtype)
        return _ops.clone(self) if copy and out is self else out

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return _ops.cast(self, backend.float32)

    def double(self):
        return _ops.cast(self, backend.float64)

    def half(self):
        return _ops.cast(self, backend.float16)

    def long(self):
        return _ops.cast(self, backend.int64)

    def int(self):
        return _ops.cast(self, backend.int32)

    def short(self):
        return _ops.cast(self, backend.int16)

    def char(self):
        return _ops.cast(self, backend.int8)

    def byte(self):
        return _ops.cast(self, backend.uint8)

    def bool(self):
        return _ops.cast(self, backend.bool_)

    def cpu(self, memory_format=None):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """This tensor on the GPU `device` (an index, a name, or None: the current one)."""
        if device is None:
            return self.to("cuda")
        if not isinstance(device, (str, backend.device)):
            device = backend.device("cuda", device)
        return self.to(device)

    # -- torch's legacy names and memory layout -----------------------------------------
    def type(self, dtype=None, non_blocking=False, **kwargs):
        """With no argument, torch's name of this tensor's type ('torch.FloatTensor',
        'torch.cuda.LongTensor', ...); else this tensor converted to `dtype` (a dtype, a
        name such as 'torch.DoubleTensor', or a class such as nnlab.DoubleTensor), self if
        it already is one."""
        if dtype is None:
            return backend.type_name(self._data.dtype, self.device)
        if isinstance(dtype, str):
            dtype, kind = backend.parse_type_name(dtype)
            return self.to(kind, dtype)
        return self.to(backend.to_dtype(dtype, "Tensor.type"))

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    # torch's flags for devices and layouts nnlab has none of (dcgan reads is_xpu)
    is_xpu = is_mps = is_meta = is_xla = is_mtia = is_maia = is_ipu = is_vulkan = False
    is_quantized = is_mkldnn = is_nested = is_sparse_csr = False

    def share_memory_(self):
        """Move the values into memory that child processes forked later share (Hogwild
        training with nnlab.multiprocessing); a no-op if there already or on a GPU. Unlike
        torch's, views taken before keep the old memory."""
        from .. import parallel
        self._data = parallel.share_memory(self._data)
        return self

    def is_shared(self):
        from .. import parallel
        return parallel.is_shared(self._data)

    @property
    def retains_grad(self):
        """Whether `retain_grad()` was called on this non-leaf tensor (False for leaves)."""
        hooks = self.grad_fn._hooks if self.grad_fn is not None else None
        return any(getattr(h, "__qualname__", "").startswith("Tensor.retain_grad.")
                   for h in (hooks or {}).get(self._output_nr, ()))

    def _new(self, dtype, device):
        return dict(dtype=self._data.dtype if dtype is None else dtype,
                    device=self.device if device is None else device)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A new tensor holding a copy of `data`, in this tensor's dtype and device unless
        given (Python floats given to an int64 tensor's `new_tensor` are truncated)."""
        return _ops.tensor(data, **self._new(dtype, device), requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of `size`, in this tensor's dtype and device unless given."""
        return _ops.zeros(_sizes(size), **self._new(dtype, device), requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _ops.ones(_sizes(size), **self._new(dtype, device), requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _ops.empty(_sizes(size), **self._new(dtype, device), requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """`fill_value` everywhere in a tensor of `size` (a sequence), in this tensor's dtype
        and device unless given."""
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"new_full: size must be a tuple of ints, got "
                            f"{type(size).__name__}")
        return _ops.full(tuple(size), fill_value, **self._new(dtype, device),
                         requires_grad=requires_grad)

    def nelement(self):
        return int(self._data.size)

    def data_ptr(self):
        """The address of the first element."""
        face = getattr(self._data, "__cuda_array_interface__", None)
        return (face or self._data.__array_interface__)["data"][0]

    def storage_offset(self):
        """How many elements the first element lies past the start of the memory it shares
        (0 for a tensor that owns its memory; 4 for `x[1]` of a (3, 4) tensor)."""
        owner, kind = self._data, type(self._data)
        while isinstance(owner.base, kind):
            owner = owner.base
        start = Tensor._make(owner).data_ptr()
        return (self.data_ptr() - start) // self._data.itemsize

    def is_contiguous(self, memory_format=None):
        """Whether the elements lie in row-major order without gaps (sizes of 1 aside)."""
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dimension (a tuple), or along
        `dim`. Strides of dimensions of size 1 may differ from torch's; they never matter."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        if dim is None:
            return strides
        if not -len(strides) <= dim < len(strides):
            raise IndexError(f"stride: dimension out of range (expected to be in range of "
                             f"[{-len(strides)}, {len(strides) - 1}], but got {dim})")
        return strides[dim]

    # -- in place -----------------------------------------------------------------------
    def _inplace(self, op, compute, *inputs):
        """The tail of every in-place op: `compute(old)` gives, out of place, this tensor's
        new value from `old`, a stand-in holding its current value and history; the result
        is written into this tensor's memory (its version goes up). Torch's rule: inside a
        recorded graph the tensor's history becomes the op's node, so gradients flow
        through the old value; a leaf that requires grad (or a view of one) is refused;
        writing through a view rewrites its base's history too (torch's CopySlices). A
        value the op's own backward needs is kept as a copy; a value another node saved
        and this op overwrites is an error when that node's backward runs. `inputs` are
        the op's other tensors."""
        recording = grad_mode._enabled
        base = self._viewed_base()
        self._refuse_a_leaf(op)
        if recording and base is not None and base.requires_grad and base.grad_fn is None:
            raise RuntimeError(f"{op}: this tensor is a view of a leaf tensor that requires "
                               "grad, which cannot be changed in place; clone the leaf first")
        old = self._stand_in()
        result = compute(old)
        recording = recording and (result.requires_grad or self.requires_grad
                                   or (base is not None and base.requires_grad))
        if recording and not result.requires_grad:  # a constant now (fill_): gradient 0
            result = result + old * 0
        if recording and _saved_by(result.grad_fn, old, inputs):
            old._data = old._data.copy()           # this op's backward reads the old value
        self._write(result, op)
        if not recording:
            return self
        self.requires_grad, self.grad_fn = True, result.grad_fn
        self._output_nr = result._output_nr
        if base is not None:
            self._rewrite_base(base)
        return self

    def _refuse_a_leaf(self, op):
        """Torch's rule: a leaf that requires grad is not changed in place while recording."""
        if grad_mode._enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be changed in "
                               "place (its .grad would belong to values it no longer has); "
                               "change it under nnlab.no_grad(), or work on a clone")

    def _stand_in(self):
        """A Tensor holding this one's current memory and history (what an in-place op reads
        as the old value once this tensor's history is rewritten)."""
        return Tensor._make(self._data, self.requires_grad, self.grad_fn, self._output_nr)

    def _viewed_base(self):
        """The tensor whose memory this one views, or None (not a view, or a view op that
        had to copy)."""
        base = getattr(self, "_base", None)
        if base is None or not np.may_share_memory(self._data, base._data):
            return None
        return base

    def _rewrite_base(self, base):
        """After a write through this view: base's new value is its old one with this
        view's region replaced (one ViewPut node), and this view reads from that."""
        new_base = _ops.index.view_put(base._stand_in(), self, self._view)
        base.requires_grad, base.grad_fn = True, new_base.grad_fn
        base._output_nr = new_base._output_nr
        view = _ops.index.replay_view(self._view, base)
        self.grad_fn, self._output_nr = view.grad_fn, view._output_nr

    def _write(self, result, op):
        """Copy result's values into this tensor's memory and count a new version."""
        if result._data is not self._data:
            xp = backend.get_array_module(self._data)
            try:
                xp.copyto(self._data, result._data, casting="same_kind")
            except TypeError:
                raise TypeError(f"{op}: the result has dtype {result.dtype}, which cannot be "
                                f"written into a {self.dtype} tensor in place") from None
            except ValueError as e:
                raise RuntimeError(f"{op}: cannot write a result of shape {result.shape} into "
                                   f"this tensor of shape {self.shape} in place ({e})") from None
        self._count_version(op)

    def _count_version(self, op):
        """One more version, made by `op` (named when a stale saved tensor is found)."""
        counter = self._version_counter
        counter[0] += 1
        counter[1:] = [op]

    def _reshape_(self, op, compute):
        """An in-place op that changes only the shape and strides (t_, squeeze_, ...)."""
        self._refuse_a_leaf(op)
        result = compute(self._stand_in())
        self._data = result._data
        self._count_version(op)
        if result.requires_grad:
            self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
        return self

    # arithmetic
    def add_(self, other, alpha=1):
        return self._inplace("add_", lambda t: _ops.add(t, other, alpha), other)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", lambda t: _ops.sub(t, other, alpha), other)

    def mul_(self, other):
        return self._inplace("mul_", lambda t: _ops.mul(t, other), other)

    def div_(self, other):
        return self._inplace("div_", lambda t: _ops.div(t, other), other)

    def pow_(self, exponent):
        return self._inplace("pow_", lambda t: _ops.pow(t, exponent), exponent)

    def neg_(self):
        return self._inplace("neg_", _ops.neg)

    def lerp(self, end, weight):
        return _ops.lerp(self, end, weight)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return _ops.addcmul(self, tensor1, tensor2, value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return _ops.addcdiv(self, tensor1, tensor2, value)

    def lerp_(self, end, weight):
        return self._inplace("lerp_", lambda t: _ops.lerp(t, end, weight), end, weight)

    def addcmul_(self, tensor1, tensor2, value=1):
        return self._inplace("addcmul_", lambda t: _ops.addcmul(t, tensor1, tensor2, value),
                             tensor1, tensor2)

    def addcdiv_(self, tensor1, tensor2, value=1):
        return self._inplace("addcdiv_", lambda t: _ops.addcdiv(t, tensor1, tensor2, value),
                             tensor1, tensor2)

    # elementwise maps
    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda t: _ops.clamp(t, min, max), min, max)

    def clamp_min_(self, min):
        return self._inplace("clamp_min_", lambda t: _ops.clamp(t, min=min), min)

    def clamp_max_(self, max):
        return self._inplace("clamp_max_", lambda t: _ops.clamp(t, max=max), max)

    def relu_(self):
        return self._inplace("relu_", lambda t: _ops.elementwise.Relu.apply(t, True))

    def sigmoid_(self):
        return self._inplace("sigmoid_", _ops.sigmoid)

    def tanh_(self):
        return self._inplace("tanh_", _ops.tanh)

    def exp_(self):
        return self._inplace("exp_", _ops.exp)

    def log_(self):
        return self._inplace("log_", _ops.log)

    def sqrt_(self):
        return self._inplace("sqrt_", _ops.sqrt)

    def abs_(self):
        return self._inplace("abs_", _ops.abs)

    def sign_(self):
        return self._inplace("sign_", _ops.sign)

    def floor_(self):
        return self._inplace("floor_", _ops.floor)

    def round_(self):
        return self._inplace("round_", _ops.round)

    # writes
    def copy_(self, src, non_blocking=False):
        src = src if isinstance(src, Tensor) else Tensor(src)
        return self._inplace("copy_", lambda t: _value_of(t, src), src)

    def fill_(self, value):
        value = value if isinstance(value, Tensor) else Tensor(value)
        return self._inplace("fill_", lambda t: _value_of(t, value), value)

    def zero_(self):
        return self.fill_(0)

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", lambda t: _ops.masked_fill(t, mask, value), value)

    def index_fill_(self, dim, index, value):
        return self._inplace("index_fill_", lambda t: _ops.index_fill(t, dim, index, value),
                             value)

    def index_copy_(self, dim, index, source):
        return self._inplace("index_copy_", lambda t: _ops.index_copy(t, dim, index, source),
                             source)

    def index_add_(self, dim, index, source, alpha=1):
        return self._inplace("index_add_",
                             lambda t: _ops.index_add(t, dim, index, source, alpha), source)

    def scatter_(self, dim, index, src=None, value=None):
        return self._inplace("scatter_", lambda t: _ops.scatter(t, dim, index, src, value),
                             src)

    def scatter_add_(self, dim, index, src):
        return self._inplace("scatter_add_", lambda t: _ops.scatter_add(t, dim, index, src),
                             src)

    def __setitem__(self, key, value):
        self._inplace("__setitem__", lambda t: _ops.index_put(t, key, value), value)

    # random fills (each draws from nnlab's generator)
    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        return self._fill_random("uniform_",
                                 _ops.random_array("uniform", self, a, b, generator))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return self._fill_random("normal_",
                                 _ops.random_array("normal", self, mean, std, generator))

    def bernoulli_(self, p=0.5, *, generator=None):
        u = _ops.random_array("uniform", self, 0.0, 1.0, generator)
        return self._fill_random("bernoulli_", u < (p._data if isinstance(p, Tensor) else p))

    def exponential_(self, lambd=1.0, *, generator=None):
        u = _ops.random_array("uniform", self, 0.0, 1.0, generator)   # -log(1 - u) / lambda
        return self._fill_random("exponential_", -backend.get_array_module(u).log1p(-u) / lambd)

    def _fill_random(self, op, draw):
        return self._inplace(op, lambda t: _value_of(t, Tensor._make(draw)))

    # shape and strides
    def t_(self):
        return self._reshape_("t_", lambda t: t.t())

    def transpose_(self, dim0, dim1):
        return self._reshape_("transpose_", lambda t: t.transpose(dim0, dim1))

    def unsqueeze_(self, dim):
        return self._reshape_("unsqueeze_", lambda t: t.unsqueeze(dim))

    def squeeze_(self, dim=None):
        return self._reshape_("squeeze_", lambda t: t.squeeze(dim))

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

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

    # -- products, scans and comparisons (issue 12) --
    is_sparse = False

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return _ops.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def kron(self, other):
        return _ops.kron(self, other)

    def cross(self, other, dim=None):
        return _ops.cross(self, other, dim)

    def dist(self, other, p=2):
        return _ops.dist(self, other, p)

    def diag(self, diagonal=0):
        return _ops.diag(self, diagonal)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return _ops.diag_embed(self, offset, dim1, dim2)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return _ops.diagonal(self, offset, dim1, dim2)

    def trace(self):
        return _ops.trace(self)

    def narrow(self, dim, start, length):
        return _ops.narrow(self, dim, start, length)

    def rot90(self, k=1, dims=(0, 1)):
        return _ops.rot90(self, k, dims)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return _ops.diff(self, n, dim, prepend, append)

    def tensor_split(self, indices_or_sections, dim=0):
        return _ops.tensor_split(self, indices_or_sections, dim)

    def swapaxes(self, axis0, axis1):
        return _ops.swapaxes(self, axis0, axis1)

    def swapdims(self, dim0, dim1):
        return _ops.swapdims(self, dim0, dim1)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return _ops.repeat_interleave(self, repeats, dim, output_size=output_size)

    def unflatten(self, dim, sizes):
        return _ops.unflatten(self, dim, sizes)

    def ndimension(self):
        return self.ndim

    def cumprod(self, dim, *, dtype=None):
        return _ops.cumprod(self, dim, dtype=dtype)

    def logcumsumexp(self, dim):
        return _ops.logcumsumexp(self, dim)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ops.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ops.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        return _ops.equal(self, other)

    def erfinv(self):
        return _ops.erfinv(self)

    def lgamma(self):
        return _ops.lgamma(self)

    def digamma(self):
        return _ops.digamma(self)

    def polygamma(self, n):
        return _ops.polygamma(n, self)

    def softmax(self, dim, dtype=None):
        return _ops.softmax(self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        return _ops.log_softmax(self, dim, dtype)

    def to_sparse(self, sparse_dim=None):
        return _ops.to_sparse(self, sparse_dim)

    def to_dense(self, dtype=None):
        return self if dtype is None else self.to(dtype)

    # -- sorting and selection (ops/sorting.py, ops/selection.py) --
    def sort(self, dim=-1, descending=False, stable=False):
        return _ops.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _ops.argsort(self, dim, descending, stable)

    def msort(self):
        return _ops.msort(self)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _ops.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return _ops.kthvalue(self, k, dim, keepdim)

    def median(self, dim=None, keepdim=False):
        return _ops.median(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim=False):
        return _ops.nanmedian(self, dim, keepdim)

    def mode(self, dim=-1, keepdim=False):
        return _ops.mode(self, dim, keepdim)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return _ops.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return _ops.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def cummax(self, dim):
        return _ops.cummax(self, dim)

    def cummin(self, dim):
        return _ops.cummin(self, dim)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _ops.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return _ops.unique_consecutive(self, return_inverse, return_counts, dim)

    def nonzero(self, *, as_tuple=False):
        return _ops.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return _ops.argwhere(self)

    def count_nonzero(self, dim=None):
        return _ops.count_nonzero(self, dim)

    def bincount(self, weights=None, minlength=0):
        return _ops.bincount(self, weights, minlength)

    def histc(self, bins=100, min=0, max=0):
        return _ops.histc(self, bins, min, max)

    def aminmax(self, *, dim=None, keepdim=False):
        return _ops.aminmax(self, dim=dim, keepdim=keepdim)

    def masked_select(self, mask):
        return _ops.masked_select(self, mask)

    def take(self, index):
        return _ops.take(self, index)

    def take_along_dim(self, indices, dim=None):
        return _ops.take_along_dim(self, indices, dim)


def _sizes(args):
    """`f(2, 3)` and `f((2, 3))` both mean the shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


def _value_of(t, src):
    """src cast to t's dtype and broadcast to t's shape, as a node of its own (the new value
    of `t.copy_(src)` or `t.fill_(src)`)."""
    out = _ops.cast(_ops.broadcast_to(src, t.shape), t.dtype)
    if out is src and src.requires_grad and grad_mode._enabled:
        out = _ops.clone(src)   # t must not take src's place in the graph (a leaf's, say)
    return out


def _saved_by(node, tensor, inputs):
    """Whether a node made by an in-place op's computation (from `node` back to where its
    inputs' histories begin) saved `tensor` for its backward."""
    stops = {id(t.grad_fn) for t in (tensor, *inputs)
             if isinstance(t, Tensor) and t.grad_fn is not None}
    pending, seen = [node], set()
    while pending:
        n = pending.pop()
        if n is None or id(n) in stops or id(n) in seen:
            continue
        seen.add(id(n))
        saved = n._saved if isinstance(n._saved, tuple) else ()
        if any(entry[0] == _INPUT_ENTRY and entry[1] is tensor for entry in saved):
            return True
        pending += [e[0] for e in n._edges if isinstance(e, tuple)]
    return False


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


# Tensor's methods name the ops of floor 3, which themselves build on Tensor: the
# imports are bound here, after the class, so that either side can be imported first.
from .. import ops as _ops  # noqa: E402
from . import engine as _engine  # noqa: E402
from .function import _INPUT as _INPUT_ENTRY  # noqa: E402
