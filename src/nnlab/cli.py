"""The `nnlab` command (also `python -m nnlab`): parses arguments, calls `nnlab.train` and
`nnlab.lab`.

    nnlab train                      train the default recipe (mlp-digits)
    nnlab train RECIPE [options]     --data --epochs --lr --batch-size --optimizer --seed
                                     --out --resume --no-progress
    nnlab train --list               the recipes
    nnlab report RUN_DIR             (re)write a run's plots and index.html
    nnlab lab plain-vs-residual      --depths --steps --batch-size --lr --seed
                                     --no-batch-norm --out
"""
import argparse
import sys

from .train import recipes
from .train.callbacks import Callback
from .train.checkpoint import CheckpointError
from .train.diagnostics import NonFiniteError
from .train.report import write_report


def _percent(x):
    return "-" if x is None else f"{100 * x:.2f}%"


def format_epoch(logs, epochs):
    parts = [f"epoch {logs['epoch']:>{len(str(epochs))}}/{epochs}", f"loss {logs['loss']:.4f}"]
    if logs.get("accuracy") is not None:
        parts.append(f"acc {_percent(logs['accuracy'])}")
    if logs.get("val_loss") is not None:
        parts.append(f"val_loss {logs['val_loss']:.4f}")
    if logs.get("val_accuracy") is not None:
        parts.append(f"val_acc {_percent(logs['val_accuracy'])}")
    if logs.get("lr") is not None:
        parts.append(f"lr {logs['lr']:.2e}")
    parts.append(f"{logs['time']:.1f}s")
    return "  ".join(parts)


class PrintEpochs(Callback):
    """Print one summary line per epoch (the CLI's; the library never prints)."""

    def __init__(self, file=None):
        self.file = file

    def on_epoch_end(self, trainer, epoch, logs):
        print(format_epoch(logs, trainer.epochs), file=self.file or sys.stdout, flush=True)


def cmd_list(out=None):
    out = out or sys.stdout
    width = max(len(n) for n in recipes.names())
    for name in recipes.names():
        recipe = recipes.get(name)
        d = recipe.defaults
        default = "  (default)" if name == recipes.DEFAULT else ""
        print(f"{name:<{width}}  {recipe.description}{default}\n{'':<{width}}  defaults: "
              f"--epochs {d.epochs} --lr {d.lr:g} --batch-size {d.batch_size} "
              f"--optimizer {d.optimizer} --seed {d.seed}", file=out)
    return 0


def cmd_train(args):
    if args.list:
        return cmd_list()
    options = recipes.Options(data=args.data, epochs=args.epochs, lr=args.lr,
                              batch_size=args.batch_size, optimizer=args.optimizer,
                              seed=args.seed)
    name = args.recipe or (None if args.resume else recipes.DEFAULT)
    print(f"nnlab train {name or '(the recipe of ' + args.resume + ')'}", flush=True)
    result = recipes.run_recipe(name, options, run_dir=args.out, resume=args.resume,
                                progress=False if args.no_progress else None,
                                callbacks=[PrintEpochs()],
                                diagnostics_every=args.diagnostics_every)
    held = result.held_out
    if held.get("accuracy") is not None:
        correct = round(held["accuracy"] * held["samples"])
        print(f"held-out accuracy: {_percent(held['accuracy'])} ({correct}/{held['samples']}),"
              f" loss {held['loss']:.4f}")
    else:
        print(f"held-out loss: {held['loss']:.4f}")
    print(f"time: {result.seconds:.1f} s")
    print(f"checkpoints: {result.run_dir}/last.npz, {result.run_dir}/best.npz")
    print(f"report: {result.report}")
    return 0


def cmd_report(args):
    print(f"report: {write_report(args.run_dir)}")
    return 0


