"""lab.planetoid_runs: the two stopping rules on synthetic validation curves, the sparse
first layer against the dense dropout + linear it replaces, bit-identical runs for a seed,
run r seeded seed + r, one full Kipf GCN run's accuracy, the returned dict, the plot and
the CLI line."""
import re
from pathlib import Path

import numpy as np
import pytest

import nnlab
from nnlab import backend, cli
from nnlab.autograd.tensor import Tensor
from nnlab.lab import gat_cora, gcn_cora, planetoid_runs
from nnlab.lab.planetoid_runs import (
    GATPatience,
    SparseInputLinear,
    gat_run,
    gcn_run,
    kipf_should_stop,
    load_planetoid,
)
from nnlab.nn.parameter import Parameter

RAW = Path(__file__).resolve().parents[3] / "shared" / "data" / "planetoid"
needs_raw = pytest.mark.skipif(not (RAW / "ind.cora.graph").is_file(),
                               reason=f"the Planetoid raw files are not in {RAW} "
                                      "(see ../shared/data/README.md)")


@pytest.fixture(scope="module")
def cora():
    return load_planetoid("Cora", RAW)


# -- the stopping rules --------------------------------------------------------------------
def test_kipf_rule_waits_for_window_plus_two_epochs_then_compares_with_the_mean():
    falling = [2.0 - 0.01 * k for k in range(30)]
    assert not any(kipf_should_stop(falling[:n]) for n in range(1, 31))
    spike = falling[:12]
    spike[-1] = 5.0                       # 12 epochs: compared with the 10 before it
    assert kipf_should_stop(spike)
    assert not kipf_should_stop(spike[:11] + [1.0])
    early = falling[:11]
    early[-1] = 5.0                       # 11 epochs: Kipf's `epoch > 10` not yet true
    assert not kipf_should_stop(early)
    # exactly the mean of the previous 10 does not stop; just above it does
    flat = [1.0] * 5 + [3.0] * 5 + [9.0]  # 11 values; the last 10 before the new one
    assert not kipf_should_stop(flat + [np.mean(flat[-10:])])
    assert kipf_should_stop(flat + [np.mean(flat[-10:]) + 1e-9])
    assert kipf_should_stop([1.0] * 4 + [1.5], window=3)
    assert not kipf_should_stop([1.0] * 4 + [1.5], window=4)


def test_gat_patience_saves_when_both_improve_resets_when_either_does():
    rule = GATPatience(patience=3)
    steps = [(1.0, 0.5),   # both improve: save
             (0.9, 0.4),   # loss improves only: reset, no save
             (1.2, 0.5),   # acc equals its best: reset, no save (loss worse)
             (0.9, 0.6),   # loss equal, acc better: save
             (1.0, 0.5), (1.0, 0.5), (1.0, 0.5)]   # neither: wait 1, 2, 3 -> stop
    got = [rule.step(*s) for s in steps]
    assert got == [(True, False), (False, False), (False, False), (True, False),
                   (False, False), (False, False), (False, True)]
    assert (rule.best_loss, rule.best_acc, rule.epochs) == (0.9, 0.6, 7)


# -- the sparse first layer ----------------------------------------------------------------
def _sparse_features(seed=0, shape=(30, 50), density=0.1):
    rng = np.random.default_rng(seed)
    x = rng.random(shape, dtype=np.float32) * (rng.random(shape) < density)
    return Tensor(x)


