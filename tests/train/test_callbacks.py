"""Callbacks: EarlyStopping, ModelCheckpoint, LRSchedulerCallback, GradientClipping, ProgressBar
and the CSV / JSON-lines loggers."""
import csv
import io
import json

import numpy as np
import pytest

from nnlab import optim, train
from nnlab.train import Callback
from tests.train.common import params, tiny_setup


class Scripted(Callback):
    """Replaces each epoch's val_loss with the next of `values` (runs before the others)."""

    order = -100

    def __init__(self, values):
        self.values = list(values)

    def on_epoch_end(self, trainer, epoch, logs):
        logs["val_loss"] = self.values[epoch - 1]


class Snapshots(Callback):
    order = 1000

    def __init__(self):
        self.params = {}

    def on_epoch_end(self, trainer, epoch, logs):
        self.params[epoch] = params(trainer.model)


def test_early_stopping_stops_after_patience_and_restores_best_weights():
    model, loss_fn, opt, train_loader, val_loader = tiny_setup()
    snaps = Snapshots()
    stop = train.EarlyStopping(patience=2, restore_best_weights=True)
    history = train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=10,
                        callbacks=[Scripted([3.0, 2.0, 2.5, 2.1, 1.0, 0.5]), stop, snaps])
    assert len(history) == 4 and stop.stopped_epoch == 4
    assert stop.best == 2.0 and stop.best_epoch == 2
    for k, v in params(model).items():
        np.testing.assert_array_equal(v, snaps.params[2][k])
    assert not np.array_equal(snaps.params[2]["0.weight"], snaps.params[4]["0.weight"])


def test_early_stopping_min_delta_mode_and_no_restore():
    model, loss_fn, opt, train_loader, val_loader = tiny_setup()
    stop = train.EarlyStopping(monitor="val_loss", patience=1, min_delta=0.5)
    snaps = Snapshots()
    history = train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=10,
                        callbacks=[Scripted([3.0, 2.6, 1.0]), stop, snaps])
    assert len(history) == 2                                 # 2.6 is not 0.5 better than 3
    np.testing.assert_array_equal(params(model)["0.weight"], snaps.params[2]["0.weight"])
    assert train.EarlyStopping(monitor="val_accuracy").tracker.mode == "max"
    with pytest.raises(ValueError, match="mode must be"):
        train.EarlyStopping(mode="up")


def test_monitored_metric_missing_is_a_clear_error():
    model, loss_fn, opt, train_loader, _ = tiny_setup()
    with pytest.raises(KeyError, match="'val_loss' is not in this epoch's logs"):
        train.fit(model, loss_fn, opt, train_loader, epochs=1,
                  callbacks=[train.EarlyStopping()])


def test_model_checkpoint_writes_best_and_last(tmp_path):
    model, loss_fn, opt, train_loader, val_loader = tiny_setup()
    saver = train.ModelCheckpoint(tmp_path)
    snaps = Snapshots()
    train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=4,
              callbacks=[Scripted([2.0, 1.0, 1.5, 3.0]), saver, snaps])
    best = train.read_checkpoint(tmp_path / "best.npz")
    last = train.read_checkpoint(tmp_path / "last.npz")
    assert (best.epoch, best.step, last.epoch, last.step) == (2, 8, 4, 16)
    assert saver.best_epoch == 2
    for k, v in best.model_state.items():
        np.testing.assert_array_equal(v, snaps.params[2][k])
    for k, v in last.model_state.items():
        np.testing.assert_array_equal(v, snaps.params[4][k])
    assert [e["epoch"] for e in last.extra["history"]["epochs"]] == [1, 2, 3, 4]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "last.npz"]


def test_lr_scheduler_per_epoch_and_per_step():
    model, loss_fn, opt, train_loader, _ = tiny_setup(lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = train.fit(model, loss_fn, opt, train_loader, epochs=3,
                        callbacks=[train.LRSchedulerCallback(sched)])
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    model, loss_fn, opt, train_loader, _ = tiny_setup(lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = train.fit(model, loss_fn, opt, train_loader, epochs=2,
                        callbacks=[train.LRSchedulerCallback(sched, interval="step")])
    assert history["lr"] == pytest.approx([0.1 * 0.5 ** 3, 0.1 * 0.5 ** 7])  # at the last step


def test_lr_scheduler_reduce_on_plateau_gets_the_monitored_metric():
    model, loss_fn, opt, train_loader, val_loader = tiny_setup(lr=0.1)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.1, patience=0)
    history = train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=4,
                        callbacks=[Scripted([1.0, 2.0, 0.5, 0.7]),
                                   train.LRSchedulerCallback(sched)])
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.01, 0.01])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)
    with pytest.raises(ValueError, match="once per epoch"):
        train.LRSchedulerCallback(sched, interval="step")
    with pytest.raises(ValueError, match="interval must be"):
        train.LRSchedulerCallback(sched, interval="batch")


def test_gradient_clipping_bounds_the_step():
    # plain SGD: the update of a step is lr * clipped gradient, so its norm is <= lr * max_norm
    model, loss_fn, _, train_loader, _ = tiny_setup()
    opt = optim.SGD(model.parameters(), lr=1.0)

    class UpdateNorms(Callback):
        order = 200

        def __init__(self):
            self.norms = []

        def on_batch_begin(self, trainer, batch):
            self.before = params(trainer.model)

        def on_batch_end(self, trainer, batch, logs):
            after = params(trainer.model)
            self.norms.append(np.sqrt(sum(((after[k] - self.before[k]) ** 2).sum()
                                          for k in after)))

    norms = UpdateNorms()
    clip = train.GradientClipping(max_norm=1e-3)
    history = train.fit(model, loss_fn, opt, train_loader, epochs=2, callbacks=[clip, norms])
    assert max(norms.norms) <= 1e-3 * (1 + 1e-5)
    assert history["grad_norm"][0] > 1e-3               # the mean norm before clipping


def test_loggers_write_csv_and_json_lines(tmp_path):
    model, loss_fn, opt, train_loader, val_loader = tiny_setup()
    train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=2, diagnostics_every=3,
              run_dir=tmp_path)
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr",
                            "time", "step"}
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    assert [r["kind"] for r in records] == ["step", "step", "epoch", "step", "epoch"]
    assert [r["step"] for r in records if r["kind"] == "step"] == [1, 4, 7]
    assert float(rows[1]["val_loss"]) == pytest.approx(records[-1]["val_loss"])


def test_progress_bar_is_quiet_when_not_a_tty_and_shows_loss_when_forced():
    model, loss_fn, opt, train_loader, _ = tiny_setup()

    class NotATTY(io.StringIO):
        def isatty(self):
            return False

    quiet = NotATTY()
    train.fit(model, loss_fn, opt, train_loader, epochs=1,
              callbacks=[train.ProgressBar(file=quiet)])
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    train.fit(model, loss_fn, opt, train_loader, epochs=1,
              callbacks=[train.ProgressBar(disable=False, leave=True, file=shown)])
    text = shown.getvalue()
    assert "epoch 1/1" in text and "loss=" in text and "acc=" in text and "4/4" in text
