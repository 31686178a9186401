"""lab.iwae_gap: the chunked IWAE bound against the model's unchunked one, the returned
numbers and the plot on a small MNIST run, the claim that L_K grows with K, and the CLI."""
import math
from pathlib import Path

import numpy as np
import pytest

import nnlab
from nnlab import cli
from nnlab.autograd.tensor import Tensor
from nnlab.lab import iwae_gap
from nnlab.lab.iwae_gap import chunked_iwae_bound
from nnlab.models import VAE

MNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(
    not (MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"the MNIST test set is not in {MNIST} (see ../shared/data/README.md)")


def float64_vae(decoder_bias=None):
    nnlab.manual_seed(0)
    model = VAE(12, 6, 3).double()
    if decoder_bias is not None:
        nnlab.nn.init.constant_(model.decoder[2].bias, decoder_bias)
    return model


@pytest.mark.parametrize("decoder_bias", [None, -200.0])
@pytest.mark.parametrize("chunk_rows", [5, 21, 1000])
def test_the_chunked_bound_equals_the_unchunked_one(decoder_bias, chunk_rows):
    # bias -200 on the decoder's logits: each pixel that is 1 costs ~200 nats, so log w is
    # below -745, where float64's exp underflows to 0: the chunks must combine in log space
    model = float64_vae(decoder_bias)
    rng = np.random.default_rng(0)
    x = Tensor((rng.random((5, 12)) > 0.5).astype(np.float64))
    k = 37                                      # chunks of 1, 4 and 37 samples (5 images)
    eps = Tensor(rng.standard_normal((k, 5, 3)))
    with nnlab.no_grad():
        whole = model.iwae_bound(x, k, eps=eps).numpy()
    chunked = chunked_iwae_bound(model, x, k, chunk_rows=chunk_rows, eps=eps)
    assert chunked.dtype == np.float64 and chunked.shape == (5,)
    assert np.all(np.isfinite(chunked))
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-5)
    if decoder_bias is not None:
        assert chunked.max() < -760             # out of exp's range, still exact


def test_the_k1_chunked_bound_is_one_log_weight_per_image():
    model = float64_vae()
    x = Tensor((np.random.default_rng(1).random((4, 12)) > 0.5).astype(np.float64))
    eps = Tensor(np.random.default_rng(2).standard_normal((3, 4, 3)))
    per_sample = [chunked_iwae_bound(model, x, 1, eps=eps[i:i + 1]) for i in range(3)]
    log_mean_exp = np.logaddexp.reduce(np.stack(per_sample), axis=0) - math.log(3)
    np.testing.assert_allclose(chunked_iwae_bound(model, x, 3, chunk_rows=4, eps=eps),
                               log_mean_exp, rtol=0, atol=1e-10)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    if not (MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the MNIST test set is not in {MNIST}")
    return iwae_gap(ks=(100, 1, 10), epochs=2, hidden=64, latent=8, n_train=512, n_eval=64,
                    lr=3e-3, data=str(MNIST), out=tmp_path_factory.mktemp("lab"))


@needs_mnist
def test_the_returned_numbers_and_the_plot(result):
    assert result["ks"] == [1, 10, 100] and result["n_train"] == 512
    assert result["n_eval"] == 64 and len(result["train_neg_elbo"]) == 2
    assert result["train_neg_elbo"][1] < result["train_neg_elbo"][0]
    assert all(math.isfinite(v) and 50 < v < 544 for v in result["bound"])  # < 784 log 2
    assert result["gap_to_best"][-1] == 0 and min(result["gap_to_best"]) >= 0
    with open(result["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@needs_mnist
def test_the_bound_tightens_as_k_grows(result):
    neg_l1, neg_l10, neg_l100 = result["bound"]
    assert neg_l1 - neg_l100 > 5.0                     # L_100 above the ELBO by a clear margin
    assert neg_l1 > neg_l10 > neg_l100
    # -L_1 and the negative ELBO with the closed-form KL estimate the same number
    assert abs(result["neg_elbo"] - neg_l1) < 0.05 * neg_l1


@needs_mnist
def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="ks must be a non-empty list of K >= 1"):
        iwae_gap(ks=(0, 10), data=str(MNIST))
    with pytest.raises(ValueError, match=r"n_eval must be an int in \[1, 2000\], got 2001"):
        iwae_gap(n_eval=2001, data=str(MNIST))
    with pytest.raises(ValueError, match="epochs must be a positive int, got 0"):
        iwae_gap(epochs=0, data=str(MNIST))


def test_a_missing_data_folder_names_the_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        iwae_gap(epochs=1, data=str(tmp_path))


@needs_mnist
def test_cli(tmp_path, capsys):
    assert cli.main(["lab", "iwae-gap", "--data", str(MNIST), "--ks", "1", "5", "--epochs",
                     "1", "--hidden", "16", "--latent", "4", "--n-train", "128", "--n-eval",
                     "16", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "-L_K" in out and "negative ELBO" in out
    assert (tmp_path / "iwae_gap.png").is_file()
