"""vae-mnist and ae-mnist: one short epoch each on the real MNIST split, their figures,
pictures and report; the torch side of bench.vae_parity on a tiny problem."""
import json
from pathlib import Path

import numpy as np
import pytest

from nnlab.models import Autoencoder
from nnlab.train import recipes, run
from nnlab.train.recipes import autoencoders
from tests.helpers import requires_torch

MNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "t10k-images-idx3-ubyte").is_file()
                                 and not (MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
                                 reason=f"the MNIST test images are not in {MNIST}")


def _run(name, tmp_path, **options):
    return run.run_recipe(name, recipes.Options(data=str(MNIST), epochs=1, **options),
                          run_dir=tmp_path, progress=False, diagnostics_every=0)


@needs_mnist
def test_vae_mnist_reports_the_elbo_terms_iwae_and_its_pictures(tmp_path, monkeypatch):
    monkeypatch.setattr(autoencoders, "IWAE_SAMPLES", 5)
    result = _run("vae-mnist", tmp_path, latent_dim=2)
    held = result.held_out
    assert held["loss"] == pytest.approx(held["recon"] + held["kl"], rel=1e-5)
    assert held["kl"] > 0 and 100 < held["recon"] < 300       # nats per image after 1 epoch
    assert held["iwae_k"] == 5 and 100 < held["iwae_nats"] < 300
    saved = json.loads((tmp_path / "results.json").read_text())
    assert sorted(saved["pictures"].values()) == ["latent_map.png", "manifold.png",
                                                  "reconstructions.png", "samples.png"]
    page = (tmp_path / "index.html").read_text()
    for file in [*saved["pictures"].values(), "recon.png", "kl.png"]:
        assert (tmp_path / file).read_bytes().startswith(b"\x89PNG"), file
        assert f"src='{file}'" in page
    epoch = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])
    assert {"loss", "recon", "kl", "val_loss", "val_recon", "val_kl"} <= epoch.keys()


@needs_mnist
def test_ae_mnist_kinds_show_their_regularisers(tmp_path):
    figures = {kind: _run("ae-mnist", tmp_path / kind, kind=kind).held_out
               for kind in ("plain", "sparse", "contractive")}
    plain, sparse, contractive = figures["plain"], figures["sparse"], figures["contractive"]
    assert sparse["code_near_zero"] > plain["code_near_zero"] + 0.2
    assert contractive["jacobian_frobenius"] < 0.6 * plain["jacobian_frobenius"]
    for held in figures.values():
        assert held["loss"] == pytest.approx(held["recon_bce"], rel=1e-5)
        assert 0 < held["recon_mse"] < 0.25 and 0 < held["masked_recon_mse"] < 0.25
    assert plain["masked_recon_mse"] > plain["recon_mse"]     # masking costs a plain AE
    assert (tmp_path / "plain" / "features.png").is_file()


@needs_mnist
def test_denoising_ae_pictures_show_the_masked_inputs(tmp_path):
    result = _run("ae-mnist", tmp_path, kind="denoising")
    pictures = json.loads((tmp_path / "results.json").read_text())["pictures"]
    assert any("masked inputs" in title for title in pictures)
    assert result.held_out["masked_recon_mse"] > 0


def test_trained_autoencoder_is_an_autoencoders_weights_and_refuses_unknown_kinds():
    model = autoencoders.autoencoder("contractive", 16)
    plain = Autoencoder(*autoencoders.autoencoder("plain", 16).children())
    plain.load_state_dict(model.state_dict())
    x = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    import nnlab
    total, recon = model(nnlab.tensor(x))
    assert total.item() > recon.item() > 0                      # the penalty is added
    model.eval()
    np.testing.assert_allclose(model(nnlab.tensor(x))[0].item(),
                               plain.loss(nnlab.tensor(x), "bce")[0].item(), rtol=1e-6)
    with pytest.raises(ValueError, match="ae-mnist: unknown --kind 'vae'"):
        autoencoders.autoencoder("vae", 16)


@requires_torch
def test_torch_side_of_the_vae_parity_run_trains_and_bounds():
    from bench.vae_parity import torch_vae_run
    rng = np.random.default_rng(0)
    x = (rng.random((96, 20)) < 0.3).astype(np.float32)
    elbo, iwae = torch_vae_run(x[:64], x[64:], seed=0, epochs=2, batch_size=16, hidden=8,
                               latent=2, k=10)
    assert np.isfinite(elbo) and 0 < iwae < 20 * np.log(2) * 2
