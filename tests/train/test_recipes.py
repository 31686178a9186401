"""The recipe registry (one module per family), the shared pieces, and train.run's run
directory helpers."""
import json
from pathlib import Path

import numpy as np
import pytest

import nnlab
from nnlab import optim
from nnlab.data.datasets import ReverseTask
from nnlab.models import GPT, FlatLogitsGPT, GPTConfig
from nnlab.train import recipes, run
from nnlab.train.recipes import gpt, seq2seq

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_shakespeare = pytest.mark.skipif(
    not (SHARED / "tinyshakespeare" / "input.txt").is_file(),
    reason=f"Tiny Shakespeare is not in {SHARED / 'tinyshakespeare'} "
    "(see ../shared/data/README.md)")


def test_every_family_registers_its_recipes():
    assert recipes.names() == ["ae-mnist", "char-lstm", "classifier", "gpt-shakespeare",
                               "lenet-mnist", "mlp-digits", "mlp-mnist", "regressor",
                               "seq2seq-reverse", "ss-mnist", "vae-mnist"]
    assert recipes.DEFAULT in recipes.names()
    for name in recipes.names():
        recipe = recipes.get(name)
        family = recipe.build.__module__.rsplit(".", 1)[1]
        assert family in ("classifiers", "seq2seq", "char_lstm", "gpt", "tabular",
                          "autoencoders", "semisupervised"), name
        d = recipe.defaults
        assert None not in (d.epochs, d.lr, d.batch_size, d.optimizer, d.seed), name
    with pytest.raises(KeyError,
                       match="unknown recipe 'nope'; the recipes are: ae-mnist, char-lstm"):
        recipes.get("nope")


def test_resolve_fills_the_defaults_and_build_seeds():
    options = recipes.resolve("mlp-digits", recipes.Options(epochs=2))
    assert (options.epochs, options.lr, options.batch_size, options.seed) == (2, 3e-3, 32, 0)
    a = recipes.build("mlp-digits", options)
    b = recipes.build("mlp-digits", options)
    for (k, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=k)
    assert isinstance(a.scheduler, optim.lr_scheduler.CosineAnnealingLR)


def test_make_optimizer_by_name():
    params = [nnlab.nn.Parameter(nnlab.zeros(2))]
    for name in recipes.OPTIMIZERS:
        assert recipes.make_optimizer(name, params, 0.1).param_groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        recipes.make_optimizer("lbfgs", params, 0.1)


def test_a_recipe_reads_its_family_module_settings(monkeypatch):
    monkeypatch.setattr(seq2seq, "REVERSE_TASK", ReverseTask(train=128, held_out=32))
    setup = recipes.build("seq2seq-reverse", recipes.Options(epochs=1))
    assert setup.info["train"] == 128 and setup.info["held_out"] == 32
    assert len(setup.train_loader.dataset) == 128 and setup.metrics[0].__name__ == (
        "token_accuracy")


@needs_shakespeare
def test_gpt_shakespeare_keeps_its_schedule(monkeypatch):
    monkeypatch.setattr(gpt, "GPT_SHAKESPEARE_CONFIG", GPTConfig(
        vocab_size=65, block_size=16, n_layer=1, n_head=2, n_embd=16, bias=False))
    setup = recipes.build("gpt-shakespeare", recipes.Options(data=str(SHARED), epochs=2))
    assert isinstance(setup.model, FlatLogitsGPT) and setup.scheduler_interval == "step"
    factor = optim.lr_scheduler.warmup_cosine(gpt.GPT_WARMUP_STEPS, 2 * gpt.GPT_STEPS_PER_EPOCH,
                                              gpt.GPT_MIN_LR_RATIO)
    for t in range(2 * gpt.GPT_STEPS_PER_EPOCH + 5):
        assert setup.scheduler.get_last_lr() == [1e-3 * factor(t)] * 2   # two param groups
        setup.scheduler.step()


def test_flat_logits_gpt_is_gpt_with_flat_logits():
    config = GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    nnlab.manual_seed(0)
    flat = FlatLogitsGPT(config)
    plain = GPT(config)
    plain.load_state_dict(flat.state_dict())
    idx = nnlab.tensor(np.random.default_rng(0).integers(0, 11, (3, 5)))
    logits, _ = plain(idx)                                              # (3, 5, 11)
    np.testing.assert_allclose(flat(idx).detach().numpy(),
                               logits.detach().numpy().reshape(15, 11), rtol=1e-6)


def test_run_directory_helpers(tmp_path, monkeypatch):
    monkeypatch.setattr(run.time, "strftime", lambda fmt: "20250102-030405")
    first = run.default_run_dir("mlp-digits", root=tmp_path)
    assert first == str(tmp_path / "mlp-digits-20250102-030405")
    Path(first).mkdir()
    assert run.default_run_dir("mlp-digits", root=tmp_path) == first + "-2"
    assert run.saved_options(tmp_path / "last.npz") == (None, None)
    (tmp_path / "run.json").write_text(json.dumps(
        {"recipe": "mlp-digits", "options": {"epochs": 3, "lr": 0.5, "unknown": 1}}))
    name, saved = run.saved_options(tmp_path / "last.npz")
    assert name == "mlp-digits" and saved == recipes.Options(epochs=3, lr=0.5)
    merged = run.merge_options(recipes.Options(epochs=5), saved)
    assert merged == recipes.Options(epochs=5, lr=0.5)
    assert run.merge_options(merged, None) is merged
