"""The char-lstm recipe and `nnlab sample`: the stream batches, the state carried across
chunks (truncated BPTT), temperature sampling, and a tiny run on the real Tiny Shakespeare
followed by sampling from its run directory."""
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

import nnlab
from nnlab import cli
from nnlab.autograd.tensor import Tensor
from nnlab.data.datasets import CharVocab, StreamLoader
from nnlab.models import CharLSTM, StreamingCharLSTM
from nnlab.train import sampling
from nnlab.train.recipes import char_lstm

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_shakespeare = pytest.mark.skipif(
    not (SHARED / "tinyshakespeare" / "input.txt").is_file(),
    reason=f"Tiny Shakespeare is not in {SHARED / 'tinyshakespeare'} "
    "(see ../shared/data/README.md)")


def test_stream_loader_chunks_and_epochs():
    loader = StreamLoader(np.arange(22), batch_size=2, seq_len=4)   # streams 0-10, 11-21
    batches = list(loader)
    assert len(loader) == len(batches) == 3                          # ceil(10 / 4)
    x, start, y = batches[0]
    assert x.numpy().tolist() == [[0, 1, 2, 3], [11, 12, 13, 14]] and start.item() == 0
    assert y.numpy().tolist() == [1, 2, 3, 4, 12, 13, 14, 15]
    x, start, y = batches[2]                                         # the short last chunk
    assert x.numpy().tolist() == [[8, 9], [19, 20]] and start.item() == 8
    assert y.numpy().tolist() == [9, 10, 20, 21]
    stepped = StreamLoader(np.arange(22), batch_size=2, seq_len=4, steps=2)
    stepped.set_epoch(2)                                             # chunks 2, 3 = 2, 0
    assert [int(s.item()) for _, s, _ in stepped] == [8, 0]


def test_the_carried_state_continues_the_sequence():
    nnlab.manual_seed(0)
    model = StreamingCharLSTM(11, 8, 16, num_layers=2).eval()
    plain = CharLSTM(11, 8, 16, num_layers=2)
    plain.load_state_dict(model.state_dict())
    ids = np.random.default_rng(0).integers(0, 11, (3, 12))
    full, _ = plain(Tensor(ids))                                     # (3, 12, 11)
    first = model(Tensor(ids[:, :5]), Tensor(np.asarray(0)))         # (3 * 5, 11)
    second = model(Tensor(ids[:, 5:]), Tensor(np.asarray(5)))
    full = full.detach().numpy()
    np.testing.assert_allclose(first.detach().numpy().reshape(3, 5, 11), full[:, :5],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second.detach().numpy().reshape(3, 7, 11), full[:, 5:],
                               rtol=1e-5, atol=1e-6)
    assert not any(s.requires_grad for s in model.carried[False])   # detached
    restart = model(Tensor(ids[:, 5:]), Tensor(np.asarray(0)))       # start 0: zeros
    fresh, _ = plain(Tensor(ids[:, 5:]))
    np.testing.assert_allclose(restart.detach().numpy(), fresh.detach().numpy().reshape(-1, 11),
                               rtol=1e-5, atol=1e-6)


def test_next_token_temperature():
    logits = np.array([0.0, math.log(4.0), -1.0])
    rng = np.random.default_rng(0)
    assert sampling.next_token(logits, 0.0, rng) == 1
    assert sampling.next_token(logits, 1e-7, rng) == 1
    draws = np.array([sampling.next_token(logits, 2.0, rng) for _ in range(3000)])
    p = np.exp(logits / 2.0) / np.exp(logits / 2.0).sum()          # softmax(logits / T)
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 3000, p, atol=0.03)


def test_generate_greedy_is_deterministic():
    nnlab.manual_seed(0)
    vocab = CharVocab.from_text("abc\n")
    step = sampling.RecurrentStep(CharLSTM(len(vocab), 4, 8, num_layers=1))
    text = sampling.generate(step, vocab, 20, temperature=0)
    step.state = None
    assert len(text) == 20 and set(text) <= set(vocab.chars)
    assert sampling.generate(step, vocab, 20, temperature=0) == text


def test_sample_errors(tmp_path, capsys):
    assert cli.main(["sample", str(tmp_path)]) == 1
    assert "run.json not found" in capsys.readouterr().err
    (tmp_path / "run.json").write_text(json.dumps({"recipe": "mlp-digits"}))
    assert cli.main(["sample", str(tmp_path)]) == 1
    assert "not a language model" in capsys.readouterr().err


@needs_shakespeare
def test_a_tiny_run_then_sample(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(char_lstm, "CHAR_LSTM_CONFIG", dataclasses.replace(
        char_lstm.CHAR_LSTM_CONFIG, embed_dim=16, hidden_size=32))
    monkeypatch.setattr(char_lstm, "CHAR_LSTM_STREAMS", dataclasses.replace(
        char_lstm.CHAR_LSTM_STREAMS, steps_per_epoch=4))
    run = tmp_path / "run"
    assert cli.main(["train", "char-lstm", "--data", str(SHARED), "--epochs", "1",
                     "--batch-size", "8", "--out", str(run), "--no-progress",
                     "--diagnostics-every", "2"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1" in out and "held-out loss per character: " in out
    assert "bits (111104 characters)" in out and "sample (temperature 0.8" in out
    held = json.loads((run / "results.json").read_text())["held_out"]
    assert held["samples"] == 111104 and held["loss"] < math.log(65)
    assert held["bits_per_char"] == pytest.approx(held["loss"] / math.log(2), rel=1e-4)
    settings = json.loads((run / "run.json").read_text())
    assert settings["recipe"] == "char-lstm" and len(settings["vocab"]) == 65
    assert settings["config"]["hidden_size"] == 32
    for name in ["best.npz", "last.npz", "metrics.jsonl", "index.html", "loss.png"]:
        assert (run / name).is_file(), name

    texts = []
    for _ in range(2):
        assert cli.main(["sample", str(run), "--length", "50", "--temperature", "0"]) == 0
        texts.append(capsys.readouterr().out[:-1])                  # print's newline
    assert texts[0] == texts[1] and len(texts[0]) == 50
    assert set(texts[0]) <= set(settings["vocab"])
    assert cli.main(["sample", str(run), "--length", "30", "--prompt", "ROMEO:",
                     "--temperature", "0.8", "--seed", "1"]) == 0
    text = capsys.readouterr().out[:-1]
    assert text.startswith("ROMEO:") and len(text) == 36
