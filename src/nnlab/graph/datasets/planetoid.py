"""`Planetoid(root, name)`: the Cora and CiteSeer citation graphs from their raw Planetoid
files (ind.{name}.{x,tx,allx,y,ty,ally,graph,test.index}), read through a restricted
unpickler, giving exactly torch_geometric.datasets.Planetoid's tensors.

The files are found in `root` (or its planetoid/ or {Name}/raw/ subfolder, PyG's layout),
then `$NNLAB_DATA/planetoid`, `~/.cache/nnlab/planetoid`, and the project's
../shared/data/planetoid beside the checkout. nnlab never downloads.
"""
import copy
import os
from itertools import chain
from pathlib import Path

import numpy as np

from ...autograd.tensor import Tensor
from ...data.dataset import Dataset, as_generator
from ..data import Data
from ..utils.coalesce import coalesce
from .safe_pickle import SparseState, restricted_load

NAMES = {"cora": "Cora", "citeseer": "CiteSeer"}
PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def search_folders(root, name):
    """The folders searched for `name`'s raw files, each with where it came from."""
    folders = []
    if root is not None:
        root = Path(root)
        folders += [(root, "root"), (root / "planetoid", "root"), (root / name / "raw", "root")]
    env = os.environ.get("NNLAB_DATA")
    if env:
        folders.append((Path(env) / "planetoid", "NNLAB_DATA"))
    folders.append((Path.home() / ".cache" / "nnlab" / "planetoid", "cache"))
    folders.append((Path(__file__).resolve().parents[5] / "shared" / "data" / "planetoid",
                    "beside the checkout"))
    return folders


def find_raw_files(root, name):
    """{part: path} of ind.{name}.* from the first folder holding all eight; otherwise a
    FileNotFoundError naming the files and every folder searched."""
    files = [f"ind.{name.lower()}.{part}" for part in PARTS]
    folders = search_folders(root, name)
    for folder, _ in folders:
        if all((folder / f).is_file() for f in files):
            return {part: folder / f for part, f in zip(PARTS, files)}
    lines = []
    for folder, source in folders:
        present = [f for f in files if (folder / f).is_file()]
        lines.append(f"  {folder}  [{source}]" + (f" (has only {', '.join(present)})"
                                                   if present else ""))
    raise FileNotFoundError(
        f"Planetoid({name!r}): the raw files {', '.join(files)} were not found in any "
        "folder searched:\n" + "\n".join(lines) + "\nPass root=, or set NNLAB_DATA (its "
        "planetoid/ subfolder is searched); the project keeps them in "
        "../shared/data/planetoid.")


def read_part(path, part, name):
    """One raw file: test.index as int64 (K,), graph as a dict of lists, the rest as a
    dense float32 array (sparse matrices densified), as PyG's read_file."""
    if part == "test.index":
        return np.loadtxt(path, dtype=np.int64, ndmin=1)
    out = restricted_load(path.read_bytes(), f"Planetoid({name!r}): {path.name}")
    if part == "graph":
        if not isinstance(out, dict):
            raise ValueError(f"Planetoid({name!r}): {path.name} holds a "
                             f"{type(out).__name__}; expected a dict of adjacency lists")
        return out
    if isinstance(out, SparseState):
        return out.toarray(np.float32)
    if not isinstance(out, np.ndarray) or out.ndim != 2:
        raise ValueError(f"Planetoid({name!r}): {path.name} holds "
                         f"{type(out).__name__}; expected a 2-D matrix")
    return out.astype(np.float32)


def edge_index_from_dict(graph, num_nodes):
    """The adjacency dict {node: [neighbours]} as edge_index (2, E): self-loops removed,
    duplicates merged, sorted by (col, row), as PyG's edge_index_from_dict."""
    lengths = np.fromiter(map(len, graph.values()), dtype=np.int64, count=len(graph))
    keys = np.fromiter(graph.keys(), dtype=np.int64, count=len(graph))
    row = np.repeat(keys, lengths)
    col = np.fromiter(chain.from_iterable(graph.values()), dtype=np.int64,
                      count=int(lengths.sum()))
    keep = row != col
    edge_index = np.stack([row[keep], col[keep]])
    return coalesce(edge_index, num_nodes=num_nodes, sort_by_row=False)


