"""lab.latent_sampling: the returned numbers and the figure on a small MNIST run, the VAE's
aggregate posterior near N(0, I) and the AE's codes away from it, the image tiling, bad
arguments and the CLI."""
import math
from pathlib import Path

import numpy as np
import pytest

from nnlab import cli
from nnlab.lab import latent_sampling
from nnlab.lab.latent_sampling import tile

MNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(
    not (MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"the MNIST test set is not in {MNIST} (see ../shared/data/README.md)")
KINDS = ("ae", "vae", "real")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    if not (MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the MNIST test set is not in {MNIST}")
    return latent_sampling(epochs=2, hidden=64, latent=8, n_samples=100, n_train=512,
                           clf_epochs=2, data=str(MNIST), out=tmp_path_factory.mktemp("lab"))


@needs_mnist
def test_the_returned_numbers_and_the_figure(result):
    assert result["latent"] == 8 and result["n_samples"] == 100 and result["n_train"] == 512
    assert len(result["ae_loss"]) == len(result["vae_loss"]) == 2
    assert result["ae_loss"][1] < result["ae_loss"][0]
    assert result["vae_loss"][1] < result["vae_loss"][0]
    for kind in KINDS:
        assert 0.1 <= result["confidence"][kind] <= 1.0      # a max over 10 classes
        counts = result["predicted"][kind]
        assert len(counts) == 10 and sum(counts) == 100 and min(counts) >= 0
    for key in ("ae_code", "vae_code"):
        assert len(result[key]["mean"]) == len(result[key]["std"]) == 8
        assert all(math.isfinite(v) for v in result[key]["mean"])
        assert all(v > 0 for v in result[key]["std"])
    with open(result["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@needs_mnist
def test_the_classifier_knows_real_digits(result):
    assert result["classifier_accuracy"] > 0.9                  # 2 epochs; >= 0.95 at 10
    assert result["confidence"]["real"] > 0.8
    assert min(result["predicted"]["real"]) >= 3                 # every digit among 100


@needs_mnist
def test_the_vae_codes_follow_the_prior_and_the_ae_codes_do_not(result):
    vae_std, ae_std = np.array(result["vae_code"]["std"]), np.array(result["ae_code"]["std"])
    # two epochs on 512 images: the KL term has pulled every dimension to the prior's scale
    assert np.all(np.abs(result["vae_code"]["mean"]) < 1.5)
    assert np.all((vae_std > 0.5) & (vae_std < 2.0))
    # the AE's spread is far from 1 (narrower here; at the defaults it is 2.6 to 4, wider)
    assert np.abs(np.log(ae_std)).max() > 2 * np.abs(np.log(vae_std)).max()


def test_tile_lays_images_out_row_by_row():
    images = np.arange(5, dtype=np.float32)[:, None] * np.ones((5, 4), np.float32)
    grid = tile(images, side=2)                                  # 3 columns, 2 rows
    assert grid.shape == (4, 6)
    np.testing.assert_array_equal(grid[:2, :2], 0)
    np.testing.assert_array_equal(grid[:2, 4:6], 2)
    np.testing.assert_array_equal(grid[2:, 2:4], 4)
    np.testing.assert_array_equal(grid[2:, 4:6], 0)              # the empty cell


@needs_mnist
def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"n_samples must be an int in \[1, 2000\], got 0"):
        latent_sampling(n_samples=0, data=str(MNIST))
    with pytest.raises(ValueError, match=r"n_train must be an int in \[1, 8000\], got 9000"):
        latent_sampling(n_train=9000, data=str(MNIST))
    with pytest.raises(ValueError, match="latent must be a positive int, got 0"):
        latent_sampling(latent=0, data=str(MNIST))


@needs_mnist
def test_cli(tmp_path, capsys):
    assert cli.main(["lab", "latent-sampling", "--data", str(MNIST), "--epochs", "1",
                     "--hidden", "16", "--latent", "4", "--n-train", "128", "--n-samples",
                     "16", "--clf-epochs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "AE decodes of N(0, I)" in out and "real held-out digits" in out
    assert "classifier held-out accuracy" in out
    assert (tmp_path / "latent_sampling.png").is_file()
