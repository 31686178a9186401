"""Running a recipe: build it, train it in a run directory, write results and the report.

    result = run_recipe("mlp-digits", Options(epochs=5), run_dir="runs/quick")

A run directory holds run.json (the recipe, its options and settings), the checkpoints
best.npz and last.npz, the metrics logs, results.json (the held-out figures) and the
report (index.html and its PNGs).
"""
import dataclasses
import json
import os
import time
from dataclasses import dataclass, field

from ..utils.io import atomic_write
from .callbacks import LRSchedulerCallback, ModelCheckpoint, ProgressBar
from .diagnostics import NonFiniteError
from .recipes import DEFAULT, Options, Setup, build, resolve
from .report import write_report
from .trainer import Trainer, evaluate


def default_run_dir(name, root="runs"):
    """runs/<recipe>-<YYYYmmdd-HHMMSS>, with a -2, -3, ... suffix if taken."""
    base = os.path.join(root, f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
    path, n = base, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}"
    return path


def saved_options(checkpoint):
    """(recipe name, Options) from the run.json beside a checkpoint, or (None, None)."""
    path = os.path.join(os.path.dirname(os.path.abspath(checkpoint)), "run.json")
    if not os.path.exists(path):
        return None, None
    with open(path) as f:
        saved = json.load(f)
    fields = {f.name for f in dataclasses.fields(Options)}
    return saved.get("recipe"), Options(**{k: v for k, v in saved.get("options", {}).items()
                                           if k in fields})


def merge_options(options, fallback):
    """`options` with its None fields taken from `fallback`."""
    if fallback is None:
        return options
    return dataclasses.replace(options, **{
        f.name: getattr(fallback, f.name) for f in dataclasses.fields(Options)
        if getattr(options, f.name) is None})


@dataclass
class RunResult:
    run_dir: str
    history: object
    held_out: dict
    report: str
    seconds: float
    setup: Setup
    lines: list = field(default_factory=list)


def run_recipe(name=None, options=None, run_dir=None, resume=None, progress=None,
               callbacks=(), diagnostics_every=50, report=True):
    """Build recipe `name` (default: mlp-digits), train it in `run_dir` (default:
    runs/<name>-<timestamp>) with ModelCheckpoint (best.npz, last.npz), metrics logs and
    diagnostics, then write the report. progress: None shows a tqdm bar when stderr is a
    terminal, False never. Returns a RunResult; `held_out` is the final model's
    {'loss', 'accuracy', 'samples'} on the held-out split (its metrics, and the figures of
    the recipe's `after`, where the recipe has them), also written to results.json.

    resume: a checkpoint to continue from. The recipe and the options not given are then
    those of the run.json beside it, and the run directory defaults to its folder;
    `epochs` counts the epochs in total."""
    start = time.perf_counter()
    options = options or Options()
    if resume is not None:
        saved_name, saved = saved_options(resume)
        name = name or saved_name
        options = merge_options(options, saved)
    name = name or DEFAULT
    options = resolve(name, options)
    if run_dir is None:
        run_dir = os.path.dirname(os.path.abspath(resume)) if resume else default_run_dir(name)
    run_dir = os.fspath(run_dir)
    setup = build(name, options)
    cbs = [ModelCheckpoint(run_dir), *setup.callbacks, *callbacks]
    if setup.scheduler is not None:
        cbs.append(LRSchedulerCallback(setup.scheduler, setup.scheduler_interval))
    if progress is not False:
        cbs.append(ProgressBar(disable=None))
    trainer = Trainer(setup.model, setup.loss_fn, setup.optimizer, cbs, setup.metrics,
                      diagnostics_every=diagnostics_every, run_dir=run_dir)
    if resume is not None:  # fails here, before any file is written
        trainer.load_checkpoint(resume, setup.train_loader)
    os.makedirs(run_dir, exist_ok=True)
    settings = {"recipe": name, "options": dataclasses.asdict(options),
                "model": repr(setup.model), **setup.info}
    atomic_write(os.path.join(run_dir, "run.json"),
                 lambda f: f.write(json.dumps(settings, indent=2)), mode="w")
    try:
        history = trainer.fit(setup.train_loader, setup.val_loader, setup.epochs)
    except NonFiniteError as e:
        if report and os.path.exists(os.path.join(run_dir, "metrics.jsonl")):
            e.report = write_report(run_dir)  # the run up to the failure, and the error
        raise
    held_out = evaluate(setup.model, setup.loss_fn, setup.val_loader, setup.metrics)
    lines = []
    if setup.after is not None:
        figures, lines = setup.after(setup.model)
        held_out.update(figures)
    atomic_write(os.path.join(run_dir, "results.json"),
                 lambda f: f.write(json.dumps({"held_out": held_out}, indent=2)), mode="w")
    report_path = write_report(run_dir) if report else None
    return RunResult(run_dir, history, held_out, report_path, time.perf_counter() - start,
                     setup, lines)
