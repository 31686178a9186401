"""`fit` and `Trainer`: the training loop a PyTorch user writes by hand, once.

Each step is the familiar

    optimizer.zero_grad()
    loss = loss_fn(model(x), y)      # a NaN or Inf loss stops training (NonFiniteError)
    loss.backward()                  # so does a NaN or Inf gradient
    optimizer.step()

with callbacks around it (callbacks.py), metrics summed over the epoch (metrics.py) and,
every `diagnostics_every` steps, the per-layer statistics of diagnostics.py. `fit` returns
a `History` of per-epoch records:

    epoch, loss, accuracy, val_loss, val_accuracy, lr, time, step
    (accuracy when the targets are class indices; val_* with a val_loader; lr is the first
    parameter group's learning rate at the epoch's last step; time in seconds; step counts
    optimizer steps so far)
"""
import math
import os
import time

from .. import ops, parallel
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from . import checkpoint as ckpt
from . import metrics as metrics_lib
from .callbacks import CSVLogger, JSONLinesLogger, LRSchedulerCallback
from .diagnostics import (
    Diagnostics,
    NonFiniteError,
    find_nonfinite_gradients,
    find_nonfinite_output,
    nonfinite_parameters,
)


class History:
    """Per-epoch records (`epochs`: list of dicts) and diagnostics records (`steps`).
    `history['val_loss']` is that column as a list (None where absent)."""

    def __init__(self, epochs=None, steps=None):
        self.epochs = list(epochs or [])
        self.steps = list(steps or [])

    def append(self, record):
        self.epochs.append(record)

    def __getitem__(self, key):
        return [e.get(key) for e in self.epochs]

    def __len__(self):
        return len(self.epochs)

    def __repr__(self):
        keys = list(self.epochs[-1]) if self.epochs else []
        return f"History({len(self.epochs)} epochs, {len(self.steps)} steps, keys={keys})"

    @property
    def last(self):
        """The last epoch's record ({} before any)."""
        return self.epochs[-1] if self.epochs else {}

    @property
    def history(self):
        """{key: [value per epoch]} (Keras' History.history)."""
        keys = list(dict.fromkeys(k for e in self.epochs for k in e))
        return {k: self[k] for k in keys}

    def best(self, monitor="val_loss", mode="auto"):
        """The record of the epoch with the best `monitor` (max for accuracies)."""
        rows = [e for e in self.epochs if e.get(monitor) is not None]
        if not rows:
            raise KeyError(f"History.best: no epoch has {monitor!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        pick = max if mode == "max" else min
        return pick(rows, key=lambda e: e[monitor])


def _as_tensor(x):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(_as_tensor(v) for v in x)
    return ops.as_tensor(x)


def split_batch(batch):
    """(inputs tuple, target) from a loader's batch: (x, y), or (x1, ..., xk, y)."""
    if not isinstance(batch, (list, tuple)) or len(batch) < 2:
        raise TypeError(f"fit: a batch must be a tuple (inputs..., target), got "
                        f"{type(batch).__name__}"
                        + (f" of length {len(batch)}" if isinstance(batch, (list, tuple))
                           else ""))
    *inputs, target = batch
    return tuple(_as_tensor(x) for x in inputs), _as_tensor(target)


def _detached(output):
    """`output` cut from the graph: a Tensor, or a tuple of them (a VAE's (logits, mu,
    logvar))."""
    if isinstance(output, (tuple, list)):
        return type(output)(_detached(o) for o in output)
    return output.detach()


def _batch_size(target):
    return int(target.shape[0]) if target.ndim else 1


def evaluate(model, loss_fn, loader, metrics="auto"):
    """{'loss': mean loss per sample, metric: value, ..., 'samples': n} over `loader`, in
    eval mode and without autograd (the model's mode is restored after)."""
    was_training = model.training
    model.eval()
    loss_mean, means, resolved = metrics_lib.Mean(), {}, None
    try:
        with no_grad():
            for batch in loader:
                inputs, target = split_batch(batch)
                output = model(*inputs)
                n = _batch_size(target)
                loss_mean.update(float(loss_fn(output, target).item()) * n, n)
                if resolved is None:
                    resolved = metrics_lib.resolve(metrics, output, target)
                    means = {name: metrics_lib.Mean() for name in resolved}
                for name, fn in resolved.items():
                    means[name].update(*fn(output, target))
    finally:
        model.train(was_training)
    result = {"loss": loss_mean.value}
    result.update({name: m.value for name, m in means.items()})
    result["samples"] = loss_mean.count
    return result


class Trainer:
    """Holds the model, loss, optimizer and callbacks, and runs `fit`. Callbacks see the
    trainer: `model`, `optimizer`, `train_loader`, `epochs`, `epoch` (the current or last
    epoch, from 1), `step` (optimizer steps taken), `history`, `stop_training` (set it to
    stop after this epoch), `error`, `initial_epoch` (> 0 when resumed),
    `last_checkpoint`."""

    def __init__(self, model, loss_fn, optimizer, callbacks=(), metrics="auto",
                 diagnostics_every=50, run_dir=None):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.metrics = metrics
        self.run_dir = None if run_dir is None else os.fspath(run_dir)
        callbacks = list(callbacks)
        if self.run_dir is not None:
            have = {type(c) for c in callbacks}
            if CSVLogger not in have:
                callbacks.append(CSVLogger(os.path.join(self.run_dir, "metrics.csv")))
            if JSONLinesLogger not in have:
                callbacks.append(JSONLinesLogger(os.path.join(self.run_dir, "metrics.jsonl")))
        self.callbacks = sorted(callbacks, key=lambda c: c.order)
        self.diagnostics = Diagnostics(model, diagnostics_every)
        self.history = History()
        self.epoch, self.step, self.epochs, self.initial_epoch = 0, 0, 0, 0
        self.train_loader = self.val_loader = None
        self.stop_training, self.error, self.last_checkpoint = False, None, None

    # -- checkpoints ----------------------------------------------------------------------
    @property
    def schedulers(self):
        return [c.scheduler for c in self.callbacks if isinstance(c, LRSchedulerCallback)]

    def _callback_states(self):
        return {f"{i}:{type(c).__name__}": c.state_dict() for i, c in enumerate(self.callbacks)}

    def save_checkpoint(self, path):
        """A full checkpoint of this run after `self.epoch` epochs (see checkpoint.py); its
        `extra` holds the History, the callbacks' states and `epochs`, the total the run was
        training to."""
        extra = {"history": {"epochs": self.history.epochs, "steps": self.history.steps},
                 "callbacks": self._callback_states(), "epochs": self.epochs}
        ckpt.save_checkpoint(path, self.model, self.optimizer, self.schedulers,
                             epoch=self.epoch, step=self.step, loader=self.train_loader,
                             extra=extra)
        self.last_checkpoint = os.fspath(path)
        return self.last_checkpoint

    def load_checkpoint(self, path, train_loader=None):
        """Load a checkpoint written by `save_checkpoint` to continue from it (into the
        model, optimizer, schedulers, callbacks, RNG and `train_loader`'s generator);
        a following `fit` continues after the checkpoint's epoch."""
        state = ckpt.load_checkpoint(path, self.model, self.optimizer, self.schedulers,
                                     loader=train_loader or self.train_loader)
        self.epoch = self.initial_epoch = state.epoch
        self.step = state.step
        extra = state.extra or {}
        history = extra.get("history") or {}
        self.history = History(history.get("epochs"), history.get("steps"))
        saved = extra.get("callbacks") or {}
        for key, callback in zip(self._callback_states(), self.callbacks):
            if key in saved:
                callback.load_state_dict(saved[key])
        self.last_checkpoint = os.fspath(path)
        return state

    # -- the loop -------------------------------------------------------------------------
    def _call(self, hook, *args):
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def fit(self, train_loader, val_loader=None, epochs=1, resume=None):
        """Train until `epochs` epochs in total are done (a resumed run continues from the
        checkpoint's epoch). Returns the History."""
        self.train_loader, self.val_loader, self.epochs = train_loader, val_loader, int(epochs)
        self.stop_training, self.error = False, None
        parallel.keep_freed_memory()   # a training step's temporaries reuse freed memory
        if resume is not None:
            self.load_checkpoint(resume)
        try:
            self._call("on_train_begin")
            for epoch in range(self.epoch + 1, self.epochs + 1):
                self.epoch = epoch
                self._call("on_epoch_begin", epoch)
                logs = self._train_epoch(epoch)
                if val_loader is not None:
                    val = evaluate(self.model, self.loss_fn, val_loader, self.metrics)
                    logs.update({f"val_{k}": v for k, v in val.items() if k != "samples"})
                logs["lr"] = logs.pop("lr")  # keep the column order: metrics, val_*, lr
                logs["time"] = time.perf_counter() - self._epoch_start
                logs["step"] = self.step
                self.history.append(logs)
                self._call("on_epoch_end", epoch, logs)
                if self.stop_training:
                    break
        except BaseException as e:
            self.error = e
            raise
        finally:
            self.diagnostics.close()
            self._call("on_train_end")
        return self.history

    def _lr(self):
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None

    def _train_epoch(self, epoch):
        self.model.train()
        self._epoch_start = time.perf_counter()
        loss_mean, means, resolved = metrics_lib.Mean(), {}, None
        diag = self.diagnostics
        for batch_idx, batch in enumerate(self.train_loader):
            self.step += 1
            self._call("on_batch_begin", batch_idx)
            inputs, target = split_batch(batch)
            due = diag.due(self.step)
            self.optimizer.zero_grad()
            if due:
                diag.begin(self.step, epoch)
            try:
                output = self.model(*inputs)
            finally:
                if due:
                    diag.end_forward()
            loss = self.loss_fn(output, target)
            loss_value = float(loss.item())
            if not math.isfinite(loss_value):
                raise self._nonfinite_loss(loss_value, inputs, epoch, batch_idx)
            loss.backward()
            bad = find_nonfinite_gradients(diag.groups)
            if bad is not None:
                raise self._nonfinite_gradient(bad, loss_value, epoch, batch_idx)
            if due:
                diag.after_backward()
            self._call("on_after_backward")
            if due:
                diag.before_step()
            step_lr = self._lr()
            self.optimizer.step()
            if due:
                record = diag.finish(loss_value, step_lr)
                self.history.steps.append(record)
                self._call("on_diagnostics", record)
            n = _batch_size(target)
            loss_mean.update(loss_value * n, n)
            if resolved is None:
                resolved = metrics_lib.resolve(self.metrics, output, target)
                means = {name: metrics_lib.Mean() for name in resolved}
            for name, fn in resolved.items():
                means[name].update(*fn(_detached(output), target))
            running = {"loss": loss_mean.value}
            running.update({name: m.value for name, m in means.items()})
            self._call("on_batch_end", batch_idx, running)
        if loss_mean.count == 0:
            raise ValueError("fit: the train_loader gave no batches")
        logs = {"epoch": epoch, "loss": loss_mean.value}
        logs.update({name: m.value for name, m in means.items()})
        logs["lr"] = step_lr
        return logs

    # -- errors ---------------------------------------------------------------------------
    def _where(self, epoch, batch_idx):
        return f"step {self.step} (epoch {epoch}, batch {batch_idx})"

    def _checkpoint_note(self):
        if self.last_checkpoint is None:
            return ""
        return f" The last good checkpoint is {self.last_checkpoint} (left as it was)."

    def _nonfinite_loss(self, loss_value, inputs, epoch, batch_idx):
        bad_inputs = [i for i, x in enumerate(inputs)
                      if x.dtype.kind == "f" and not bool(ops.isfinite(x).all().item())]
        layer = None
        if bad_inputs:
            cause = "the input batch itself has non-finite values"
        else:
            found = find_nonfinite_output(self.model, inputs)
            if found is None:
                cause = "the model's outputs are finite, so the loss function made it"
            else:
                layer = found[0]
                cause = (f"the first layer with a non-finite output is {layer!r} "
                         f"({type(found[1]).__name__})")
        params = nonfinite_parameters(self.model)
        if params:
            cause += f"; parameters with non-finite values: {', '.join(params)}"
        return NonFiniteError(
            f"{self._where(epoch, batch_idx)}: the loss is {loss_value}; {cause}. Training "
            f"stopped before this step's update.{self._checkpoint_note()}",
            step=self.step, epoch=epoch, batch=batch_idx, kind="loss", layer=layer,
            parameters=params, loss=loss_value)

    def _nonfinite_gradient(self, bad, loss_value, epoch, batch_idx):
        layer, module, params = bad
        names = ", ".join(f"{n} ({kind})" for n, kind in params)
        return NonFiniteError(
            f"{self._where(epoch, batch_idx)}: non-finite gradient (the loss, {loss_value:.6g}, "
            f"is finite); the first layer in the backward pass with a non-finite gradient is "
            f"{layer!r} ({type(module).__name__}): {names}. Training stopped before this "
            f"step's update.{self._checkpoint_note()}",
            step=self.step, epoch=epoch, batch=batch_idx, kind="gradient", layer=layer,
            parameters=[n for n, _ in params], loss=loss_value)


def fit(model, loss_fn, optimizer, train_loader, val_loader=None, epochs=1, callbacks=(),
        metrics="auto", diagnostics_every=50, run_dir=None, resume=None):
    """Train `model` for `epochs` epochs (in total, counting those of a `resume`
    checkpoint) and return its `History` (see the module docstring).

    metrics: 'auto' (accuracy when targets are class indices), None, or names/callables.
    diagnostics_every: steps between diagnostics records (0 or None: off).
    run_dir: write metrics.csv and metrics.jsonl (epochs and diagnostics) there.
    resume: a checkpoint written by ModelCheckpoint / Trainer.save_checkpoint.
    """
    trainer = Trainer(model, loss_fn, optimizer, callbacks, metrics, diagnostics_every,
                      run_dir)
    return trainer.fit(train_loader, val_loader, epochs, resume)

