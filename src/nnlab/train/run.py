"""Running a recipe: build it, train it in a run directory, write results and the report.

    result = run_recipe("mlp-digits", Options(epochs=5), run_dir="runs/quick")
    result = run_recipe(resume="runs/quick/last.npz")     # continue a stopped run exactly

A run directory holds run.json (the recipe, its options and settings), the checkpoints
best.npz and last.npz, the metrics logs, results.json (the held-out figures) and the
report (index.html and its PNGs).

Resuming with other epochs than the run was training to re-plans its learning-rate
schedule (`LRSchedulerCallback.replan`): what remained of the schedule after the
checkpoint's epoch is re-timed to end with the new last epoch, so the learning rate goes
on from where it was and never climbs back up from a finished cosine; a schedule that had
ended keeps its final learning rate, and one that ended at 0 is refused (more epochs would
change nothing: start a new run).
"""
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field

from ..utils.io import atomic_write
from .callbacks import LRSchedulerCallback, ModelCheckpoint, ProgressBar
from .checkpoint import NotACheckpointError, read_checkpoint
from .diagnostics import NonFiniteError
from .recipes import DEFAULT, Options, Setup, build, resolve
from .report import write_report
from .trainer import Trainer, evaluate


class RunRefused(ValueError):
    """A run that cannot start as asked (a usage error), raised before anything is written:
    `argument` names run_recipe's parameter, `value` is what it got, `reason` says what is
    wrong and what is expected, naming other parameters as {epochs}, {resume}, ... so that
    `message` can spell them (the CLI spells them as its flags)."""

    def __init__(self, argument, value, reason):
        self.argument, self.value, self.reason = argument, value, reason
        super().__init__(self.message())

    def message(self, names=None, sep="="):
        """'ARGUMENT{sep}VALUE: reason', with parameters spelled by `names` ({'epochs':
        '--epochs', ...}; unnamed ones as run_recipe's)."""
        names = names or {}
        reason = self.reason
        keys = ["resume", "run_dir", "name", *(f.name for f in dataclasses.fields(Options))]
        for key in keys:
            reason = reason.replace("{" + key + "}", names.get(key, key))
        return f"{names.get(self.argument, self.argument)}{sep}{self.value}: {reason}"


def default_run_dir(name, root="runs"):
    """runs/<recipe>-<YYYYmmdd-HHMMSS>, with a -2, -3, ... suffix if taken."""
    base = os.path.join(root, f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
    path, n = base, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}"
    return path


