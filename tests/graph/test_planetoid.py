"""Planetoid: exactly PyG's tensors from the same raw files, the public split's sizes, the
other splits, the missing-file error, and the restricted unpickler refusing crafted files
without running anything."""
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from nnlab.graph import Data
from nnlab.graph.datasets import Planetoid
from nnlab.graph.datasets.safe_pickle import SparseState, restricted_load

from .pyg_data import assert_same, requires_pyg, torch_geometric

RAW = Path(__file__).resolve().parents[3] / "shared" / "data" / "planetoid"
needs_raw = pytest.mark.skipif(not (RAW / "ind.cora.graph").is_file(),
                               reason=f"the Planetoid raw files are not in {RAW} "
                                      "(see ../shared/data/README.md)")
STATS = {"Cora": (2708, 10556, 1433, 7, 140), "CiteSeer": (3327, 9104, 3703, 6, 120)}


@pytest.fixture(scope="module")
def datasets():
    return {name: Planetoid(RAW, name) for name in STATS}


@needs_raw
@requires_pyg
@pytest.mark.parametrize("name", list(STATS))
def test_tensors_equal_pyg(datasets, name, tmp_path):
    raw = tmp_path / name / "raw"
    raw.mkdir(parents=True)
    for f in RAW.glob(f"ind.{name.lower()}.*"):
        shutil.copy(f, raw / f.name)
    theirs = torch_geometric.datasets.Planetoid(str(tmp_path), name)[0]
    ours = datasets[name][0]
    assert set(ours.keys()) == set(theirs.keys())
    for key in theirs.keys():
        assert_same(ours[key], theirs[key])
    assert repr(ours) == repr(theirs)


@needs_raw
@pytest.mark.parametrize("name", list(STATS))
def test_public_split_and_sizes(datasets, name):
    nodes, edges, features, classes, train = STATS[name]
    ds = datasets[name]
    d = ds[0]
    assert isinstance(d, Data) and len(ds) == 1
    assert (d.num_nodes, d.num_edges, ds.num_features, ds.num_classes) == (nodes, edges,
                                                                             features, classes)
    masks = [d[f"{s}_mask"].numpy() for s in ("train", "val", "test")]
    assert [m.sum() for m in masks] == [train, 500, 1000]
    assert not (masks[0] & masks[1]).any() and not (masks[1] & masks[2]).any()
    assert np.bincount(d.y.numpy()[masks[0]]).tolist() == [20] * classes
    assert d.is_undirected() and not d.has_self_loops()
    assert d.x.dtype == np.float32 and d.edge_index.dtype == d.y.dtype == np.int64
    if name == "CiteSeer":   # 15 test-range nodes missing from tx / ty: zero rows, label 0
        test_index = np.loadtxt(RAW / "ind.citeseer.test.index", dtype=np.int64)
        padded = np.setdiff1d(np.arange(test_index.min(), test_index.max() + 1), test_index)
        assert padded.size == 15 and not d.x.numpy()[padded].any()
        assert not d.y.numpy()[padded].any() and not masks[2][padded].any()
        assert d.has_isolated_nodes()


@needs_raw
def test_full_and_random_splits_and_transform():
    full = Planetoid(RAW, "Cora", split="full")[0]
    m = [full[f"{s}_mask"].numpy() for s in ("train", "val", "test")]
    assert m[0].sum() == 2708 - 1500 and not (m[0] & (m[1] | m[2])).any()
    a = Planetoid(RAW, "Cora", split="random", num_train_per_class=5, num_val=100,
                  num_test=200, generator=3)[0]
    b = Planetoid(RAW, "Cora", split="random", num_train_per_class=5, num_val=100,
                  num_test=200, generator=3)[0]
    assert np.array_equal(a.train_mask.numpy(), b.train_mask.numpy())
    assert np.bincount(a.y.numpy()[a.train_mask.numpy()]).tolist() == [5] * 7
    assert (a.val_mask.numpy().sum(), a.test_mask.numpy().sum()) == (100, 200)
    assert not (a.train_mask.numpy() & (a.val_mask.numpy() | a.test_mask.numpy())).any()
    seen = Planetoid(RAW, "Cora", transform=lambda g: g.update({"tag": 1}))[0]
    assert seen.tag == 1


