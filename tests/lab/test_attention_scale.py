"""lab.attention_scale: the returned numbers, the plot, the CLI, and the claim that unscaled
attention logits saturate the softmax as d_k grows while 1/sqrt(d_k)-scaled ones do not."""
import math

import pytest

from nnlab import cli
from nnlab.lab import attention_scale

KEYS = ("entropy", "grad_logits", "grad_q")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return attention_scale(dims=(16, 64, 1024), n=64, queries=32, seed=0,
                           out=tmp_path_factory.mktemp("lab"))


def test_the_returned_numbers_and_the_plot(result):
    assert result["dims"] == [16, 64, 1024] and result["n"] == 64
    assert result["max_entropy"] == pytest.approx(math.log(64))
    for key in KEYS:
        for kind in ("scaled", "unscaled"):
            values = result[key][kind]
            assert len(values) == 3 and all(v >= 0 and math.isfinite(v) for v in values)
    assert all(v <= result["max_entropy"] + 1e-9 for v in result["entropy"]["unscaled"])
    with open(result["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_unscaled_logits_saturate_the_softmax_and_scaled_ones_do_not(result):
    scaled, unscaled = result["entropy"]["scaled"], result["entropy"]["unscaled"]
    assert unscaled[-1] < 0.25 * unscaled[0] and unscaled[-1] < 0.5   # entropy -> 0
    assert max(scaled) < 1.1 * min(scaled) and min(scaled) > 0.8 * result["max_entropy"]
    for key in ("grad_logits", "grad_q"):
        scaled, unscaled = result[key]["scaled"], result[key]["unscaled"]
        assert unscaled[-1] < 0.1 * unscaled[0]                       # gradient -> 0
        assert max(scaled) < 1.5 * min(scaled)                        # unchanged with d_k
        assert unscaled[-1] < 0.1 * scaled[-1]


def test_no_plot_without_out_and_bad_arguments():
    assert attention_scale(dims=(4,), n=8, queries=2)["plot"] is None
    with pytest.raises(ValueError, match="n >= 2"):
        attention_scale(dims=(4,), n=1)


def test_cli(tmp_path, capsys):
    assert cli.main(["lab", "attention-scale", "--dims", "8", "32", "--n", "16", "--queries",
                     "4", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "unscaled" in out and "entropy" in out and "|dL/dq|" in out
    assert (tmp_path / "attention_scale.png").is_file()