def test_sparse_input_linear_matches_dense_dropout_then_linear():
    x = _sparse_features()
    weight = Parameter(Tensor(np.random.default_rng(1).standard_normal((4, 50))
                              .astype(np.float32)))
    lin = SparseInputLinear(weight, x, p=0.5)
    lin.eval()
    np.testing.assert_allclose(lin(x)._data, x._data @ weight._data.T, rtol=1e-5, atol=1e-6)
    lin.train()
    nnlab.manual_seed(7)
    out = lin(x)
    gy = np.random.default_rng(2).standard_normal(out.shape).astype(np.float32)
    out.backward(Tensor(gy))
    nnlab.manual_seed(7)                  # the same draws, one per stored nonzero
    rows, cols = np.nonzero(x._data)      # CSR order: row-major, as np.nonzero
    keep = backend.generator().random(rows.size, dtype=np.float32) >= 0.5
    dropped = np.zeros_like(x._data)
    dropped[rows, cols] = x._data[rows, cols] * keep * 2
    np.testing.assert_allclose(out._data, dropped @ weight._data.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weight.grad._data, gy.T @ dropped, rtol=1e-5, atol=1e-5)
    assert 0 < keep.sum() < keep.size
    other = Tensor(x._data.copy())        # not the features it holds: the dense path
    lin.eval()
    np.testing.assert_allclose(lin(other)._data, x._data @ weight._data.T, rtol=1e-5,
                               atol=1e-6)


# -- runs on Cora --------------------------------------------------------------------------
@needs_raw
def test_runs_are_bit_identical_for_a_seed(cora):
    data, x = cora
    first = [gcn_run(data, x, s, epochs=6) for s in (0, 1)]
    assert [gcn_run(data, x, s, epochs=6) for s in (0, 1)] == first
    gat = gat_run(data, x, 3, epochs=3, patience=2)
    assert gat_run(data, x, 3, epochs=3, patience=2) == gat
    assert gat[1] == 3


@needs_raw
def test_one_full_kipf_run_reaches_the_papers_range(cora):
    data, x = cora
    acc, epochs = gcn_run(data, x, 0)
    assert 0.78 <= acc <= 0.85 and 12 <= epochs <= 200


@needs_raw
def test_gat_run_stops_on_patience_and_restores_the_saved_model(cora, monkeypatch):
    data, x = cora
    curve = iter([(1.0, 0.5), (0.5, 0.9), (2.0, 0.1), (2.0, 0.1), (2.0, 0.1)])
    weights, tested = [], []
    real = planetoid_runs._evaluate

    def scripted(model, x, data, mask):   # the validation curve above; test as it is
        weight = model.conv1.lin.weight._data.copy()
        if mask is data.val_mask:
            weights.append(weight)
            return next(curve)
        tested.append(weight)
        return real(model, x, data, mask)

    monkeypatch.setattr(planetoid_runs, "_evaluate", scripted)
    acc, epochs = gat_run(data, x, 0, epochs=50, patience=2)
    assert epochs == 4 and len(weights) == 4   # saved at 2; no improvement at 3 and 4
    np.testing.assert_array_equal(tested[0], weights[1])
    assert not np.array_equal(tested[0], weights[3]) and 0 <= acc <= 1


@needs_raw
def test_experiment_dict_seeds_and_plot(tmp_path):
    result = gcn_cora(runs=2, seed=5, root=RAW, epochs=4, out=tmp_path)
    assert result["model"] == "gcn" and result["dataset"] == "Cora" and result["runs"] == 2
    assert result["paper_mean"] == 81.5 and result["paper_std"] is None
    assert result["epochs"] == [4, 4] and result["settings"] == {"epochs": 4, "window": 10}
    accs = result["accuracies"]
    assert result["mean"] == pytest.approx(np.mean(accs))
    assert result["std"] == pytest.approx(np.std(accs, ddof=1))
    single = gcn_cora(runs=1, seed=6, root=RAW, epochs=4)
    assert single["accuracies"] == [accs[1]] and single["plot"] is None   # run r: seed + r
    with open(result["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert result["plot"] == str(tmp_path / "gcn_cora.png")


@needs_raw
def test_cli_prints_the_accuracy_beside_the_paper(capsys, tmp_path):
    assert cli.main(["lab", "gat-cora", "--runs", "2", "--epochs", "2", "--data", str(RAW),
                     "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^test accuracy: \d+\.\d \+- \d+\.\d \(2 runs; paper 83\.0 \+- 0\.7\)$",
                     out, re.M), out
    assert (tmp_path / "gat_cora.png").is_file()


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match="PubMed"):
        gat_cora(runs=1, dataset="PubMed")