def test_missing_files_name_what_was_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path / "env"))
    (tmp_path / "ind.cora.x").write_bytes(b"")
    from nnlab.graph.datasets import planetoid
    monkeypatch.setattr(planetoid, "search_folders",
                        lambda root, name: [(Path(root), "root"),
                                            (tmp_path / "env" / "planetoid", "NNLAB_DATA")])
    with pytest.raises(FileNotFoundError, match=r"ind\.cora\.graph[\s\S]*has only ind\.cora\.x"):
        Planetoid(tmp_path, "Cora")
    with pytest.raises(ValueError, match="'Cora' or 'CiteSeer'"):
        Planetoid(tmp_path, "PubMed")
    with pytest.raises(ValueError, match="geom-gcn"):
        Planetoid(tmp_path, "Cora", split="geom-gcn")


# -- the restricted unpickler -------------------------------------------------------------
class RunsCommand:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


class Evaluates:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (eval, (f"open({str(self.path)!r}, 'w').write('ran')",))


def crafted(marker):
    """Pickles that would run code (each writes `marker`) if they were trusted."""
    inner = pickle.dumps({"graph": [1, 2], "payload": RunsCommand(marker)}, protocol=2)
    return {
        "os.system": pickle.dumps(RunsCommand(marker), protocol=2),
        "eval": pickle.dumps(Evaluates(marker), protocol=4),
        "nested in a dict": inner,
        "in an object array": pickle.dumps(np.array([RunsCommand(marker)], dtype=object),
                                           protocol=2),
        "a class": pickle.dumps(Path, protocol=2),
    }


@pytest.mark.parametrize("case", list(crafted(Path("x"))))
def test_crafted_pickles_are_refused_and_nothing_runs(case, tmp_path):
    marker = tmp_path / "ran"
    data = crafted(marker)[case]
    with pytest.raises(pickle.UnpicklingError, match=r"the pickle refers to '[\w.]+\.\w+', "
                                                     r"which the restricted unpickler"):
        restricted_load(data, "test")
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match="nothing was imported or run"):
        restricted_load(data, "test")


def test_refusal_names_the_class(tmp_path):
    with pytest.raises(pickle.UnpicklingError, match=r"refers to '(posix|os|nt)\.system'"):
        restricted_load(pickle.dumps(RunsCommand(tmp_path / "m"), protocol=2), "ind.cora.x")


def test_a_crafted_raw_file_is_refused_by_planetoid(tmp_path):
    marker = tmp_path / "ran"
    for f in RAW.glob("ind.cora.*") if RAW.is_dir() else []:
        shutil.copy(f, tmp_path / f.name)
    for part in ("x", "tx", "allx", "y", "ty", "ally", "test.index"):
        if not (tmp_path / f"ind.cora.{part}").exists():
            (tmp_path / f"ind.cora.{part}").write_bytes(pickle.dumps(np.zeros((1, 1))))
    (tmp_path / "ind.cora.graph").write_bytes(pickle.dumps(RunsCommand(marker), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"Planetoid\('Cora'\): ind\.cora\.graph"):
        Planetoid(tmp_path, "Cora")
    assert not marker.exists()


def test_allowed_contents_load():
    import collections

    import scipy.sparse as sp
    m = sp.random(5, 7, density=0.4, format="csr", random_state=0)
    for matrix in (m, m.tocsc()):
        state = restricted_load(pickle.dumps(matrix, protocol=4))
        assert isinstance(state, SparseState)
        np.testing.assert_array_equal(state.toarray(np.float64), matrix.toarray())
    graph = collections.defaultdict(list, {0: [1, 2], 3: [0]})
    assert restricted_load(pickle.dumps(graph, protocol=2)) == graph
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    np.testing.assert_array_equal(restricted_load(pickle.dumps(a, protocol=4)), a)


@needs_raw
def test_found_through_nnlab_data(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLAB_DATA", str(RAW.parent))
    ds = Planetoid(name="Cora")
    assert ds.raw_dir == RAW and ds[0].num_nodes == 2708 and repr(ds) == "Cora()"
