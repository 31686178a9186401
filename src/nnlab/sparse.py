"""Sparse COO tensors (torch.sparse): `sparse_coo_tensor`, `Tensor.to_sparse()`, their
arithmetic, `sparse.sum`, and the products `sparse.mm` (= `spmm`) of a sparse matrix with
a dense or a sparse one.

A sparse tensor is a small class of its own, not a `Tensor` subclass: it holds an int64
(ndim, nnz) tensor of indices, a tensor of values (nnz, *dense dims) and a size, and
every Tensor op would be wrong on it, so none is inherited. The values are an ordinary
Tensor, so gradients reach them: `to_dense`, `coalesce` and `mm` are differentiable with
respect to the values (and `mm` with respect to its dense operand), and a sparse tensor
made with requires_grad=True shows its gradient as a sparse tensor with its own indices
(`.grad`), as torch's sparse.mm gives. scipy.sparse does the products (imported on first
use).

Arithmetic gives torch's result layouts: sparse + sparse, sparse * (scalar, dense or
sparse), sparse / scalar, sum over some sparse dims and sparse @ sparse are sparse;
sparse + dense (which torch refuses), sum over all dims and sparse @ dense are dense. A
dense op handed a sparse operand (`dense + sparse`, `dense @ sparse`, `nnlab.mm(sparse,
dense)`) sees its dense form: `Tensor(sparse)` densifies it (`SparseTensor._dense_array`),
so those give torch's values and the dense operand's gradient; `dense * sparse` and
`nnlab.mm(sparse, sparse)` are dense there, where torch's are sparse.
"""
import math

import numpy as np

from . import backend
from .autograd import grad_mode
from .autograd.function import Function
from .autograd.tensor import Tensor
from .ops.broadcast import broadcast_to
from .ops.convert import cast, clone, to_device
from .ops.index import getitem, index_add, segment_sum
from .ops.shape import cat, reshape

_SCALARS = (bool, int, float, np.generic)


def _as_tensor(x, dtype=None):
    t = x if isinstance(x, Tensor) else Tensor(x)
    return t if dtype is None or t.dtype == dtype else t.to(dtype)


def _promote(a, b):
    """torch's result dtype of two tensors: a float meeting an integer or bool keeps the
    float's dtype (float32 + int64 -> float32); otherwise the wider of the two."""
    if a == b:
        return a
    if (a.kind == "f") != (b.kind == "f"):
        return a if a.kind == "f" else b
    return np.promote_types(a, b)


