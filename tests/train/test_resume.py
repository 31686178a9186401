"""Resuming a run: every recipe resumes bitwise exactly after Ctrl-C (KeyboardInterrupt) and
after SIGKILL (a child process killed mid-epoch); another number of epochs re-plans the
rest of the learning-rate schedule (never back up from a finished cosine); refusals; the
report of a resumed run."""
import json
import math
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnlab import nn, optim
from nnlab.autograd.tensor import Tensor
from nnlab.models import StreamingCharLSTM
from nnlab.train import report
from nnlab.train.callbacks import Callback, LRSchedulerCallback
from nnlab.train.checkpoint import read_checkpoint
from nnlab.train.recipes import Options
from nnlab.train.recipes.char_lstm import _Streams
from nnlab.train.run import RunRefused, run_recipe
from tests.train import tiny

ROOT = Path(__file__).resolve().parents[2]
STOP_STEP = tiny.STEPS + 2      # the second step of epoch 2, after epoch 1's checkpoint


class Interrupt(Callback):
    """Raise KeyboardInterrupt, what Ctrl-C raises, at the end of optimizer step `step`
    (or, with at_epoch, at the end of that epoch, after its checkpoint)."""

    order = 200     # after every other callback, ModelCheckpoint (100) included

    def __init__(self, step=None, at_epoch=None):
        self.step, self.at_epoch = step, at_epoch

    def on_batch_end(self, trainer, batch, logs):
        if trainer.step == self.step:
            raise KeyboardInterrupt

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


# a child process that kills itself with SIGKILL at the end of a step: no handler, no
# finally block, no file closed, as `kill -9` from outside at that moment
CHILD = """
import os, signal
from nnlab.train.callbacks import Callback
from nnlab.train.run import run_recipe
from tests.train import tiny

class Kill(Callback):
    order = 200
    def on_batch_end(self, trainer, batch, logs):
        if trainer.step == STEP:
            os.kill(os.getpid(), signal.SIGKILL)

tiny.shrink(setattr, NAME)
run_recipe(NAME, tiny.OPTIONS[NAME], run_dir=RUN_DIR, progress=False, callbacks=[Kill()],
           diagnostics_every=3, report=False)
"""


def params(result):
    return {k: v.detach().numpy().copy() for k, v in result.setup.model.state_dict().items()}


def run(name, run_dir, **kwargs):
    return run_recipe(name, tiny.OPTIONS[name], run_dir=run_dir, progress=False,
                      diagnostics_every=3, report=False, **kwargs)


@pytest.mark.parametrize("stop", ["sigint", "sigkill"])
@pytest.mark.parametrize("name", sorted(tiny.OPTIONS))
def test_every_recipe_resumes_bitwise_exactly(tmp_path, monkeypatch, name, stop):
    if why := tiny.missing_data(name):
        pytest.skip(why)
    tiny.shrink(monkeypatch.setattr, name)
    straight = run(name, tmp_path / "straight")
    stopped = tmp_path / "stopped"
    if stop == "sigint":
        with pytest.raises(KeyboardInterrupt):
            run(name, stopped, callbacks=[Interrupt(STOP_STEP)])
    else:
        code = (CHILD.replace("STEP", str(STOP_STEP)).replace("NAME", repr(name))
                .replace("RUN_DIR", repr(str(stopped))))
        child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=600)
        assert child.returncode == -signal.SIGKILL, child.stderr
    assert read_checkpoint(stopped / "last.npz").epoch == 1

    resumed = run_recipe(resume=stopped / "last.npz", progress=False, diagnostics_every=3,
                         report=False)
    expected, got = params(straight), params(resumed)
    assert list(got) == list(expected)
    for key, value in expected.items():
        assert np.array_equal(got[key], value), f"{name}: {key} differs after the resume"
    for column in ("loss", "val_loss", "lr", "step"):
        assert resumed.history[column] == straight.history[column], column
    assert resumed.held_out == straight.held_out


def cosine(base, t, total):
    return base * (1 + math.cos(math.pi * t / total)) / 2


