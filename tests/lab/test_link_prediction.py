"""lab.link_prediction: the GAE's decoder and metrics, a short training on Cora that already
ranks held-out edges well (AUC > 0.8), the split's sizes, bit-identical reruns, the plot
and the CLI."""
import numpy as np
import pytest

from nnlab import cli
from nnlab.autograd.tensor import Tensor
from nnlab.lab import link_prediction
from nnlab.lab.link_prediction import auc_ap, inner_product, mean_std, train_gae


def _cora():
    from nnlab.graph.datasets import Planetoid
    from nnlab.graph.datasets.planetoid import find_raw_files
    try:
        find_raw_files(None, "Cora")
    except FileNotFoundError as e:
        pytest.skip(f"the Planetoid raw files are absent: {str(e).splitlines()[0]}")
    return Planetoid(None, "Cora")[0]


@pytest.fixture(scope="module")
def cora():
    return _cora()


@pytest.fixture(scope="module")
def result(cora, tmp_path_factory):
    return link_prediction(runs=1, epochs=25, out=tmp_path_factory.mktemp("lab"))


def test_the_decoder_and_the_metrics():
    z = Tensor(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], np.float32))
    pos = Tensor(np.array([[0, 2], [1, 2]]))      # scores 1, 1
    neg = Tensor(np.array([[0, 1], [2, 3]]))      # scores 0, 0... z_1 . z_3 = -1
    np.testing.assert_array_equal(inner_product(z, pos).numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(inner_product(z, neg).numpy(), [0.0, -1.0])
    assert auc_ap(z, pos, neg) == (1.0, 1.0)       # every positive above every negative
    assert auc_ap(z, neg, pos)[0] == 0.0            # every positive below
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(np.sqrt(2.0)))
    assert mean_std([4.0]) == (4.0, 0.0)


def test_a_short_training_ranks_held_out_edges(result):
    assert result["num_edges"] == [4488, 263, 527]   # 85 / 5 / 10 of Cora's 5,278 pairs
    assert len(result["test_auc"]) == 1 and len(result["loss"][0]) == 25
    assert result["auc"][0] > 80 and result["ap"][0] > 80
    assert result["loss"][0][-1] < result["loss"][0][0]
    assert 1 <= result["best_epoch"][0] <= 25
    assert max(result["val_auc"][0]) == pytest.approx(result["val_auc"][0][
        result["best_epoch"][0] - 1])
    with open(result["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_runs_are_bit_identical_for_a_seed(cora):
    a, b = (train_gae(cora, epochs=3, seed=5) for _ in range(2))
    assert a == b
    assert train_gae(cora, epochs=3, seed=6)["loss"] != a["loss"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="link_prediction: .*val=0.6, test=0.5"):
        link_prediction(val=0.6, test=0.5)


def test_cli(cora, capsys):
    assert cli.main(["lab", "link-prediction", "--runs", "1", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "4488 / 263 / 527 edges" in out
    assert "(paper GAE 91.0 / 92.0)" in out and "test AUC: " in out and ", AP: " in out