class SparseTensor:
    """A COO tensor: value values[k] at position indices[:, k] (repeats add up)."""

    is_sparse = True
    layout = "sparse_coo"
    __array_ufunc__ = None   # numpy defers to the reflected operators below

    def __init__(self, indices, values, size, coalesced=False):
        self._idx = indices
        self._vals = values
        self._size = tuple(int(n) for n in size)
        self._coalesced = coalesced

    # -- torch's accessors -------------------------------------------------------------
    @property
    def shape(self):
        return self._size

    def size(self, dim=None):
        return self._size if dim is None else self._size[dim]

    def dim(self):
        return len(self._size)

    ndim = property(dim)

    @property
    def dtype(self):
        return self._vals.dtype

    @property
    def device(self):
        return self._vals.device

    @property
    def requires_grad(self):
        return self._vals.requires_grad

    def requires_grad_(self, requires_grad=True):
        self._vals.requires_grad_(requires_grad)
        return self

    @property
    def grad(self):
        """dL/dS at each stored position, as a coalesced sparse tensor (None before a
        backward pass), as torch's. Repeated indices store one entry: each copy's value
        has the same gradient, dL/dS at that position, so summing them would count it
        twice."""
        g = self._vals.grad
        if g is None or self._coalesced:
            return None if g is None else SparseTensor(self._idx, g, self._size, True)
        unique, first = np.unique(self._linear(), return_index=True)
        indices = np.stack(np.unravel_index(unique, self._size[:self.sparse_dim()]))
        return SparseTensor(Tensor(indices.astype(np.int64).reshape(self.sparse_dim(), -1)),
                            Tensor(g.numpy()[first]), self._size, True)

    def sparse_dim(self):
        return self._idx.shape[0]

    def dense_dim(self):
        return self._vals.ndim - 1

    def _nnz(self):
        return self._idx.shape[1]

    def _indices(self):
        return self._idx

    def _values(self):
        return self._vals

    def indices(self):
        self._require_coalesced("indices")
        return self._idx

    def values(self):
        self._require_coalesced("values")
        return self._vals

    def is_coalesced(self):
        return self._coalesced

    def _require_coalesced(self, op):
        if not self._coalesced:
            raise RuntimeError(f"sparse tensor {op}(): cannot get {op} on an uncoalesced "
                               "tensor, call .coalesce() first (or use _" + op + "())")

    def _linear(self):
        """Each entry's position in the flattened sparse dims (row-major)."""
        sparse_size = self._size[:self.sparse_dim()]
        if not self._nnz():
            return np.zeros(0, np.int64)
        return np.ravel_multi_index(tuple(self._idx.numpy()), sparse_size).astype(np.int64)

    # -- conversions -------------------------------------------------------------------
    def coalesce(self):
        """The same tensor with sorted, unique indices (the values of repeats summed)."""
        if self._coalesced:
            return self
        unique, inverse = np.unique(self._linear(), return_inverse=True)
        sparse_size = self._size[:self.sparse_dim()]
        indices = np.stack(np.unravel_index(unique, sparse_size)).astype(np.int64) \
            if unique.size else np.zeros((len(sparse_size), 0), np.int64)
        values = segment_sum(self._vals, Tensor(inverse.reshape(-1).astype(np.int64)),
                             len(unique))
        return SparseTensor(Tensor(indices.reshape(len(sparse_size), -1)), values,
                            self._size, coalesced=True)

    def to_dense(self, dtype=None):
        """The dense tensor (repeated indices add up); differentiable in the values."""
        sparse_size = self._size[:self.sparse_dim()]
        dense_size = self._size[self.sparse_dim():]
        flat = Tensor(np.zeros((math.prod(sparse_size),) + dense_size, self._vals.dtype))
        out = index_add(flat, 0, Tensor(self._linear()), self._vals)
        out = reshape(out, self._size)
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None):
        return self

    def _dense_array(self):
        """The dense array, for a dense op handed this tensor (`Tensor(sparse)`). That op
        cannot reach the values, so values that require grad are refused, not dropped."""
        if self.requires_grad and grad_mode.is_grad_enabled():
            raise TypeError(f"a dense op got a sparse tensor (size {self._size}) whose values "
                            "require grad; it would see only the dense form and drop their "
                            "gradient: write .to_dense() on it, or put it first "
                            "(sparse + dense, sparse @ dense, torch.sparse.mm)")
        return self.detach().to_dense()._data

    def detach(self):
        return SparseTensor(self._idx, self._vals.detach(), self._size, self._coalesced)

    def clone(self):
        return SparseTensor(self._idx, clone(self._vals), self._size, self._coalesced)

    def numel(self):
        return math.prod(self._size)

    def __len__(self):
        return self._size[0]

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """This tensor with its values (and indices) in another dtype and/or on another
        device: `to(dtype)`, `to(device[, dtype])`, `to(other)`. Differentiable."""
        device, dtype, _, copy = backend.parse_to(args, device, dtype, non_blocking, copy,
                                                  "sparse to")
        idx, vals = self._idx, self._vals
        if device is not None and not backend.on_device(vals._data, device):
            idx, vals = to_device(idx, device), to_device(vals, device)
        if dtype is not None and dtype != vals.dtype:
            vals = cast(vals, dtype)
        if vals is self._vals and not copy:
            return self
        return SparseTensor(idx, vals if vals is not self._vals else clone(vals), self._size,
                            self._coalesced)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """torch's type name ('torch.sparse.FloatTensor') or this tensor in `dtype`."""
        if dtype is None:
            return backend.type_name(self.dtype, self.device).replace("torch.",
                                                                      "torch.sparse.", 1)
        if isinstance(dtype, str):
            dtype = backend.parse_type_name(dtype.replace("sparse.", ""))[0]
        return self.to(backend.to_dtype(dtype, "sparse type"))

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

    def t(self):
        """The transpose of a 2-D sparse matrix."""
        if self.sparse_dim() != 2 or self.dense_dim():
            raise RuntimeError(f"sparse t(): expects a 2-D sparse matrix, got size "
                               f"{self._size}")
        return self.transpose(0, 1)

    T = property(t)

    def transpose(self, dim0, dim1):
        """Sparse dims dim0 and dim1 swapped (their rows of indices exchanged)."""
        n = self.sparse_dim()
        d0, d1 = (d + self.ndim if d < 0 else d for d in (dim0, dim1))
        if not (0 <= d0 < n and 0 <= d1 < n):
            raise RuntimeError(f"sparse transpose: dims ({dim0}, {dim1}) must both be sparse "
                               f"dims (< {n}) of a tensor of size {self._size}")
        order = list(range(n))
        order[d0], order[d1] = d1, d0
        size = list(self._size)
        size[d0], size[d1] = size[d1], size[d0]
        idx = self._idx.numpy()[order].copy()
        return SparseTensor(Tensor(idx), self._vals, size, self._coalesced and d0 == d1)

    # -- arithmetic --------------------------------------------------------------------
    def _same_size(self, other, op):
        if other.shape != self._size:
            raise ValueError(f"sparse {op}: sizes {self._size} and {other.shape} differ")

    def __add__(self, other):
        """sparse + sparse is sparse (entries concatenated, then coalesced); sparse + dense
        (or a number) is dense. Values promote as torch's dtypes do."""
        if isinstance(other, SparseTensor):
            self._same_size(other, "add")
            dtype = _promote(self.dtype, other.dtype)
            values = cat([_as_tensor(self._vals, dtype), _as_tensor(other._vals, dtype)])
            return SparseTensor(cat([self._idx, other._idx], 1), values,
                                self._size).coalesce()
        return self.to_dense() + other

    def __radd__(self, other):
        return other + self.to_dense()

    def __neg__(self):
        return SparseTensor(self._idx, -self._vals, self._size, self._coalesced)

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __mul__(self, other):
        """Sparse results on this tensor's pattern: values * number, values * the dense
        operand at each index (it must broadcast to this size), or, with another sparse
        tensor, the product on the positions both hold."""
        if isinstance(other, _SCALARS) or isinstance(other, Tensor) and other.ndim == 0:
            return SparseTensor(self._idx, self._vals * other, self._size, self._coalesced)
        if isinstance(other, SparseTensor):
            return self._mul_sparse(other)
        other = _as_tensor(other)
        if np.broadcast_shapes(other.shape, self._size) != self._size:
            raise ValueError(f"sparse mul: a dense operand of shape {tuple(other.shape)} "
                             f"must broadcast to the sparse size {self._size}")
        dense = broadcast_to(other, self._size)
        at = getitem(dense, tuple(Tensor(i) for i in self._idx.numpy()))
        return SparseTensor(self._idx, self._vals * at, self._size, self._coalesced)

    __rmul__ = __mul__

    def _mul_sparse(self, other):
        self._same_size(other, "mul")
        a, b = self.coalesce(), other.coalesce()
        dtype = _promote(a.dtype, b.dtype)
        _, ia, ib = np.intersect1d(a._linear(), b._linear(), assume_unique=True,
                                   return_indices=True)
        values = getitem(_as_tensor(a._vals, dtype), Tensor(ia.astype(np.int64))) * \
            getitem(_as_tensor(b._vals, dtype), Tensor(ib.astype(np.int64)))
        idx = a._idx.numpy()[:, ia].reshape(a.sparse_dim(), -1)
        return SparseTensor(Tensor(idx), values, self._size, True)

    def __truediv__(self, other):
        """values / a number or a 0-d tensor (torch's sparse division takes no other)."""
        if not (isinstance(other, _SCALARS) or isinstance(other, Tensor) and other.ndim == 0):
            raise TypeError(f"sparse div: the divisor must be a number or a 0-d tensor, got "
                            f"{type(other).__name__} of shape {getattr(other, 'shape', None)}")
        return SparseTensor(self._idx, self._vals / other, self._size, self._coalesced)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def sum(self, dim=None, keepdim=False, dtype=None):
        """The sum over `dim` (int or tuple): over every dim (dim=None, or all sparse dims
        without keepdim) a dense tensor; otherwise a coalesced sparse tensor over the dims
        left. Integer values sum to int64, as torch."""
        values = self._vals if dtype is None else _as_tensor(self._vals, dtype)
        if dim is None:
            return values.sum()
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = sorted({d + self.ndim if d < 0 else d for d in dims})
        if any(not 0 <= d < self.ndim for d in dims):
            raise IndexError(f"sparse sum: dim {dim} is out of range for size {self._size}")
        n = self.sparse_dim()
        sparse_dims = [d for d in dims if d < n]
        dense_dims = tuple(d - n + 1 for d in dims if d >= n)
        if dense_dims:
            values = values.sum(dense_dims, keepdim=keepdim)
        if not sparse_dims:
            return SparseTensor(self._idx, values, self._reduced_size(dims, keepdim),
                                self._coalesced)
        left = [d for d in range(n) if d not in sparse_dims]
        if not left:
            return reshape(values.sum(0), self._reduced_size(dims, keepdim))
        idx = self._idx.numpy().copy()
        if keepdim:
            idx[sparse_dims] = 0
        else:
            idx = idx[left]
        return SparseTensor(Tensor(idx), values, self._reduced_size(dims, keepdim)).coalesce()

    def _reduced_size(self, dims, keepdim):
        if keepdim:
            return tuple(1 if d in dims else n for d, n in enumerate(self._size))
        return tuple(n for d, n in enumerate(self._size) if d not in dims)

    def __repr__(self):
        return (f"tensor(indices={self._idx!r},\n       values={self._vals!r},\n"
                f"       size={self._size}, nnz={self._nnz()}, layout=nnlab.sparse_coo)")


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with values[k] at indices[:, k]: indices (sparse_dim, nnz)
    int, values (nnz, *dense dims); size defaults to the smallest that holds the
    indices (max + 1 in each sparse dim, then the values' dense dims)."""
    idx = _as_tensor(indices)
    if idx.dtype.kind not in "iu" or idx.ndim != 2:
        raise ValueError(f"sparse_coo_tensor: indices must be a 2-D integer tensor "
                         f"(sparse_dim, nnz), got shape {tuple(idx.shape)} {idx.dtype}")
    idx = idx.detach().to(np.int64) if idx.dtype != np.int64 else idx.detach()
    vals = _as_tensor(values, dtype)
    if vals.ndim == 0 or vals.shape[0] != idx.shape[1]:
        raise ValueError(f"sparse_coo_tensor: values must have one entry per index column "
                         f"({idx.shape[1]}), got shape {tuple(vals.shape)}")
    a = idx.numpy()
    if a.size and a.min() < 0:
        raise RuntimeError("sparse_coo_tensor: found a negative index")
    if size is None:
        size = tuple(int(n) + 1 for n in a.max(axis=1)) if a.size else (0,) * a.shape[0]
        size = size + tuple(vals.shape[1:])
    size = tuple(int(n) for n in size)
    if len(size) != idx.shape[0] + vals.ndim - 1:
        raise ValueError(f"sparse_coo_tensor: size {size} has {len(size)} dims, expected "
                         f"{idx.shape[0]} sparse + {vals.ndim - 1} dense")
    if a.size and (a.max(axis=1) >= np.asarray(size[:idx.shape[0]])).any():
        raise RuntimeError(f"sparse_coo_tensor: indices {a.max(axis=1).tolist()} (the "
                           f"largest in each dim) are out of range for size {size}")
    if tuple(vals.shape[1:]) != size[idx.shape[0]:]:
        raise ValueError(f"sparse_coo_tensor: values' dense dims {tuple(vals.shape[1:])} "
                         f"differ from size's {size[idx.shape[0]:]}")
    if requires_grad:
        vals = vals.detach().requires_grad_()
    return SparseTensor(idx, vals, size, coalesced=bool(is_coalesced))


def to_sparse(input, sparse_dim=None):
    """The COO form of a dense tensor: its non-zero entries (in row-major order)."""
    if isinstance(input, SparseTensor):
        return input
    n = input.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 < n <= input.ndim:
        raise ValueError(f"to_sparse: sparse_dim must be in [1, {input.ndim}] for a tensor "
                         f"of shape {tuple(input.shape)}, got {sparse_dim}")
    a = input.detach().numpy()
    nonzero = a.reshape(a.shape[:n] + (-1,)).any(axis=-1) if n < a.ndim else a != 0
    idx = np.stack(np.nonzero(nonzero)).astype(np.int64).reshape(n, -1)
    values = getitem(input, tuple(Tensor(i) for i in idx))
    return SparseTensor(Tensor(idx), values, input.shape, coalesced=True)


class SparseMM(Function):
    """y = S @ D for S the (n, m) sparse matrix with `values` at (rows, cols), D (m, p)."""

    @staticmethod
    def forward(ctx, values, dense, rows, cols, shape):
        import scipy.sparse
        ctx.args = (rows, cols, shape)
        ctx.save_for_backward(values if ctx.needs_input_grad[1] else None,
                              dense if ctx.needs_input_grad[0] else None)
        s = scipy.sparse.csr_matrix((values, (rows, cols)), shape=shape)
        return np.asarray(s @ dense, dtype=dense.dtype)

    @staticmethod
    def backward(ctx, gy):
        values, dense = ctx.saved_tensors
        rows, cols, (n, m) = ctx.args
        need_values, need_dense = ctx.needs_input_grad[:2]
        # dL/dvalues_k = sum_p gy[rows_k, p] D[cols_k, p];  dL/dD = S^T gy
        g_values = (getitem(gy, Tensor(rows)) * getitem(dense, Tensor(cols))).sum(-1) \
            if need_values else None
        g_dense = SparseMM.apply(values, gy, cols, rows, (m, n)) if need_dense else None
        return g_values, g_dense


def _sparse_sparse(a, b):
    """S = A @ B for two sparse matrices, sparse on the structural product pattern (every
    (i, k) with some A[i, j] and B[j, k] stored). The values come from A @ dense(B), so
    gradients reach both operands' values; this costs a dense (n, p) intermediate."""
    import scipy.sparse
    n, p = a.shape[0], b.shape[1]

    def pattern(s):
        rows, cols = s._idx.numpy()
        return scipy.sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=s.shape)

    product = (pattern(a) @ pattern(b)).tocoo()
    linear = np.unique(product.row.astype(np.int64) * p + product.col)
    rows, cols = linear // p, linear % p
    values = getitem(mm(a, b.to_dense()), (Tensor(rows), Tensor(cols)))
    return SparseTensor(Tensor(np.stack([rows, cols]).reshape(2, -1)), values, (n, p), True)


