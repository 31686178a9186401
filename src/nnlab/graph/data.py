"""`Data`: one graph as named attributes, as torch_geometric.data.Data (PyG 2.8).

    x (N, F) node features, edge_index (2, E) int64, edge_attr (E, D), y, pos (N, d),
    and any other keyword: train_mask, num_nodes, a name, ...

Attributes are kept in one ordered dict. A key containing 'index' (and 'face') is
concatenated along its last dimension when graphs are batched and shifted by the number
of nodes; a key containing 'batch' is shifted by its largest value plus one; everything
else is concatenated along dim 0 (`__cat_dim__`, `__inc__`, as PyG's).
"""
import copy
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from ..autograd.tensor import Tensor

N_KEYS = ("x", "feat", "pos", "batch", "node_type", "n_id", "tf")   # reveal num_nodes
E_KEYS = ("edge_index", "edge_weight", "edge_attr", "edge_type", "e_id")
KNOWN = ("x", "edge_index", "edge_weight", "edge_attr", "y", "pos", "batch", "time", "face")


def _is_array(value):
    return isinstance(value, (Tensor, np.ndarray)) or (
        hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic))


def _array(value):
    return value._data if isinstance(value, Tensor) else value


def size_repr(key, value, indent=0):
    """`key=...` as PyG prints it: a Tensor's shape as a list, a 0-d Tensor's value, a
    string quoted, a sequence's length, a mapping's items."""
    pad = " " * indent
    if _is_array(value) and len(value.shape) == 0:
        out = _array(value).item()
    elif _is_array(value):
        out = str(list(value.shape))
    elif isinstance(value, str):
        out = f"'{value}'"
    elif isinstance(value, (Sequence, set)):
        out = str([len(value)])
    elif isinstance(value, Mapping) and len(value) == 0:
        out = "{}"
    elif isinstance(value, Mapping) and len(value) == 1 and not isinstance(
            next(iter(value.values())), Mapping):
        out = "{ " + ", ".join(size_repr(k, v) for k, v in value.items()) + " }"
    elif isinstance(value, Mapping):
        lines = [size_repr(k, v, indent + 2) for k, v in value.items()]
        out = "{\n" + ",\n".join(lines) + ",\n" + pad + "}"
    else:
        out = str(value)
    key = str(key).replace("'", "")
    return f"{pad}{key}={out}"


