"""Callbacks: small objects whose hook methods the trainer calls as training runs.

Hooks (each receives the `Trainer` first; override the ones you need):

    on_train_begin(trainer)                 after a resume is loaded, before epoch 1
    on_epoch_begin(trainer, epoch)          epochs count from 1
    on_batch_begin(trainer, batch)          batch index within the epoch, from 0
    on_after_backward(trainer)              gradients are in .grad, the step not yet taken
    on_batch_end(trainer, batch, logs)      logs: running 'loss' (and metrics) of the epoch
    on_diagnostics(trainer, record)         a diagnostics record (see diagnostics.py)
    on_epoch_end(trainer, epoch, logs)      logs: the epoch's record, also in History
    on_train_end(trainer)                   always, also after an error (trainer.error)

Callbacks run in the order of their `order` attribute (then as given): schedulers first,
loggers next, EarlyStopping, then ModelCheckpoint last, so a checkpoint holds the state
after every other callback has had its say about this epoch. `state_dict` /
`load_state_dict` carry a callback's state through a checkpoint.
"""
import csv
import math
import os
import sys

import numpy as np

from .format import format_loss


class Callback:
    """Base class: every hook does nothing."""

    order = 0

    def on_train_begin(self, trainer):
        pass

    def on_train_end(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_batch_begin(self, trainer, batch):
        pass

    def on_after_backward(self, trainer):
        pass

    def on_batch_end(self, trainer, batch, logs):
        pass

    def on_diagnostics(self, trainer, record):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def _monitored(logs, monitor, who):
    if monitor not in logs or logs[monitor] is None:
        available = sorted(k for k, v in logs.items() if isinstance(v, (int, float)))
        raise KeyError(f"{who}: the monitored metric {monitor!r} is not in this epoch's "
                       f"logs (available: {available}); pass monitor=... or a val_loader")
    return float(logs[monitor])


class _Best:
    """Tracks the best value of a metric: mode 'min', 'max' or 'auto' (max for names with
    'acc' in them)."""

    def __init__(self, monitor, mode, min_delta=0.0):
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.
    With restore_best_weights=True the model gets back the weights of its best epoch at
    the end of training (unless training ended with an error)."""

    order = 50

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto",
                 restore_best_weights=False):
        self.tracker = _Best(monitor, mode, min_delta)
        self.monitor, self.patience = monitor, patience
        self.restore_best_weights = restore_best_weights
        self.wait, self.best_epoch, self.stopped_epoch = 0, None, None
        self.best_state = None

    @property
    def best(self):
        return self.tracker.best

    def on_epoch_end(self, trainer, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self.tracker.improved(value):
            self.tracker.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = {k: v._data.copy()
                                   for k, v in trainer.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                trainer.stop_training = True

    def on_train_end(self, trainer):
        if (self.restore_best_weights and self.best_state is not None
                and trainer.error is None and self.best_epoch != trainer.epoch):
            trainer.model.load_state_dict(self.best_state)

    def state_dict(self):
        return {"best": self.tracker.best, "wait": self.wait, "best_epoch": self.best_epoch,
                "best_state": self.best_state}

    def load_state_dict(self, state):
        self.tracker.best, self.wait = state["best"], state["wait"]
        self.best_epoch, self.best_state = state["best_epoch"], state["best_state"]


class ModelCheckpoint(Callback):
    """At each epoch end write `dirpath/last.npz` (save_last) and, when `monitor` improves,
    `dirpath/best.npz` (save_best): full training checkpoints (see checkpoint.py), written
    atomically, from which `fit(..., resume=path)` continues exactly."""

    order = 100

    def __init__(self, dirpath, monitor="val_loss", mode="auto", save_best=True,
                 save_last=True, best_name="best.npz", last_name="last.npz"):
        self.dirpath = os.fspath(dirpath)
        self.tracker = _Best(monitor, mode)
        self.monitor, self.save_best, self.save_last = monitor, save_best, save_last
        self.best_path = os.path.join(self.dirpath, best_name)
        self.last_path = os.path.join(self.dirpath, last_name)
        self.best_epoch = None

    def on_epoch_end(self, trainer, epoch, logs):
        if self.save_best:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if self.tracker.improved(value):
                self.tracker.best, self.best_epoch = value, epoch
                trainer.save_checkpoint(self.best_path)
        if self.save_last:
            trainer.save_checkpoint(self.last_path)

    def state_dict(self):
        return {"best": self.tracker.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state):
        self.tracker.best, self.best_epoch = state["best"], state["best_epoch"]


def _closed_form_lrs(scheduler, t):
    """The learning rates `scheduler` gives at step `t` (a real number), from its closed
    form, leaving the scheduler as it was; None for a schedule defined only recursively."""
    from ..optim import lr_scheduler as sched
    by_get_lr = (sched.LambdaLR, sched.LinearInterpolationLR, sched.PowerLawLR,
                 sched.ExponentialDecayLR, sched.WarmupCosineLR)
    closed = getattr(scheduler, "_get_closed_form_lr", None)
    if closed is None and not isinstance(scheduler, by_get_lr):
        return None
    saved = scheduler.last_epoch
    scheduler.last_epoch = t
    try:
        return list(closed() if closed is not None else scheduler.get_lr())
    finally:
        scheduler.last_epoch = saved


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler every epoch (interval='epoch') or every optimizer step
    (interval='step'). A ReduceLROnPlateau is stepped with the epoch's `monitor` value.

    `replan(total, planned)` re-times the rest of the schedule (a resumed run given another
    number of epochs): after it, scheduler step n is set to the schedule's closed form at
    time tau(n), piecewise linear in n, equal to n up to the steps already taken and
    reaching the schedule's planned end at step `total`; past its end the schedule keeps
    its final learning rate."""

    order = -10

    def __init__(self, scheduler, interval="epoch", monitor="val_loss"):
        if interval not in ("epoch", "step"):
            raise ValueError(f"LRSchedulerCallback: interval must be 'epoch' or 'step', got "
                             f"{interval!r}")
        from ..optim.lr_scheduler import ReduceLROnPlateau
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor
        self.on_plateau = isinstance(scheduler, ReduceLROnPlateau)
        if self.on_plateau and interval != "epoch":
            raise ValueError("LRSchedulerCallback: ReduceLROnPlateau is stepped once per epoch "
                             "(interval='epoch') with the monitored metric")
        self.knots, self.count = None, 0   # the re-timed plan: [[step n, time tau], ...]

    def on_batch_end(self, trainer, batch, logs):
        if self.interval == "step":
            self._step()

    def on_epoch_end(self, trainer, epoch, logs):
        if self.interval != "epoch":
            return
        if self.on_plateau:
            self.scheduler.step(_monitored(logs, self.monitor,
                                           "LRSchedulerCallback(ReduceLROnPlateau)"))
        else:
            self._step()

    def _step(self):
        if self.knots is None:
            self.scheduler.step()
            return
        self.count += 1
        self.scheduler.step(self.time(self.count))

    def time(self, n):
        """The schedule's time at scheduler step n (n itself unless re-planned)."""
        if self.knots is None:
            return n
        steps, times = zip(*self.knots)
        return float(np.interp(n, steps, times))

    def lrs_at(self, n):
        """The learning rates the (re-planned) schedule gives at scheduler step n, or None
        for a schedule without a closed form."""
        return _closed_form_lrs(self.scheduler, self.time(n))

    def replan(self, total, planned):
        """Re-time what remains of the schedule to end at scheduler step `total` instead of
        where it was planned to (`planned`: its last step as built; ignored once
        re-planned, the plan knows). Returns (taken, end): the steps taken so far and the
        schedule time at which it ends. A ValueError for schedules without a closed form."""
        if self.on_plateau or _closed_form_lrs(self.scheduler, 0) is None:
            raise ValueError(f"LRSchedulerCallback: {type(self.scheduler).__name__} has no "
                             "closed form in its step, so its plan cannot be re-timed")
        if self.knots is None:
            self.count = int(self.scheduler.last_epoch)
            self.knots = [[0, 0.0], [int(planned), float(planned)]]
        taken, now, end = self.count, self.time(self.count), self.knots[-1][1]
        if not total > taken:
            raise ValueError(f"LRSchedulerCallback.replan: total={total}, expected more than "
                             f"the {taken} steps taken")
        self.knots = [k for k in self.knots if k[0] < taken] + [[taken, now], [int(total), end]]
        return taken, end

    def state_dict(self):
        return {"knots": self.knots, "count": self.count}

    def load_state_dict(self, state):
        self.knots, self.count = state.get("knots"), state.get("count", 0)


class GradientClipping(Callback):
    """Clip the gradients' total `norm_type`-norm to `max_norm` before each optimizer step
    (`nn.utils.clip_grad_norm_`); the epoch's logs get 'grad_norm', the mean norm before
    clipping."""

    order = -5

    def __init__(self, max_norm, norm_type=2.0):
        self.max_norm, self.norm_type = max_norm, norm_type
        self._sum, self._count = 0.0, 0

    def on_epoch_begin(self, trainer, epoch):
        self._sum, self._count = 0.0, 0

    def on_after_backward(self, trainer):
        from ..nn.utils import clip_grad_norm_
        total = clip_grad_norm_(trainer.model.parameters(), self.max_norm, self.norm_type)
        self._sum += float(total)
        self._count += 1

    def on_epoch_end(self, trainer, epoch, logs):
        if self._count:
            logs["grad_norm"] = self._sum / self._count


class ProgressBar(Callback):
    """A tqdm bar per epoch on stderr with the running loss and accuracy. disable=None turns
    it off when stderr is not a terminal (tests, CI logs); True turns it off always."""

    order = -20

    def __init__(self, disable=None, leave=False, file=None):
        self.disable, self.leave, self.file = disable, leave, file
        self.bar = None

    def on_epoch_begin(self, trainer, epoch):
        from tqdm.auto import tqdm
        loader = trainer.train_loader
        total = len(loader) if hasattr(loader, "__len__") else None
        self.bar = tqdm(total=total, desc=f"epoch {epoch}/{trainer.epochs}", unit="batch",
                        leave=self.leave, file=self.file or sys.stderr, disable=self.disable,
                        dynamic_ncols=True)

    def on_batch_end(self, trainer, batch, logs):
        if self.bar.disable:
            return
        postfix = {"loss": format_loss(logs["loss"])}
        if logs.get("accuracy") is not None:
            postfix["acc"] = f"{logs['accuracy']:.3f}"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(1)

    def on_epoch_end(self, trainer, epoch, logs):
        self._close()

    def on_train_end(self, trainer):
        self._close()

    def _close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def jsonable(value):
    """Plain JSON values: numpy scalars to Python, NaN and Inf to None."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _FileLogger(Callback):
    order = 10

    def __init__(self, path):
        self.path = os.fspath(path)
        self.file = None

    def on_train_begin(self, trainer):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        appending = trainer.initial_epoch > 0 and os.path.exists(self.path)
        self.file = open(self.path, "a" if appending else "w", newline="")  # noqa: SIM115

    def on_train_end(self, trainer):
        if self.file is not None:
            self.file.close()
            self.file = None


class CSVLogger(_FileLogger):
    """One row per epoch (epoch, loss, metrics, val_*, lr, time, ...) in a CSV file; the
    columns are those of the first epoch. A resumed run appends."""

    def on_epoch_end(self, trainer, epoch, logs):
        new = self.file.tell() == 0
        self.writer = getattr(self, "writer", None) or csv.DictWriter(
            self.file, fieldnames=list(logs), extrasaction="ignore")
        if new:
            self.writer.writeheader()
        self.writer.writerow(jsonable(logs))
        self.file.flush()

    def on_train_end(self, trainer):
        self.writer = None
        super().on_train_end(trainer)


class JSONLinesLogger(_FileLogger):
    """One JSON object per line: {"kind": "epoch", ...} per epoch, {"kind": "step", ...}
    per diagnostics record, and {"kind": "error", ...} if training stops on an error.
    A resumed run appends."""

    def _write(self, record):
        import json
        self.file.write(json.dumps(jsonable(record), allow_nan=False) + "\n")
        self.file.flush()

    def on_epoch_end(self, trainer, epoch, logs):
        self._write({"kind": "epoch", **logs})

    def on_diagnostics(self, trainer, record):
        self._write(record)

    def on_train_end(self, trainer):
        if self.file is not None and trainer.error is not None:
            err = trainer.error
            self._write({"kind": "error", "type": type(err).__name__, "message": str(err),
                         "step": trainer.step, "epoch": trainer.epoch})
        super().on_train_end(trainer)