def mm(mat1, mat2):
    """The product of two matrices of which at least the first (torch.sparse.mm) or the
    second is sparse: sparse (n, m) @ dense (m, p) and dense @ sparse are dense (n, p),
    sparse @ sparse is sparse. Gradients flow to dense operands and to sparse values."""
    if not isinstance(mat1, SparseTensor) and not isinstance(mat2, SparseTensor):
        raise TypeError(f"sparse.mm: expected a sparse first operand, got "
                        f"{type(mat1).__name__} (use mm for two dense tensors)")
    if not isinstance(mat1, SparseTensor):
        return mm(mat2.t(), _as_tensor(mat1).t()).t()
    if isinstance(mat2, SparseTensor):
        shape2, dtype2, dense_dim2 = mat2.shape, mat2.dtype, mat2.dense_dim()
    else:
        mat2 = _as_tensor(mat2)
        shape2, dtype2, dense_dim2 = tuple(mat2.shape), mat2.dtype, 0
    if mat1.ndim != 2 or mat1.dense_dim() or len(shape2) != 2 or dense_dim2 or \
            mat1.shape[1] != shape2[0]:
        raise ValueError(f"sparse.mm: expected (n, m) @ (m, p) with a sparse operand, got "
                         f"sizes {mat1.shape} and {shape2}")
    if mat1.dtype != dtype2:
        raise TypeError(f"sparse.mm: the operands have dtypes {mat1.dtype} and "
                        f"{dtype2}; expected one dtype")
    if isinstance(mat2, SparseTensor):
        return _sparse_sparse(mat1, mat2)
    rows, cols = mat1._idx.numpy()
    return SparseMM.apply(mat1._vals, mat2, rows, cols, mat1.shape)


def matmul(input, other):
    """torch.matmul with a sparse operand: `mm`, where a 1-D dense operand is a column
    (right) or a row (left) vector whose added dim is dropped."""
    if not isinstance(input, SparseTensor):
        x = _as_tensor(input)
        if x.ndim == 1:
            return matmul(other.t(), x)
        return mm(x, other)
    if isinstance(other, SparseTensor):
        return mm(input, other)
    x = _as_tensor(other)
    if x.ndim == 1:
        return reshape(mm(input, reshape(x, (-1, 1))), (-1,))
    return mm(input, x)


def spmm(input, mat2):
    """torch.spmm: `sparse.mm`."""
    return mm(input, mat2)


def sum(input, dim=None, dtype=None):
    """torch.sparse.sum: the sum of a sparse tensor over `dim` (see SparseTensor.sum)."""
    if not isinstance(input, SparseTensor):
        raise TypeError(f"sparse.sum: expected a sparse tensor, got {type(input).__name__}")
    return input.sum(dim, dtype=dtype)
