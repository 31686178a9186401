"""Floor 7: training. `fit` / `Trainer`, callbacks, metrics, diagnostics, checkpoints,
reports, the named recipes behind `nnlab train` (`recipes`) and the running of one (`run`).

    history = train.fit(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader,
                        epochs=10, callbacks=[train.EarlyStopping(patience=3)],
                        run_dir="runs/my-run")
"""
from . import callbacks, checkpoint, diagnostics, metrics, recipes, report, run
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    GradientClipping,
    JSONLinesLogger,
    LRSchedulerCallback,
    ModelCheckpoint,
    ProgressBar,
)
from .checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from .diagnostics import Diagnostics, NonFiniteError
from .report import write_report
from .trainer import History, Trainer, evaluate, fit

__all__ = ["fit", "evaluate", "Trainer", "History", "Callback", "EarlyStopping",
           "ModelCheckpoint", "LRSchedulerCallback", "GradientClipping", "ProgressBar",
           "CSVLogger", "JSONLinesLogger", "Diagnostics", "NonFiniteError", "CheckpointError",
           "save_checkpoint", "load_checkpoint", "read_checkpoint", "write_report",
           "callbacks", "checkpoint", "diagnostics", "metrics", "recipes", "report",
           "run"]
