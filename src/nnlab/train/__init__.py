"""Floor 7: training. `fit` / `Trainer`, callbacks, metrics, diagnostics, checkpoints,
reports and the named recipes behind `nnlab train`.

    history = train.fit(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader,
                        epochs=10, callbacks=[train.EarlyStopping(patience=3)],
                        run_dir="runs/my-run")
"""
from . import callbacks, checkpoint, diagnostics, metrics, recipes, report
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    GradientClipping,
    JSONLinesLogger,
    LRScheduler,
    ModelCheckpoint,
    ProgressBar,
)
from .checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from .diagnostics import Diagnostics, NonFiniteError
from .report import write_report
from .trainer import History, Trainer, evaluate, fit

__all__ = ["fit", "evaluate", "Trainer", "History", "Callback", "EarlyStopping",
           "ModelCheckpoint", "LRScheduler", "GradientClipping", "ProgressBar", "CSVLogger",
           "JSONLinesLogger", "Diagnostics", "NonFiniteError", "CheckpointError",
           "save_checkpoint", "load_checkpoint", "read_checkpoint", "write_report",
           "callbacks", "checkpoint", "diagnostics", "metrics", "recipes", "report"]