def test_more_epochs_replan_the_rest_of_the_cosine(tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):          # stopped after epoch 2 of 4
        run_recipe("mlp-digits", Options(epochs=4, batch_size=360), run_dir=run_dir,
                   progress=False, diagnostics_every=0, report=False,
                   callbacks=[Interrupt(at_epoch=2)])
    notes = []
    with pytest.raises(KeyboardInterrupt):          # extended to 6, stopped after epoch 4
        run_recipe(resume=run_dir / "last.npz", options=Options(epochs=6), progress=False,
                   diagnostics_every=0, report=False, note=notes.append,
                   callbacks=[Interrupt(at_epoch=4)])
    assert notes == ["schedule: CosineAnnealingLR re-planned for 6 epochs: what remained of "
                     "it after epoch 2 (to end with epoch 4) now ends with epoch 6; learning "
                     "rate 0.0015 now, 0 at the end"]
    assert json.loads((run_dir / "run.json").read_text())["schedule"] == notes[0]
    assert json.loads((run_dir / "run.json").read_text())["options"]["epochs"] == 6
    result = run_recipe(resume=run_dir / "last.npz", progress=False, diagnostics_every=0,
                        report=False, note=notes.append)     # continues the re-planned run
    assert len(notes) == 1
    # the documented schedule: epoch e trains at the schedule's time tau(e - 1); tau(n) = n
    # up to the resume point (epoch 2), then the remaining 2 epochs of the 4-epoch cosine
    # stretched over epochs 3-6: tau(n) = 2 + (n - 2) (4 - 2) / (6 - 2)
    tau = [0, 1] + [2 + (n - 2) * 2 / 4 for n in range(2, 6)]
    lrs = result.history["lr"]
    assert lrs == pytest.approx([cosine(3e-3, t, 4) for t in tau], rel=1e-12, abs=1e-18)
    assert all(b < a for a, b in zip(lrs, lrs[1:]))          # never back up
    assert result.history["epoch"] == [1, 2, 3, 4, 5, 6]


def replanned(scheduler, interval_steps, total, planned):
    callback = LRSchedulerCallback(scheduler)
    for _ in range(interval_steps):
        callback.on_epoch_end(None, 0, {})
    callback.replan(total, planned)
    lrs = []
    for _ in range(interval_steps, total + 3):
        lrs.append(scheduler.optimizer.param_groups[0]["lr"])
        callback.on_epoch_end(None, 0, {})
    return lrs


def test_replan_stretches_squeezes_and_keeps_a_finished_schedule():
    def sgd():
        return optim.SGD(nn.Linear(2, 1).parameters(), lr=1.0)

    eta_min = 0.1
    # a finished cosine keeps its final learning rate: no climb back up past T_max
    opt = sgd()
    lrs = replanned(optim.lr_scheduler.CosineAnnealingLR(opt, 4, eta_min), 4, 8, 4)
    assert lrs == pytest.approx([eta_min] * len(lrs), abs=1e-15)
    # fewer epochs than planned squeeze what remains: steps 2..8 of 8 over steps 2..5
    opt = sgd()
    lrs = replanned(optim.lr_scheduler.CosineAnnealingLR(opt, 8, eta_min), 2, 5, 8)
    expected = [eta_min + (1 - eta_min) * (1 + math.cos(math.pi * (2 + (n - 2) * 2) / 8)) / 2
                for n in range(2, 6)]
    assert lrs[:4] == pytest.approx(expected, rel=1e-12) and set(lrs[4:]) == {lrs[3]}
    # a warm-up cosine resumed in its warm-up: the rest (warm-up included) stretched
    opt = sgd()
    sched = optim.lr_scheduler.WarmupCosineLR(opt, 4, 10, 0.1)
    factor = optim.lr_scheduler.warmup_cosine(4, 10, 0.1)
    lrs = replanned(sched, 2, 18, 10)
    assert lrs[:17] == pytest.approx([factor(2 + (n - 2) / 2) for n in range(2, 19)],
                                     rel=1e-12)
    callback = LRSchedulerCallback(optim.lr_scheduler.CosineAnnealingLR(sgd(), 4))
    callback.on_epoch_end(None, 1, {})
    callback.on_epoch_end(None, 2, {})
    with pytest.raises(ValueError, match="total=2, expected more than the 2 steps taken"):
        callback.replan(2, 4)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(sgd())
    with pytest.raises(ValueError, match="ReduceLROnPlateau has no closed form"):
        LRSchedulerCallback(plateau).replan(8, 4)


