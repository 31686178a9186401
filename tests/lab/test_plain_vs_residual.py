"""lab.plain_vs_residual: the returned numbers, the plot, the CLI, and the claim that the
identity shortcut keeps the first layer's gradient from vanishing in a deeper net."""
import math

import pytest

from nnlab import cli
from nnlab.lab import plain_vs_residual

KINDS = ("plain", "residual")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    return plain_vs_residual(depths=(8, 14), steps=4, batch_size=32, seed=0, out=out)


def test_the_returned_numbers_and_the_plot(result):
    assert result["depths"] == [8, 14] and result["steps"] == 4 and result["batch_norm"]
    for kind in KINDS:
        assert len(result["grad_norm"][kind]) == len(result["final_loss"][kind]) == 2
        assert all(len(curve) == 4 for curve in result["loss_curves"][kind])
        assert all(v > 0 and math.isfinite(v) for v in result["grad_norm"][kind])
        assert all(0 < v < 10 for v in result["final_loss"][kind])
    assert result["plot"].endswith("plain_vs_residual.png")
    with open(result["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_the_shortcut_keeps_the_first_layer_gradient_from_vanishing():
    # without BatchNorm, as the textbook claim assumes: with it the plain net's first-layer
    # gradient grows with depth instead (the module docstring; not asserted, as at depth 14
    # the two are close)
    result = plain_vs_residual(depths=(8, 14), steps=1, batch_size=32, batch_norm=False)
    plain, residual = result["grad_norm"]["plain"], result["grad_norm"]["residual"]
    assert residual[1] > 10 * plain[1]
    assert plain[1] < plain[0] and residual[1] > 0.5 * residual[0]


def test_no_plot_without_out_and_bad_arguments():
    assert plain_vs_residual(depths=(8,), steps=1, batch_size=4, grad_batches=1)["plot"] is None
    with pytest.raises(ValueError, match="depth must be 6n"):
        plain_vs_residual(depths=(9,), steps=1, batch_size=4)
    with pytest.raises(ValueError, match="steps >= 1"):
        plain_vs_residual(depths=(8,), steps=0)


def test_cli(tmp_path, capsys):
    assert cli.main(["lab", "plain-vs-residual", "--depths", "8", "--steps", "2",
                     "--batch-size", "8", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "plain" in out and "residual" in out and "loss after 2 steps" in out
    assert (tmp_path / "plain_vs_residual.png").is_file()