def cmd_lab_plain_vs_residual(args):
    from .lab import plain_vs_residual
    given = {k: getattr(args, k) for k in ("depths", "steps", "batch_size", "lr", "seed", "out")
             if getattr(args, k) is not None}
    result = plain_vs_residual(batch_norm=not args.no_batch_norm, **given)
    print(f"{'depth':>5}  {'kind':<8}  {'conv1 grad norm':>15}  "
          f"{'loss after ' + str(result['steps']) + ' steps':>20}")
    for i, depth in enumerate(result["depths"]):
        for kind in ("plain", "residual"):
            print(f"{depth:>5}  {kind:<8}  {result['grad_norm'][kind][i]:>15.4g}  "
                  f"{result['final_loss'][kind][i]:>20.4f}")
    if result["plot"]:
        print(f"plot: {result['plot']}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="nnlab", description="nnlab: a deep-learning framework on NumPy with PyTorch's "
        "interface. `nnlab train` trains an MLP on handwritten digits.")
    sub = parser.add_subparsers(dest="command", metavar="{train,report,lab}")

    train = sub.add_parser("train", help="train a recipe (default: mlp-digits)",
                           description="Train a named recipe; prints a line per epoch and "
                           "writes checkpoints, metrics and a report to the run directory.")
    train.add_argument("recipe", nargs="?", choices=recipes.names(), metavar="RECIPE",
                       help=f"one of {', '.join(recipes.names())} (default: {recipes.DEFAULT})")
    train.add_argument("--list", action="store_true", help="list the recipes and exit")
    train.add_argument("--data", metavar="DIR",
                       help="data folder (mlp-mnist, lenet-mnist: the MNIST IDX files)")
    train.add_argument("--epochs", type=int, metavar="N",
                       help="epochs in total (a resumed run continues up to N)")
    train.add_argument("--lr", type=float, metavar="LR", help="learning rate")
    train.add_argument("--batch-size", type=int, metavar="B", help="training batch size")
    train.add_argument("--optimizer", choices=recipes.OPTIMIZERS)
    train.add_argument("--seed", type=int, metavar="S",
                       help="seed of the initialisation, shuffling and dropout")
    train.add_argument("--out", metavar="RUN_DIR",
                       help="run directory (default: runs/<recipe>-<timestamp>)")
    train.add_argument("--resume", metavar="CHECKPOINT",
                       help="continue from a checkpoint (e.g. RUN_DIR/last.npz)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--diagnostics-every", type=int, default=50, metavar="N",
                       help="steps between diagnostics records (0: off; default 50)")
    train.set_defaults(func=cmd_train)

    report = sub.add_parser("report", help="write the plots and index.html of a run")
    report.add_argument("run_dir", metavar="RUN_DIR")
    report.set_defaults(func=cmd_report)

    lab = sub.add_parser("lab", help="run an experiment that reproduces the theory")
    experiments = lab.add_subparsers(dest="experiment", metavar="{plain-vs-residual}",
                                     required=True)
    pvr = experiments.add_parser(
        "plain-vs-residual", help="first-layer gradient and training loss, plain vs "
        "residual CNNs", description="Plain and residual CNNs (6n+2) on the 8x8 digits: the "
        "first conv's gradient norm at initialisation and the training loss after a fixed "
        "budget of SGD steps.")
    pvr.add_argument("--depths", type=int, nargs="+", metavar="D",
                     help="depths 6n + 2 (default: 20 56)")
    pvr.add_argument("--steps", type=int, metavar="N", help="SGD steps per model (default 60)")
    pvr.add_argument("--batch-size", type=int, metavar="B", help="default 64")
    pvr.add_argument("--lr", type=float, metavar="LR", help="SGD learning rate (default 0.05)")
    pvr.add_argument("--no-batch-norm", action="store_true",
                     help="replace every BatchNorm2d by the identity")
    pvr.add_argument("--seed", type=int, metavar="S", help="default 0")
    pvr.add_argument("--out", metavar="DIR", help="write plain_vs_residual.png there")
    pvr.set_defaults(func=cmd_lab_plain_vs_residual)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (NonFiniteError, CheckpointError, FileNotFoundError, ValueError) as e:
        print(f"nnlab {args.command}: error: {e}", file=sys.stderr)
        if getattr(e, "report", None):
            print(f"report (up to the error): {e.report}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"nnlab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