def read_planetoid_data(files, name):
    """The graph as a Data, built as PyG's read_planetoid_data: x (N, F) float32, y (N,)
    int64 (the arg-max of the one-hot labels), edge_index, and the public split's masks
    (train: the first len(y) nodes, val: the next 500, test: the test.index nodes)."""
    x, tx, allx, y, ty, ally, graph, test_index = (read_part(files[p], p, name)
                                                   for p in PARTS)
    sorted_test = np.sort(test_index)
    if name.lower() == "citeseer":
        # isolated CiteSeer nodes are missing from tx / ty: zero rows fill their places
        span = int(test_index.max() - test_index.min()) + 1
        tx_ext = np.zeros((span, tx.shape[1]), np.float32)
        tx_ext[sorted_test - test_index.min()] = tx
        ty_ext = np.zeros((span, ty.shape[1]), np.float32)
        ty_ext[sorted_test - test_index.min()] = ty
        tx, ty = tx_ext, ty_ext
    features = np.concatenate([allx, tx])
    features[test_index] = features[sorted_test]
    labels = np.concatenate([ally, ty]).argmax(axis=1).astype(np.int64)
    labels[test_index] = labels[sorted_test]
    n = labels.shape[0]
    masks = {}
    for split, index in (("train", np.arange(y.shape[0])),
                         ("val", np.arange(y.shape[0], y.shape[0] + 500)),
                         ("test", test_index)):
        masks[split] = np.zeros(n, dtype=bool)
        masks[split][index] = True
    data = Data(x=Tensor(features), edge_index=edge_index_from_dict(graph, n),
                y=Tensor(labels))
    data.train_mask = Tensor(masks["train"])
    data.val_mask = Tensor(masks["val"])
    data.test_mask = Tensor(masks["test"])
    return data


class Planetoid(Dataset):
    """The citation graph "Cora" (2,708 nodes, 10,556 directed edges, 1,433 features, 7
    classes) or "CiteSeer" (3,327, 9,104, 3,703, 6), as torch_geometric.datasets.Planetoid:
    one graph, `dataset[0]` a Data with x, edge_index, y, train_mask, val_mask, test_mask.

    `split`: 'public' (the Planetoid split: 20 labelled nodes per class for training,
    500 validation, 1,000 test), 'full' (every node outside validation and test trains),
    or 'random' (`num_train_per_class` per class, then `num_val` and `num_test` of the
    rest, drawn with `generator`: NumPy's draws, not torch's). `transform` is applied on
    every access, `pre_transform` once. PubMed and 'geom-gcn' are not provided."""

    def __init__(self, root=None, name="Cora", split="public", num_train_per_class=20,
                 num_val=500, num_test=1000, transform=None, pre_transform=None,
                 force_reload=False, *, generator=None):
        if name.lower() not in NAMES:
            raise ValueError(f"Planetoid: name must be 'Cora' or 'CiteSeer'; got {name!r}")
        split = split.lower()
        if split not in ("public", "full", "random"):
            raise ValueError(f"Planetoid: split must be 'public', 'full' or 'random'; got "
                             f"{split!r} ('geom-gcn' needs files nnlab does not have)")
        self.name, self.split = NAMES[name.lower()], split
        self.transform = transform
        files = find_raw_files(root, self.name)
        self.raw_dir = files["x"].parent
        data = read_planetoid_data(files, self.name)
        if pre_transform is not None:
            data = pre_transform(data)
        if split == "full":
            data.train_mask = Tensor(~(data.val_mask._data | data.test_mask._data))
        elif split == "random":
            self._random_split(data, num_train_per_class, num_val, num_test,
                               as_generator(generator, "Planetoid"))
        self._data = data

    @staticmethod
    def _random_split(data, per_class, num_val, num_test, rng):
        """PyG's random split: per class, `per_class` of its nodes train (a random
        choice); of the remaining nodes in random order, the first num_val validate and
        the next num_test test."""
        y = data.y._data
        train = np.zeros(y.shape[0], dtype=bool)
        for c in range(int(y.max()) + 1):   # one draw per class, as PyG's
            idx = np.flatnonzero(y == c)
            train[idx[rng.permutation(idx.size)[:per_class]]] = True
        rest = np.flatnonzero(~train)
        rest = rest[rng.permutation(rest.size)]
        val, test = np.zeros_like(train), np.zeros_like(train)
        val[rest[:num_val]] = True
        test[rest[num_val:num_val + num_test]] = True
        data.train_mask, data.val_mask, data.test_mask = Tensor(train), Tensor(val), Tensor(test)

    def __len__(self):
        return 1

    def __getitem__(self, index):
        if index not in (0, -1):
            raise IndexError(f"Planetoid({self.name!r}) holds one graph; got index {index}")
        data = self._data
        return copy.copy(data) if self.transform is None else self.transform(data.clone())

    @property
    def num_classes(self):
        return int(self._data.y._data.max()) + 1

    @property
    def num_features(self):
        return self._data.num_node_features

    @property
    def num_node_features(self):
        return self._data.num_node_features

    def __repr__(self):
        return f"{self.name}()"
