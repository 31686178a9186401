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


class PrintThenInterrupt(cli.PrintEpochs):
    """The CLI's epoch lines, then Ctrl-C (KeyboardInterrupt) after epoch 2's checkpoint."""

    order = 200

    def on_epoch_end(self, trainer, epoch, logs):
        super().on_epoch_end(trainer, epoch, logs)
        if epoch == 2:
            raise KeyboardInterrupt


def test_quick_digits_run_then_report_then_resume(tmp_path, capsys, monkeypatch):
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

    # Ctrl-C after epoch 2 of 3; the recipe, options and run directory of the resume come
    # from the checkpoint's run.json
    stopped = tmp_path / "stopped"
    monkeypatch.setattr(cli, "PrintEpochs", PrintThenInterrupt)
    assert cli.main(["train", "mlp-digits", "--epochs", "3", "--out", str(stopped),
                     "--no-progress"]) == 130
    assert "interrupted" in capsys.readouterr().err
    monkeypatch.undo()
    assert cli.main(["train", "--resume", str(stopped / "last.npz"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "epoch 3/3" in out and "epoch 1/3" not in out and "schedule:" not in out
    assert held_out(out) >= 85.0
    epochs = [line for line in (stopped / "metrics.csv").read_text().splitlines()[1:]]
    assert [line.split(",")[0] for line in epochs] == ["1", "2", "3"]
    assert "Training stopped" not in (stopped / "index.html").read_text()


def test_quick_seq2seq_reverse_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(seq2seq, "REVERSE_TASK", ReverseTask(train=256, held_out=64))
    assert cli.main(["train", "seq2seq-reverse", "--epochs", "1", "--batch-size", "256",
                     "--out", str(tmp_path), "--no-progress", "--diagnostics-every", "0"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1" in out and "held-out exact match (greedy): " in out
    runs = out.split("exposure bias: 1-epoch run with teacher forcing ratio ")   # announced,
    assert [r[:4] for r in runs[1:]] == ["1.0\n", "0.5\n"]                      # then shown
    assert all("epoch 1/1" in r.split("held-out")[0] for r in runs[1:])
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


def files(folder):
    """{relative path: (bytes, mtime)} of every file under `folder`: what a refusal must
    leave as it was."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("flag, value, expected", [
    ("--epochs", "0", "argument --epochs: got 0, expected an integer >= 1"),
    ("--epochs", "-3", "argument --epochs: got -3, expected an integer >= 1"),
    ("--seed", "-1", "argument --seed: got -1, expected an integer >= 0"),
    ("--batch-size", "0", "argument --batch-size: got 0, expected an integer >= 1"),
    ("--lr", "-0.1", "argument --lr: got -0.1, expected a number > 0"),
    ("--epochs", "two", "argument --epochs: 'two' is not an integer; expected an integer "
                        ">= 1"),
])
def test_numbers_out_of_range_are_usage_errors(tmp_path, capsys, flag, value, expected):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", flag, value, "--out", str(tmp_path / "run"), "--no-progress"])
    assert info.value.code == 2
    assert f"nnlab train: error: {expected}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished 2-epoch mlp-digits run: its cosine schedule ended at learning rate 0."""
    run = tmp_path_factory.mktemp("finished") / "run"
    run_recipe("mlp-digits", recipes.Options(epochs=2, batch_size=360), run_dir=run,
               progress=False, diagnostics_every=0, report=False)
    return run


def test_refusals_name_the_argument_exit_2_and_change_nothing(tmp_path, capsys, finished_run):
    last = str(finished_run / "last.npz")
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "last.npz").write_bytes((finished_run / "last.npz").read_bytes())
    (tmp_path / "notes.txt").write_text("a text file\n")
    cases = [
        (["--resume", str(lone / "last.npz")],
         f"--resume {lone / 'last.npz'}: there is no run.json beside it (in {lone}), so its "
         "recipe and options are unknown"),
        (["--resume", last, "--epochs", "2"],
         "--epochs 2: the run finished its 2 epochs (the checkpoint is at epoch 2), so there "
         "is nothing to continue; to train longer, start a new run with more --epochs (its "
         "learning rate, a CosineAnnealingLR, ended at 0, so more epochs on it would change "
         "nothing)"),
        (["--resume", last, "--epochs", "1"], "--epochs 1: the run finished its 2 epochs"),
        (["--resume", last], f"--resume {last}: the run finished its 2 epochs"),
        (["--resume", last, "--epochs", "4"],
         "--epochs 4: the run finished its 2 epochs with its learning rate, a "
         "CosineAnnealingLR, annealed to 0, so more epochs on it would change nothing; "
         "expected a new run (not --resume) to train for 4 epochs"),
        (["--out", str(finished_run)],
         f"--out {finished_run}: the folder already holds best.npz, last.npz, metrics.csv, "
         "metrics.jsonl, ...; expected a new or empty folder (a run never overwrites "
         f"another: choose another folder, delete this one, or continue its run with "
         f"--resume {last})"),
        (["--resume", str(tmp_path / "notes.txt")],
         f"--resume {tmp_path / 'notes.txt'}: {tmp_path / 'notes.txt'} is not an nnlab "
         "checkpoint (.npz): it starts with b'a text file\\n', not as a zip archive does"),
        (["lenet-mnist", "--resume", last],
         f"RECIPE lenet-mnist: the checkpoint {last} is from a mlp-digits run"),
        (["--resume", last, "--optimizer", "sgd"],
         f"--optimizer sgd: the run of {last} was trained with --optimizer adam, and a "
         "resumed run keeps its options; expected that value or none"),
    ]
    before = files(tmp_path), files(finished_run)
    for argv, message in cases:
        assert cli.main(["train", *argv, "--no-progress"]) == 2, argv
        assert f"nnlab train: error: {message}" in capsys.readouterr().err, argv
    assert (files(tmp_path), files(finished_run)) == before


def test_resume_with_more_epochs_prints_the_replanned_schedule(tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    monkeypatch.setattr(cli, "PrintEpochs", PrintThenInterrupt)
    assert cli.main(["train", "mlp-digits", "--epochs", "4", "--batch-size", "360", "--out",
                     str(run), "--no-progress", "--diagnostics-every", "0"]) == 130
    monkeypatch.undo()
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(run / "last.npz"), "--epochs", "6",
                     "--no-progress", "--diagnostics-every", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == ("schedule: CosineAnnealingLR re-planned for 6 epochs: what remained of "
                      "it after epoch 2 (to end with epoch 4) now ends with epoch 6; learning "
                      "rate 0.0015 now, 0 at the end")
    assert out[2].startswith("epoch 3/6") and out[5].startswith("epoch 6/6")


def test_a_text_file_that_is_not_utf8_is_named(tmp_path, capsys):
    folder = tmp_path / "tinyshakespeare"
    folder.mkdir()
    text = "First Citizen:\nBefore we proceed, caf\u00e9 au lait\n"
    (folder / "input.txt").write_bytes(text.encode("latin-1"))
    assert cli.main(["train", "char-lstm", "--data", str(tmp_path), "--out",
                     str(tmp_path / "run"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert (f"{folder / 'input.txt'} is not UTF-8 text: byte 0xe9 at offset 37 (line 2) does "
            "not decode (invalid continuation byte); expected a UTF-8 text file") in err
    assert not (tmp_path / "run").exists()


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


def test_version(capsys):
    import nnlab
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"nnlab {nnlab.__version__}\n" == "nnlab 0.1.0\n"


def test_data_help_gives_every_recipes_layout(capsys, monkeypatch):
    from nnlab.train.recipes import layouts
    assert set(recipes.names()) <= set(layouts.LAYOUTS), "a recipe without a data layout"
    monkeypatch.setenv("COLUMNS", "100000")              # argparse: one line per option
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    data = next(line for line in capsys.readouterr().out.splitlines()
                if line.lstrip().startswith("--data PATH"))
    for name in recipes.names():
        assert name in data and layouts.layout(name) in data, name
    assert "t10k-images-idx3-ubyte" in data and "tinyshakespeare" in data


def test_large_and_small_losses_print_in_scientific_notation():
    from nnlab.train.format import format_loss
    cases = {0.59204: "0.5920", 1234.56789: "1234.5679", 3.2e8: "3.2e+08", 1.2345e-5:
             "1.234e-05", 0.001234: "0.001234", 0.0: "0.0000", float("nan"): "nan",
             float("inf"): "inf"}
    assert {v: format_loss(v) for v in cases} == cases
    line = cli.format_epoch({"epoch": 2, "loss": 3.2e8, "val_loss": 0.5, "time": 1.0}, 10)
    assert "loss 3.2e+08" in line and "val_loss 0.5000" in line


@pytest.mark.skipif(not os.path.exists(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz")),
                    reason="the MNIST test images are not in ../shared/data/mnist")
def test_ss_mnist_refuses_labels_not_a_multiple_of_ten(tmp_path, capsys):
    assert cli.main(["train", "ss-mnist", "--data", MNIST, "--labels", "95", "--out",
                     str(tmp_path / "run"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "nnlab train: error: ss-mnist: --labels 95; expected a multiple of 10" in err
    assert not (tmp_path / "run").exists()
