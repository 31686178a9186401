"""Sparse COO tensors (torch.sparse): `sparse_coo_tensor`, `Tensor.to_sparse()`, and the
product `sparse.mm` (= `spmm`) of a sparse matrix with a dense one.

A sparse tensor is a small class of its own, not a `Tensor` subclass: it holds an int64
(ndim, nnz) tensor of indices, a tensor of values (nnz, *dense dims) and a size, and
every Tensor op would be wrong on it, so none is inherited. The values are an ordinary
Tensor, so gradients reach them: `to_dense`, `coalesce` and `mm` are differentiable with
respect to the values (and `mm` with respect to its dense operand), and a sparse tensor
made with requires_grad=True shows its gradient as a sparse tensor with its own indices
(`.grad`), as torch's sparse.mm gives. scipy.sparse does the products (imported on first
use).
"""
import math

import numpy as np

from .autograd.function import Function
from .autograd.tensor import Tensor
from .ops.index import getitem, index_add, segment_sum
from .ops.shape import reshape


def _as_tensor(x, dtype=None):
    t = x if isinstance(x, Tensor) else Tensor(x)
    return t if dtype is None or t.dtype == dtype else t.to(dtype)


class SparseTensor:
    """A COO tensor: value values[k] at position indices[:, k] (repeats add up)."""

    is_sparse = True
    layout = "sparse_coo"

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

    def to_sparse(self):
        return self

    def detach(self):
        return SparseTensor(self._idx, self._vals.detach(), self._size, self._coalesced)

    def t(self):
        """The transpose of a 2-D sparse matrix."""
        if self.sparse_dim() != 2 or self.dense_dim():
            raise RuntimeError(f"sparse t(): expects a 2-D sparse matrix, got size "
                               f"{self._size}")
        idx = self._idx.numpy()[::-1].copy()
        return SparseTensor(Tensor(idx), self._vals, self._size[::-1])

    def __matmul__(self, other):
        return mm(self, other)

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


def mm(sparse, dense):
    """The product of a 2-D sparse matrix (n, m) and a dense matrix (m, p): dense (n, p).
    Gradients flow to the dense operand and to the sparse operand's values."""
    if not isinstance(sparse, SparseTensor):
        raise TypeError(f"sparse.mm: expected a sparse first operand, got "
                        f"{type(sparse).__name__} (use mm for two dense tensors)")
    if isinstance(dense, SparseTensor):
        raise NotImplementedError("sparse.mm: the product of two sparse tensors is not "
                                  "supported (convert one with .to_dense())")
    dense = _as_tensor(dense)
    if sparse.ndim != 2 or sparse.dense_dim() or dense.ndim != 2 or \
            sparse.shape[1] != dense.shape[0]:
        raise ValueError(f"sparse.mm: expected sparse (n, m) @ dense (m, p), got sizes "
                         f"{sparse.shape} and {tuple(dense.shape)}")
    values = sparse._vals
    if values.dtype != dense.dtype:
        raise TypeError(f"sparse.mm: the operands have dtypes {values.dtype} and "
                        f"{dense.dtype}; expected one dtype")
    rows, cols = sparse._idx.numpy()
    return SparseMM.apply(values, dense, rows, cols, sparse.shape)


def spmm(input, mat2):
    """torch.spmm: `sparse.mm`."""
    return mm(input, mat2)