def snapshot(folder):
    """{relative path: (bytes, mtime)} of every file under `folder`."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 2-epoch mlp-digits run (cosine to 0) and its checkpoint."""
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    run_recipe("mlp-digits", Options(epochs=2, batch_size=360), run_dir=run_dir,
               progress=False, diagnostics_every=0, report=False)
    return run_dir


@pytest.mark.parametrize("epochs, argument, match", [
    (None, "resume", "the run finished its 2 epochs .* start a new run with more epochs"),
    (1, "epochs", "the run finished its 2 epochs .* nothing to continue"),
    (2, "epochs", "the run finished its 2 epochs .* nothing to continue"),
    (3, "epochs", "annealed to 0, so more epochs on it would change nothing; expected a new "
                  "run"),
])
def test_a_finished_run_is_refused_and_left_as_it_was(finished, epochs, argument, match):
    before = snapshot(finished)
    with pytest.raises(RunRefused, match=match) as caught:
        run_recipe(resume=finished / "last.npz", options=Options(epochs=epochs),
                   progress=False, report=False)
    assert caught.value.argument == argument
    assert snapshot(finished) == before


def test_refusals_before_anything_is_written(tmp_path, finished):
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "last.npz").write_bytes((finished / "last.npz").read_bytes())
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    cases = [
        (dict(resume=lone / "last.npz"), "resume", "there is no run.json beside it"),
        (dict(resume=text), "resume", r"notes.txt is not an nnlab checkpoint \(.npz\)"),
        (dict(resume=tmp_path / "missing.npz"), "resume", "no such file"),
        (dict(name="lenet-mnist", resume=finished / "last.npz"), "name",
         "is from a mlp-digits run"),
        (dict(run_dir=finished), "run_dir", "the folder already holds best.npz"),
        (dict(resume=finished / "last.npz", options=Options(lr=0.1)), "lr",
         "was trained with lr 0.003, and a resumed run keeps its options"),
        (dict(options=Options(epochs=0)), "epochs", "expected an integer >= 1"),
        (dict(options=Options(seed=-1)), "seed", "expected an integer >= 0"),
    ]
    before = snapshot(tmp_path), snapshot(finished)
    for kwargs, argument, match in cases:
        kwargs.setdefault("run_dir", tmp_path / "new")
        with pytest.raises(RunRefused, match=match) as caught:
            run_recipe(progress=False, report=False, **kwargs)
        assert caught.value.argument == argument
    assert (snapshot(tmp_path), snapshot(finished)) == before


def test_the_report_of_a_resumed_run_has_no_stopped_banner(tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_recipe("mlp-digits", Options(epochs=2, batch_size=360), run_dir=run_dir,
                   progress=False, diagnostics_every=0, report=False,
                   callbacks=[Interrupt(STOP_STEP)])
    records = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert json.loads(records[-1])["kind"] == "error"
    assert "Training stopped: " in (Path(report.write_report(run_dir)).read_text())
    run_recipe(resume=run_dir / "last.npz", progress=False, diagnostics_every=0)
    html = (run_dir / "index.html").read_text()
    assert "Training stopped" not in html and "Final metrics (epoch 2)" in html


def test_the_char_lstm_callback_carries_the_stream_state():
    model = StreamingCharLSTM(5, 4, 6, num_layers=2)
    assert _Streams(model).state_dict() == {"carried": None}
    ids = np.random.default_rng(0).integers(0, 5, (3, 7))
    model(Tensor(ids), Tensor(np.asarray(0)))
    state = _Streams(model).state_dict()["carried"]
    assert [tuple(s.shape) for s in state] == [(2, 3, 6), (2, 3, 6)]
    other = StreamingCharLSTM(5, 4, 6, num_layers=2)
    _Streams(other).load_state_dict({"carried": tuple(s.numpy() for s in state)})
    for a, b in zip(other.stream_state(), state):
        assert np.array_equal(a.numpy(), b.numpy())
    _Streams(other).load_state_dict({"carried": None})
    assert other.stream_state() is None