class Data:
    """A graph: `Data(x=None, edge_index=None, edge_attr=None, y=None, pos=None, **kwargs)`.
    Attributes set to None are not stored (`'x' in data` is False); reading one of PyG's
    named attributes (x, edge_index, edge_attr, edge_weight, y, pos, batch, time, face)
    that is not stored gives None, any other missing name an AttributeError.

    `num_nodes`: the stored 'num_nodes' if set, else the first dimension of x / pos /
    batch (or of a key containing 'node'), else max(edge_index) + 1 with PyG's warning.
    `num_edges`: edge_index's second dimension (or edge_attr's first)."""

    def __init__(self, x=None, edge_index=None, edge_attr=None, y=None, pos=None, **kwargs):
        object.__setattr__(self, "_store", {})
        for key, value in dict(x=x, edge_index=edge_index, edge_attr=edge_attr, y=y,
                               pos=pos, **kwargs).items():
            if value is not None:
                self._store[key] = value

    # -- the mapping --------------------------------------------------------------------
    def __getattr__(self, key):
        store = object.__getattribute__(self, "_store")
        if key in store:
            return store[key]
        if key in KNOWN:
            return None
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{key}'")

    def __setattr__(self, key, value):
        prop = getattr(type(self), key, None)
        if isinstance(prop, property):
            if prop.fset is None:
                raise AttributeError(f"{type(self).__name__}: '{key}' cannot be set")
            prop.fset(self, value)
        elif value is None:
            self._store.pop(key, None)
        else:
            self._store[key] = value

    def __delattr__(self, key):
        self._store.pop(key, None)

    def __getitem__(self, key):
        return self._store[key]

    def __setitem__(self, key, value):
        setattr(self, key, value)

    def __delitem__(self, key):
        self._store.pop(key, None)

    def __contains__(self, key):
        return key in self._store

    def __len__(self):
        return len(self._store)

    def __iter__(self):
        """(key, value) pairs, as PyG's."""
        return iter(list(self._store.items()))

    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state):
        for key, value in state.items():
            object.__setattr__(self, key, value)

    def keys(self):
        """The stored attribute names, in insertion order (PyG 2.8's list is unordered)."""
        return list(self._store)

    def to_dict(self):
        return dict(self._store)

    def get(self, key, default=None):
        return self._store.get(key, default)

    def update(self, data):
        for key, value in (data._store if isinstance(data, Data) else data).items():
            setattr(self, key, value)
        return self

    def __repr__(self):
        name = type(self).__name__
        if any(isinstance(v, Mapping) for v in self._store.values()):
            info = ",\n".join(size_repr(k, v, indent=2) for k, v in self._store.items())
            return f"{name}(\n{info}\n)"
        return f"{name}({', '.join(size_repr(k, v) for k, v in self._store.items())})"

    # -- sizes --------------------------------------------------------------------------
    @property
    def num_nodes(self):
        store = self._store
        if "num_nodes" in store:
            return store["num_nodes"]
        for key, value in store.items():
            if _is_array(value) and key in N_KEYS:
                return int(value.shape[self.__cat_dim__(key, value)])
        for key, value in store.items():
            if _is_array(value) and "node" in key:
                return int(value.shape[self.__cat_dim__(key, value)])
        if "adj" in store and _is_array(store["adj"]):
            return int(store["adj"].shape[0])
        warnings.warn(f"Unable to accurately infer 'num_nodes' from the attribute set "
                      f"'{set(store)}'. Please explicitly set 'num_nodes' as an attribute "
                      f"of 'data' to suppress this warning", stacklevel=2)
        for key in ("edge_index", "face"):
            if key in store and _is_array(store[key]):
                a = _array(store[key])
                return int(a.max()) + 1 if a.size else 0
        return None

    @num_nodes.setter
    def num_nodes(self, value):
        if value is None:
            self._store.pop("num_nodes", None)
        else:
            self._store["num_nodes"] = value

    @property
    def num_edges(self):
        store = self._store
        if "num_edges" in store:
            return store["num_edges"]
        for key, value in store.items():
            if _is_array(value) and key in E_KEYS:
                return int(value.shape[self.__cat_dim__(key, value)])
        for key, value in store.items():
            if _is_array(value) and "edge" in key:
                return int(value.shape[self.__cat_dim__(key, value)])
        return 0

    @property
    def num_node_features(self):
        x = self._store.get("x")
        if not _is_array(x):
            return 0
        return 1 if len(x.shape) == 1 else int(x.shape[-1])

    @property
    def num_features(self):
        return self.num_node_features

    @property
    def num_edge_features(self):
        e = self._store.get("edge_attr")
        if not _is_array(e):
            return 0
        return 1 if len(e.shape) == 1 else int(e.shape[-1])

    def is_node_attr(self, key):
        """Whether attribute `key` holds one row per node (PyG's rule for a graph's store:
        its size along the cat dim is num_nodes, and not num_edges unless the name lacks
        'edge')."""
        return self._attr_kind(key) == "node"

    def is_edge_attr(self, key):
        """Whether attribute `key` holds one row per edge (its size along the cat dim is
        num_edges; when num_nodes == num_edges, only if its name contains 'edge')."""
        return self._attr_kind(key) == "edge"

    def _attr_kind(self, key):
        value = self._store[key]
        if isinstance(value, (list, tuple)):
            return "edge" if len(value) == self.num_edges else "other"
        if not _is_array(value) or len(value.shape) == 0:
            return "other"
        size = value.shape[self.__cat_dim__(key, value)]
        num_nodes, num_edges = self.num_nodes, self.num_edges
        if size != num_edges:
            return "node" if size == num_nodes else "other"
        if num_edges != num_nodes or "edge" in key:
            return "edge"
        return "node"

    # -- batching rules -----------------------------------------------------------------
    def __cat_dim__(self, key, value, *args, **kwargs):
        return -1 if "index" in key or key == "face" else 0

    def __inc__(self, key, value, *args, **kwargs):
        if "batch" in key and isinstance(value, Tensor):
            return int(value._data.max()) + 1
        if "index" in key or key == "face":
            num_nodes = self.num_nodes
            if num_nodes is None:
                raise RuntimeError(f"Unable to infer 'num_nodes' from the attribute '{key}'. "
                                   "Please explicitly set 'num_nodes' as an attribute of "
                                   "'data' to prevent this error")
            return num_nodes
        return 0

    # -- graph questions ----------------------------------------------------------------
    def is_undirected(self):
        from .utils.undirected import is_undirected
        if self.edge_index is None:
            return True
        return is_undirected(self.edge_index, self._store.get("edge_attr"), self.num_nodes)

    def is_directed(self):
        return not self.is_undirected()

    def has_self_loops(self):
        from .utils.checks import contains_self_loops
        return self.edge_index is not None and contains_self_loops(self.edge_index)

    def has_isolated_nodes(self):
        from .utils.checks import contains_isolated_nodes
        if self.num_nodes is None:
            raise NameError("Unable to infer 'num_nodes'")
        edge_index = self.edge_index
        if edge_index is None:
            return self.num_nodes > 0
        return contains_isolated_nodes(edge_index, self.num_nodes)

    # -- copies and devices -------------------------------------------------------------
    def apply(self, func, *keys):
        """Apply `func` to every Tensor attribute (or only those in `keys`); returns self."""
        for key, value in list(self._store.items()):
            if (not keys or key in keys) and isinstance(value, Tensor):
                self._store[key] = func(value)
        return self

    def to(self, device, *keys, non_blocking=False):
        """This graph with its Tensors (or those in `keys`) moved to `device`, in place."""
        return self.apply(lambda t: t.to(device, non_blocking=non_blocking), *keys)

    def cpu(self, *keys):
        return self.to("cpu", *keys)

    def cuda(self, device=None, *keys, non_blocking=False):
        return self.to("cuda" if device is None else device, *keys,
                       non_blocking=non_blocking)

    def detach(self, *keys):
        return self.apply(lambda t: t.detach(), *keys)

    def clone(self, *keys):
        """A deep copy: Tensors cloned, everything else deep-copied."""
        out = copy.copy(self)
        object.__setattr__(out, "_store", {
            k: (v.clone() if isinstance(v, Tensor) and (not keys or k in keys)
                else copy.deepcopy(v)) for k, v in self._store.items()})
        return out

    def __copy__(self):
        out = type(self).__new__(type(self))
        object.__setattr__(out, "__dict__", dict(self.__dict__))
        object.__setattr__(out, "_store", dict(self._store))
        return out

    def __deepcopy__(self, memo):
        out = type(self).__new__(type(self))
        for key, value in self.__dict__.items():
            object.__setattr__(out, key, copy.deepcopy(value, memo))
        return out