def _saved_settings(checkpoint):
    """The run.json beside a checkpoint as a dict, or None when there is none."""
    path = os.path.join(os.path.dirname(os.path.abspath(checkpoint)), "run.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _options_from(settings):
    fields = {f.name for f in dataclasses.fields(Options)}
    return Options(**{k: v for k, v in settings.get("options", {}).items() if k in fields})


def saved_options(checkpoint):
    """(recipe name, Options) from the run.json beside a checkpoint, or (None, None)."""
    saved = _saved_settings(checkpoint)
    if saved is None:
        return None, None
    return saved.get("recipe"), _options_from(saved)


def merge_options(options, fallback):
    """`options` with its None fields taken from `fallback`."""
    if fallback is None:
        return options
    return dataclasses.replace(options, **{
        f.name: getattr(fallback, f.name) for f in dataclasses.fields(Options)
        if getattr(options, f.name) is None})


# -- refusals, each before anything is written ---------------------------------------------------
# each numeric option's range, (check, what is expected): the CLI's argument types too
OPTION_RANGES = {"epochs": (lambda v: v >= 1, "an integer >= 1"),
                 "batch_size": (lambda v: v >= 1, "an integer >= 1"),
                 "lr": (lambda v: v > 0 and math.isfinite(v), "a number > 0"),
                 "seed": (lambda v: v >= 0, "an integer >= 0"),
                 "labels": (lambda v: v >= 1, "an integer >= 1"),
                 "latent_dim": (lambda v: v >= 1, "an integer >= 1")}


def check_options(options):
    """RunRefused for an option out of its range (OPTION_RANGES; None, the recipe's
    default, passes)."""
    for name, (ok, expected) in OPTION_RANGES.items():
        value = getattr(options, name)
        if value is not None and not ok(value):
            raise RunRefused(name, value, f"expected {expected}")


def check_run_dir(run_dir, resume=None):
    """RunRefused unless `run_dir` is new, empty, or the folder of the checkpoint resumed:
    a run never overwrites another."""
    if not os.path.exists(run_dir):
        return
    if not os.path.isdir(run_dir):
        raise RunRefused("run_dir", run_dir, "exists and is not a folder; expected a new or "
                         "empty folder")
    if resume is not None and os.path.samefile(run_dir, os.path.dirname(
            os.path.abspath(resume))):
        return
    entries = sorted(os.listdir(run_dir))
    if entries:
        shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
        raise RunRefused("run_dir", run_dir, f"the folder already holds {shown}; expected a "
                         "new or empty folder (a run never overwrites another: choose another "
                         "folder, delete this one, or continue its run with {resume} "
                         f"{os.path.join(run_dir, 'last.npz')})")


def _read_resume(resume):
    """The Checkpoint at `resume` and its run.json's settings; RunRefused for a missing
    file, one that is no nnlab checkpoint, or one without its run.json (CheckpointError for
    a damaged checkpoint)."""
    if not os.path.isfile(resume):
        raise RunRefused("resume", resume, "no such file; expected a checkpoint, such as "
                         "RUN_DIR/last.npz")
    try:
        checkpoint = read_checkpoint(resume)
    except NotACheckpointError as e:
        raise RunRefused("resume", resume, str(e)) from None
    settings = _saved_settings(resume)
    if settings is None:
        folder = os.path.dirname(os.path.abspath(resume))
        raise RunRefused("resume", resume, f"there is no run.json beside it (in {folder}), "
                         "so its recipe and options are unknown; expected a checkpoint in the "
                         "run directory that nnlab train wrote it to, beside its run.json")
    return checkpoint, settings


# -- continuing a run --------------------------------------------------------------------------
def _continue(trainer, schedule, units, epochs, given, planned, resume):
    """After a checkpoint is loaded into `trainer`: RunRefused when there is nothing to train
    up to `epochs`; else re-plan the schedule (LRSchedulerCallback `schedule`, stepped
    `units` times an epoch) when `epochs` is not the `planned` total. Returns the line that
    says what the schedule became, or None when it was kept."""
    done = trainer.epoch
    name = type(schedule.scheduler).__name__ if schedule is not None else None
    annealed = done >= planned and _ends_at_zero(schedule, done * units)  # finished at lr 0
    if epochs <= done:
        state = (f"finished its {planned} epochs" if done >= planned
                 else f"is at epoch {done} of {planned}")
        argument, value = ("resume", resume) if given is None else ("epochs", given)
        if annealed:
            how = ("start a new run with more {epochs} (its learning rate, a "
                   f"{name}, ended at 0, so more epochs on it would change nothing)")
        else:
            how = f"give more {{epochs}} in total than {done} to extend it"
        raise RunRefused(argument, value, f"the run {state} (the checkpoint is at epoch "
                         f"{done}), so there is nothing to continue; to train longer, {how}")
    if schedule is None or epochs == planned:
        return None
    if annealed:
        raise RunRefused("epochs", epochs, f"the run finished its {planned} epochs with its "
                         f"learning rate, a {name}, annealed to 0, so more epochs on it would "
                         "change nothing; expected a new run (not {resume}) to train for "
                         f"{epochs} epochs")
    try:
        schedule.replan(epochs * units, planned * units)
    except ValueError as e:
        raise RunRefused("epochs", epochs, f"{e}; expected the {planned} epochs the run was "
                         "planned for") from None
    final = schedule.lrs_at(epochs * units)[0]
    if done >= planned:
        return (f"schedule: {name} ended with epoch {planned}; epochs {done + 1}-{epochs} keep "
                f"its final learning rate {final:.3g}")
    now = trainer.optimizer.param_groups[0]["lr"]
    return (f"schedule: {name} re-planned for {epochs} epochs: what remained of it after "
            f"epoch {done} (to end with epoch {planned}) now ends with epoch {epochs}; "
            f"learning rate {now:.3g} now, {final:.3g} at the end")


def _ends_at_zero(schedule, step):
    """Whether `schedule` sets every learning rate to 0 from scheduler step `step` on (it
    has ended there)."""
    if schedule is None:
        return False
    lrs = schedule.lrs_at(step)
    return lrs is not None and all(lr == 0 for lr in lrs)


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
               callbacks=(), diagnostics_every=50, report=True, note=None):
    """Build recipe `name` (default: mlp-digits), train it in `run_dir` (default:
    runs/<name>-<timestamp>; one that holds files is refused) with ModelCheckpoint
    (best.npz, last.npz), metrics logs and diagnostics, then write the report. progress:
    None shows a tqdm bar when stderr is a terminal, False never. Returns a RunResult;
    `held_out` is the final model's {'loss', 'accuracy', 'samples'} on the held-out split
    (its metrics, and the figures of the recipe's `after`, where the recipe has them), also
    written to results.json.

    resume: a checkpoint to continue from, in the run directory it was written to (its
    run.json gives the recipe and the options not given; the run directory defaults to its
    folder). `epochs` counts the epochs in total: up to the epochs the run was training to
    it continues exactly, as if never stopped; other epochs re-plan the rest of its
    learning-rate schedule (see the module docstring).

    callbacks: the caller's, which also watch the training a recipe's `after` does (the
    seq2seq exposure-bias runs). note: a function called with each line that says how a
    resume re-planned the schedule, or which run of an `after` starts (the CLI prints them).

    Refused with RunRefused, before anything is written: options out of range, a run_dir
    that holds files, a resume file that is missing, no nnlab checkpoint or without its
    run.json, another recipe or option than the checkpoint's run has (the data folder and
    epochs may change), a run already at `epochs`, and more epochs for a run whose schedule
    ended at learning rate 0."""
    start = time.perf_counter()
    options = options or Options()
    check_options(options)
    checkpoint = settings = None
    if resume is not None:
        resume = os.fspath(resume)
        checkpoint, settings = _read_resume(resume)
        saved_name = settings.get("recipe")
        if name is not None and name != saved_name:
            raise RunRefused("name", name, f"the checkpoint {resume} is from a {saved_name} "
                             f"run; expected {saved_name}, or no recipe (run.json names it)")
        name, given_epochs, saved = saved_name, options.epochs, _options_from(settings)
        for f in dataclasses.fields(Options):    # the data may move; epochs are the plan
            given = getattr(options, f.name)
            if f.name not in ("data", "epochs") and given not in (None, getattr(saved, f.name)):
                raise RunRefused(f.name, given, f"the run of {resume} was trained with "
                                 f"{{{f.name}}} {getattr(saved, f.name)}, and a resumed run "
                                 "keeps its options; expected that value or none")
        options = merge_options(options, saved)
    name = name or DEFAULT
    options = resolve(name, options)
    if run_dir is None:
        run_dir = os.path.dirname(os.path.abspath(resume)) if resume else default_run_dir(name)
    run_dir = os.fspath(run_dir)
    check_run_dir(run_dir, resume)
    setup = build(name, options)
    cbs = [ModelCheckpoint(run_dir), *setup.callbacks, *callbacks]
    schedule = None
    if setup.scheduler is not None:
        schedule = LRSchedulerCallback(setup.scheduler, setup.scheduler_interval)
        cbs.append(schedule)
    bar = [ProgressBar(disable=None)] if progress is not False else []
    cbs += bar
    trainer = Trainer(setup.model, setup.loss_fn, setup.optimizer, cbs, setup.metrics,
                      diagnostics_every=diagnostics_every, run_dir=run_dir)
    plan = (settings or {}).get("schedule")
    if resume is not None:  # refusals and failures here come before any file is written
        trainer.load_checkpoint(resume, setup.train_loader)
        # the total the checkpoint's run was training to (run.json's for older checkpoints)
        planned = (checkpoint.extra or {}).get("epochs") or _options_from(settings).epochs
        units = len(setup.train_loader) if setup.scheduler_interval == "step" else 1
        line = _continue(trainer, schedule, units, options.epochs, given_epochs, planned,
                         resume)
        if line is not None:
            plan = line
            if note is not None:
                note(line)
    os.makedirs(run_dir, exist_ok=True)
    settings = {"recipe": name, "options": dataclasses.asdict(options),
                "model": repr(setup.model), **setup.info}
    if plan is not None:
        settings["schedule"] = plan
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
        figures, lines = setup.after(setup.model, [*callbacks, *bar], note)
        held_out.update(figures)
    results = {"held_out": held_out}
    if setup.pictures is not None:
        results["pictures"] = setup.pictures(setup.model, run_dir)
    atomic_write(os.path.join(run_dir, "results.json"),
                 lambda f: f.write(json.dumps(results, indent=2)), mode="w")
    report_path = write_report(run_dir) if report else None
    return RunResult(run_dir, history, held_out, report_path, time.perf_counter() - start,
                     setup, lines)
