"""The `nnlab` command: train --list, a quick training run, report, resume, errors."""
import json
import os
import re
import subprocess
import sys

import pytest

from nnlab import cli
from nnlab.data.datasets import ReverseTask
from nnlab.train import recipes
from nnlab.train.recipes import seq2seq
from nnlab.train.run import run_recipe

MNIST = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


def held_out(text):
    return float(re.search(r"held-out accuracy: ([\d.]+)%", text).group(1))


def test_train_list(capsys):
    assert cli.main(["train", "--list"]) == 0
    out = capsys.readouterr().out
    assert "mlp-digits" in out and "(default)" in out and "mlp-mnist" in out
    assert "lenet-mnist" in out
    assert "--epochs 30" in out


def test_quick_digits_run_then_report_then_resume(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "mlp-digits", "--epochs", "2", "--out", str(run),
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/2" in out and "epoch 2/2" in out
    assert held_out(out) >= 85.0
    assert f"report: {run / 'index.html'}" in out
    for name in ["last.npz", "best.npz", "metrics.csv", "metrics.jsonl", "run.json",
                 "index.html", "loss.png", "accuracy.png", "grad_norm.png",
                 "activation_std.png"]:
        assert (run / name).is_file(), name

    (run / "loss.png").unlink()
    assert cli.main(["report", str(run)]) == 0
    assert (run / "loss.png").read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()

    # the recipe, options and run directory come from the checkpoint's run.json
    assert cli.main(["train", "--resume", str(run / "last.npz"), "--epochs", "3",
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "epoch 3/3" in out and "epoch 1/3" not in out
    assert held_out(out) >= 85.0
    epochs = [line for line in (run / "metrics.csv").read_text().splitlines()[1:]]
    assert [line.split(",")[0] for line in epochs] == ["1", "2", "3"]


def test_quick_seq2seq_reverse_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(seq2seq, "REVERSE_TASK", ReverseTask(train=256, held_out=64))
    assert cli.main(["train", "seq2seq-reverse", "--epochs", "1", "--batch-size", "256",
                     "--out", str(tmp_path), "--no-progress", "--diagnostics-every", "0"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1" in out and "held-out exact match (greedy): " in out
    assert "teacher forcing 1.0  exact " in out and "teacher forcing 0.5  exact " in out
    held = json.loads((tmp_path / "results.json").read_text())["held_out"]
    assert held["samples"] == 64 and 0 <= held["exact_match"] <= 1
    assert 0 < held["token_accuracy"] == held["tokens_teacher_forced"] < 1
    for ratio in ("1.0", "0.5"):
        run = held["exposure_bias"][f"teacher_forcing_{ratio}"]
        assert len(run["per_epoch"]) == 1
        assert run["exact_match"] == run["per_epoch"][0]["exact_match"]
        assert 0 < run["per_epoch"][0]["tokens_free_running"] < 1


def test_a_corrupt_checkpoint_is_an_error_and_stays(tmp_path, capsys):
    bad = tmp_path / "last.npz"
    bad.write_bytes(b"PK\x03\x04 not really")
    assert cli.main(["train", "--resume", str(bad), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "last.npz is truncated or corrupt" in err
    assert bad.read_bytes() == b"PK\x03\x04 not really"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.npz"]


def test_missing_mnist_files_are_named(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NNLAB_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli.main(["train", "mlp-mnist", "--data", str(tmp_path), "--out",
                     str(tmp_path / "run"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "t10k-images-idx3-ubyte.gz" in err and str(tmp_path) in err


def test_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "no-such-recipe"])
    assert "invalid choice" in capsys.readouterr().err
    assert cli.main([]) == 2


def test_python_dash_m():
    done = subprocess.run([sys.executable, "-m", "nnlab", "train", "--list"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "mlp-digits" in done.stdout and done.stderr == ""


@pytest.mark.skipif(not os.path.exists(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz")),
                    reason="the MNIST test images are not in ../shared/data/mnist")
def test_mnist_one_epoch(tmp_path):
    result = run_recipe("mlp-mnist", recipes.Options(data=MNIST, epochs=1), run_dir=tmp_path,
                        progress=False, report=False)
    assert result.held_out["samples"] == 2000
    assert result.held_out["accuracy"] >= 0.85


@pytest.mark.skipif(not os.path.exists(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz")),
                    reason="the MNIST test images are not in ../shared/data/mnist")
def test_lenet_mnist_one_epoch(tmp_path, capsys):
    assert cli.main(["train", "lenet-mnist", "--data", MNIST, "--epochs", "1", "--out",
                     str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1" in out and held_out(out) >= 80.0
    assert "/2000)" in out
    for name in ["last.npz", "grad_norm.png", "activation_std.png", "index.html"]:
        assert (tmp_path / name).is_file(), name
