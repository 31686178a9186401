"""A restricted unpickler for Planetoid's Python 2 pickles: it builds numpy arrays, the
state of scipy.sparse CSR / CSC matrices and the adjacency dict of lists, and refuses
every other global before anything is called.

What the files reference (`pickletools.dis` on ind.{cora,citeseer}.*):
    x, tx, allx     scipy.sparse.csr.csr_matrix (NEWOBJ + BUILD with a state dict of
                    numpy arrays), numpy.core.multiarray._reconstruct, numpy.ndarray,
                    numpy.dtype
    y, ty, ally     numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype
    graph           collections.defaultdict, __builtin__.list
A sparse matrix is not rebuilt through scipy: its pickled state (data, indices, indptr,
shape) is kept in a `SparseState` and densified here, so no scipy code runs either.
"""
import collections
import io
import pickle

import numpy as np

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct


class SparseState:
    """The pickled state of a scipy.sparse CSR / CSC matrix, kept as plain arrays."""

    format = None

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f"a sparse matrix's state must be a dict; got "
                                         f"{type(state).__name__}")
        self.format = state.get("format", self.format)
        self.shape = tuple(int(s) for s in state.get("_shape", state.get("shape", ())))
        self.data = np.asarray(state["data"])
        self.indices = np.asarray(state["indices"], dtype=np.int64)
        self.indptr = np.asarray(state["indptr"], dtype=np.int64)

    def toarray(self, dtype=np.float32):
        """The dense matrix (duplicates add up, as scipy's todense)."""
        rows, cols = self.shape if self.format == "csr" else self.shape[::-1]
        major = np.repeat(np.arange(rows), np.diff(self.indptr))
        out = np.zeros((rows, cols), dtype=dtype)
        flat = major * cols + self.indices
        if np.unique(flat).size == flat.size:
            out.reshape(-1)[flat] = self.data
        else:
            np.add.at(out, (major, self.indices), self.data.astype(dtype))
        return out if self.format == "csr" else out.T.copy()


class _CSR(SparseState):
    format = "csr"


class _CSC(SparseState):
    format = "csc"


ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("collections", "defaultdict"): collections.defaultdict,
    ("__builtin__", "list"): list, ("builtins", "list"): list,
    ("__builtin__", "dict"): dict, ("builtins", "dict"): dict,
    ("__builtin__", "set"): set, ("builtins", "set"): set,
}
for _module in ("scipy.sparse.csr", "scipy.sparse._csr", "scipy.sparse"):
    ALLOWED[(_module, "csr_matrix")] = _CSR
for _module in ("scipy.sparse.csc", "scipy.sparse._csc", "scipy.sparse"):
    ALLOWED[(_module, "csc_matrix")] = _CSC


class RestrictedUnpickler(pickle.Unpickler):
    """pickle.Unpickler whose `find_class` admits only `ALLOWED` (numpy's array
    reconstruction, scipy.sparse CSR / CSC as `SparseState`, defaultdict, list, dict,
    set); any other global is an UnpicklingError naming it, raised before it is imported
    or called. Persistent ids are refused by pickle itself."""

    def __init__(self, file, what="pickle"):
        super().__init__(file, encoding="latin1")
        self.what = what

    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            allowed = ", ".join(sorted({f"{m}.{n}" for m, n in ALLOWED}))
            raise pickle.UnpicklingError(
                f"{self.what}: the pickle refers to '{module}.{name}', which the restricted "
                f"unpickler does not allow; nothing was imported or run. Allowed: "
                f"{allowed}") from None


def restricted_load(data, what="pickle"):
    """Unpickle `data` (bytes) with RestrictedUnpickler (latin1 for Python 2 strings)."""
    return RestrictedUnpickler(io.BytesIO(data), what).load()
