"""lab.gin_vs_gcn: on a small WL-hard set GIN fits every training graph while mean
aggregation gives every graph the same readout (up to rounding) and stays at exactly 50%;
balanced pair splits, bit-identical reruns, the plot and the CLI."""
import numpy as np
import pytest

from nnlab import cli
from nnlab.graph.datasets.synthetic import wl_hard_graphs
from nnlab.lab import gin_vs_gcn
from nnlab.lab.gin_vs_gcn import split_pairs

SMALL = dict(num_graphs=40, hidden=16, layers=2, epochs=60, runs=1, seed=0)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return gin_vs_gcn(**SMALL, out=tmp_path_factory.mktemp("lab"))


def test_gin_separates_what_mean_aggregation_cannot(result):
    assert result["num_train"] == 32 and result["num_test"] == 8
    assert result["train_accuracy"]["gin"] == [100.0]
    assert result["test_accuracy"]["gin"] == [100.0]
    # every graph's mean readout is the same vector (rounding apart), so one class for all
    assert result["spread"]["mean"][0] < 1e-5 < 0.1 < result["spread"]["gin"][0]
    assert result["train_accuracy"]["mean"] == [50.0]
    assert result["test_accuracy"]["mean"] == [50.0]
    assert result["loss"]["mean"][-1][-1] == pytest.approx(np.log(2), abs=1e-3)
    with open(result["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_pairs_are_split_whole():
    graphs = wl_hard_graphs(20, generator=0)
    train, test = split_pairs(graphs, 0.2, np.random.default_rng(0))
    assert len(train) == 16 and len(test) == 4
    for side in (train, test):
        labels = [int(g.y.item()) for g in side]
        assert labels == [0, 1] * (len(side) // 2)
        for a, b in zip(side[::2], side[1::2]):    # a pair shares N and E
            assert a.num_nodes == b.num_nodes and a.num_edges == b.num_edges


def test_runs_are_bit_identical_for_a_seed(result):
    again = gin_vs_gcn(**SMALL)
    for key in ("loss", "test_curve", "spread", "train_accuracy", "test_accuracy"):
        assert again[key] == result[key]


def test_cli(capsys):
    assert cli.main(["lab", "gin-vs-gcn", "--runs", "1", "--num-graphs", "8", "--epochs",
                     "2", "--hidden", "8", "--layers", "1"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy: GIN " in out and ", mean aggregation 50.0 +- 0.0" in out
