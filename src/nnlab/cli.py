"""The `nnlab` command (also `python -m nnlab`): parses arguments, calls `nnlab.train` and
`nnlab.lab`.

    nnlab train                      train the default recipe (mlp-digits)
    nnlab train RECIPE [options]     --data --epochs --lr --batch-size --optimizer --seed
                                     --out --resume --no-progress (and, by recipe,
                                     --target --kind --labels --latent-dim)
    nnlab train --list               the recipes
    nnlab report RUN_DIR             (re)write a run's plots and index.html
    nnlab sample RUN_DIR             text from a language-model run (char-lstm): --length
                                     --temperature --prompt --seed --checkpoint
    nnlab lab plain-vs-residual      --depths --steps --batch-size --lr --seed
                                     --no-batch-norm --out
    nnlab lab attention-scale        --dims --n --queries --seed --out
    nnlab lab rnn-gradients          --max-length --hidden-size --radii --forget-biases
                                     --probes --input-std --clip-steps --clip-lr --seed --out
    nnlab lab iwae-gap               --data --ks --epochs --hidden --latent --n-train --n-eval
                                     --batch-size --lr --seed --out
    nnlab lab latent-sampling        --data --epochs --hidden --latent --n-samples --n-train
                                     --clf-epochs --batch-size --lr --seed --out
    nnlab lab gcn-cora, gat-cora,    the graph family's experiments (cli_graph.py):
      link-prediction, oversmoothing, --runs --dataset --seed --out and their own
      gin-vs-gcn
    nnlab run SCRIPT.py [ARGS...]    a PyTorch program with nnlab standing in for torch
"""
import argparse
import sys

from . import __version__, cli_graph, parallel
from .train import recipes
from .train.callbacks import Callback
from .train.checkpoint import CheckpointError
from .train.diagnostics import NonFiniteError
from .train.format import format_loss
from .train.recipes.layouts import data_help
from .train.report import write_report
from .train.run import OPTION_RANGES, RunRefused, run_recipe

# run_recipe's parameters as `nnlab train` spells them, for its refusals' messages
FLAGS = {"resume": "--resume", "epochs": "--epochs", "run_dir": "--out", "name": "RECIPE",
         "lr": "--lr", "batch_size": "--batch-size", "seed": "--seed", "data": "--data",
         "optimizer": "--optimizer", "target": "--target", "kind": "--kind",
         "labels": "--labels", "latent_dim": "--latent-dim"}


def _number(kind, check, expected):
    """An argparse type: `kind` (int or float) of the text, refused unless check(value)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if kind is int else 'a number'}; expected "
                f"{expected}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"got {text}, expected {expected}")
        return value
    return parse


positive_int = _number(int, *OPTION_RANGES["epochs"])
non_negative_int = _number(int, *OPTION_RANGES["seed"])
positive_float = _number(float, *OPTION_RANGES["lr"])


def _percent(x):
    return "-" if x is None else f"{100 * x:.2f}%"


def format_epoch(logs, epochs):
    parts = [f"epoch {logs['epoch']:>{len(str(epochs))}}/{epochs}",
             f"loss {format_loss(logs['loss'])}"]
    if logs.get("accuracy") is not None:
        parts.append(f"acc {_percent(logs['accuracy'])}")
    if logs.get("val_loss") is not None:
        parts.append(f"val_loss {format_loss(logs['val_loss'])}")
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
              f"--optimizer {d.optimizer} --seed {d.seed}"
              + "".join(f" --{k} {v}" for k, v in (("kind", d.kind), ("labels", d.labels),
                                                   ("latent-dim", d.latent_dim))
                        if v is not None), file=out)
    return 0


def cmd_train(args):
    if args.list:
        return cmd_list()
    options = recipes.Options(data=args.data, epochs=args.epochs, lr=args.lr,
                              batch_size=args.batch_size, optimizer=args.optimizer,
                              seed=args.seed, target=args.target, kind=args.kind,
                              labels=args.labels, latent_dim=args.latent_dim)
    name = args.recipe or (None if args.resume else recipes.DEFAULT)
    print(f"nnlab train {name or '(the recipe of ' + args.resume + ')'}", flush=True)
    result = run_recipe(name, options, run_dir=args.out, resume=args.resume,
                        progress=False if args.no_progress else None, callbacks=[PrintEpochs()],
                        diagnostics_every=args.diagnostics_every,
                        note=lambda line: print(line, flush=True))
    held = result.held_out
    if held.get("accuracy") is not None:
        correct = round(held["accuracy"] * held["samples"])
        print(f"held-out accuracy: {_percent(held['accuracy'])} ({correct}/{held['samples']}),"
              f" loss {format_loss(held['loss'])}")
    else:
        print(f"held-out loss: {format_loss(held['loss'])}")
    if held.get("bits_per_char") is not None:
        print(f"held-out loss per character: {format_loss(held['loss'])} nats = "
              f"{held['bits_per_char']:.4f} bits ({held['samples']} characters)")
    for line in result.lines:
        print(line)
    print(f"time: {result.seconds:.1f} s")
    print(f"checkpoints: {result.run_dir}/last.npz, {result.run_dir}/best.npz")
    print(f"report: {result.report}")
    return 0


def cmd_report(args):
    print(f"report: {write_report(args.run_dir)}")
    return 0


def _given(args, names):
    """The options among `names` that were given on the command line (not None)."""
    return {k: getattr(args, k) for k in names if getattr(args, k) is not None}


def _print_plot(result):
    if result["plot"]:
        print(f"plot: {result['plot']}")


def cmd_lab_plain_vs_residual(args):
    from .lab import plain_vs_residual
    given = _given(args, ("depths", "steps", "batch_size", "lr", "seed", "out"))
    result = plain_vs_residual(batch_norm=not args.no_batch_norm, **given)
    print(f"{'depth':>5}  {'kind':<8}  {'conv1 grad norm':>15}  "
          f"{'loss after ' + str(result['steps']) + ' steps':>20}")
    for i, depth in enumerate(result["depths"]):
        for kind in ("plain", "residual"):
            print(f"{depth:>5}  {kind:<8}  {result['grad_norm'][kind][i]:>15.4g}  "
                  f"{result['final_loss'][kind][i]:>20.4f}")
    _print_plot(result)
    return 0


def cmd_lab_attention_scale(args):
    from .lab import attention_scale
    result = attention_scale(**_given(args, ("dims", "n", "queries", "seed", "out")))
    print(f"{result['n']} keys, {result['queries']} queries; entropy at most "
          f"log n = {result['max_entropy']:.3f}")
    print(f"{'d_k':>5}  {'kind':<8}  {'entropy':>8}  {'|dL/dlogits|':>12}  {'|dL/dq|':>10}")
    for i, d in enumerate(result["dims"]):
        for kind in ("scaled", "unscaled"):
            print(f"{d:>5}  {kind:<8}  {result['entropy'][kind][i]:>8.4f}  "
                  f"{result['grad_logits'][kind][i]:>12.4g}  {result['grad_q'][kind][i]:>10.4g}")
    _print_plot(result)
    return 0


def cmd_sample(args):
    from .train.sampling import sample
    text = sample(args.run_dir, length=args.length, temperature=args.temperature,
                  prompt=args.prompt, seed=args.seed, checkpoint=args.checkpoint)
    print(args.prompt + text)
    return 0


def cmd_lab_rnn_gradients(args):
    from .lab import rnn_gradient_norms
    given = _given(args, ("hidden_size", "radii", "forget_biases", "probes", "input_std",
                          "clip_steps", "clip_lr", "seed", "out"))
    if args.max_length is not None:
        given["lengths"] = range(1, args.max_length + 1)
    result = rnn_gradient_norms(**given)
    lengths = result["lengths"]
    shown = [t for t in (1, 10, 25, 50, 100, 200) if t in lengths] or lengths[-1:]
    print(f"||u^T dh_T/dh_0||, RMS over {result['probes']} random unit u, hidden "
          f"{result['hidden_size']}, inputs N(0, {result['input_std']:g}^2)")
    print(f"{'model':<22}" + "".join(f"{'T=' + str(t):>11}" for t in shown) + "   per step")
    rows = [(f"tanh RNN, radius {r:g}", result["rnn"][r], result["rate"]["rnn"][r])
            for r in result["radii"]]
    rows += [(f"LSTM, forget bias {b:g}", result["lstm"][b], result["rate"]["lstm"][b])
             for b in result["forget_biases"]]
    for label, norms, rate in rows:
        print(f"{label:<22}" + "".join(f"{norms[lengths.index(t)]:>11.3g}" for t in shown)
              + f"   {rate:.4f}")
    clip = result["clipping"]
    print(f"clipping: recall x_0 after {clip['length']} steps, tanh RNN radius "
          f"{clip['radius']:g}, SGD lr {clip['lr']:g}, {clip['steps']} steps")
    for kind, label in (("none", "no clipping"), ("clipped", f"clip {clip['max_norm']:g}")):
        end = "  diverged" if clip["diverged"][kind] else ""
        print(f"  {label:<12} final loss {clip['final_loss'][kind]:.4g}, largest gradient "
              f"norm {max(clip['grad_norm'][kind]):.4g} over {len(clip['loss'][kind])} "
              f"steps{end}")
    _print_plot(result)
    return 0


def cmd_lab_iwae_gap(args):
    from .lab import iwae_gap
    result = iwae_gap(**_given(args, ("data", "ks", "epochs", "hidden", "latent", "n_train",
                                      "n_eval", "batch_size", "lr", "seed", "out")))
    print(f"VAE 784-{result['hidden']}-{result['latent']} (Bernoulli, binarised MNIST), "
          f"{result['n_train']} training images, {result['epochs']} epochs; "
          f"{result['n_eval']} held-out images, nats per image")
    print(f"negative ELBO (closed-form KL, one sample): {result['neg_elbo']:.3f}")
    print(f"{'K':>6}  {'-L_K':>9}  {'L_Kmax - L_K':>12}")
    for k, bound, gap in zip(result["ks"], result["bound"], result["gap_to_best"]):
        print(f"{k:>6}  {bound:>9.3f}  {gap:>12.3f}")
    _print_plot(result)
    return 0


def cmd_lab_latent_sampling(args):
    from .lab import latent_sampling
    result = latent_sampling(**_given(args, ("data", "epochs", "hidden", "latent", "n_samples",
                                             "n_train", "clf_epochs", "batch_size", "lr",
                                             "seed", "out")))
    print(f"AE and VAE 784-{result['hidden']}-{result['latent']}, {result['n_train']} "
          f"training images, {result['epochs']} epochs; classifier held-out accuracy "
          f"{100 * result['classifier_accuracy']:.2f}%")
    print(f"mean max-softmax confidence over {result['n_samples']} images:")
    for kind, label in (("ae", "AE decodes of N(0, I)"), ("vae", "VAE decodes of N(0, I)"),
                        ("real", "real held-out digits")):
        print(f"  {label:<24} {result['confidence'][kind]:.4f}   classes "
              f"{result['predicted'][kind]}")
    for key, label in (("ae_code", "AE code h(x)"), ("vae_code", "VAE aggregate posterior")):
        mean, std = result[key]["mean"], result[key]["std"]
        print(f"{label} per dimension: mean in [{min(mean):.3g}, {max(mean):.3g}], std in "
              f"[{min(std):.3g}, {max(std):.3g}] (the prior: 0 and 1)")
    _print_plot(result)
    return 0


def cmd_run(args):
    from .run import main as run_main
    return run_main([args.script, *args.args] if args.script else [])


def build_parser():
    parser = argparse.ArgumentParser(
        prog="nnlab", description="nnlab: a deep-learning framework on NumPy with PyTorch's "
        "interface. `nnlab train` trains an MLP on handwritten digits.")
    parser.add_argument("--version", action="version", version=f"nnlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,sample,report,lab,run}")

    train = sub.add_parser("train", help="train a recipe (default: mlp-digits)",
                           description="Train a named recipe; prints a line per epoch and "
                           "writes checkpoints, metrics and a report to the run directory.")
    train.add_argument("recipe", nargs="?", choices=recipes.names(), metavar="RECIPE",
                       help=f"one of {', '.join(recipes.names())} (default: {recipes.DEFAULT})")
    train.add_argument("--list", action="store_true", help="list the recipes and exit")
    train.add_argument("--data", metavar="PATH", help=data_help(recipes.names()))
    train.add_argument("--target", metavar="COLUMN",
                       help="classifier, regressor: the target column of a CSV / TSV file, by "
                       "name or 0-based index (default: the last column), or the label array "
                       "of an NPZ file (default: y)")
    train.add_argument("--kind", metavar="KIND",
                       help="ae-mnist: the autoencoder, plain, sparse, denoising or contractive")
    train.add_argument("--labels", type=positive_int, metavar="N",
                       help="ss-mnist: how many training labels to keep (10 per class for 100)")
    train.add_argument("--latent-dim", type=positive_int, metavar="L",
                       help="vae-mnist, ae-mnist: the size of the code (2 draws the latent map)")
    train.add_argument("--epochs", type=positive_int, metavar="N",
                       help="epochs in total (with --resume: continue to N; another N than "
                       "the run's re-plans the rest of its learning-rate schedule to end at N)")
    train.add_argument("--lr", type=positive_float, metavar="LR", help="learning rate")
    train.add_argument("--batch-size", type=positive_int, metavar="B",
                       help="training batch size")
    train.add_argument("--optimizer", choices=recipes.OPTIMIZERS)
    train.add_argument("--seed", type=non_negative_int, metavar="S",
                       help="seed of the initialisation, shuffling and dropout")
    train.add_argument("--out", metavar="RUN_DIR",
                       help="run directory, new or empty (default: runs/<recipe>-<timestamp>)")
    train.add_argument("--resume", metavar="CHECKPOINT",
                       help="continue from a checkpoint (e.g. RUN_DIR/last.npz)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--diagnostics-every", type=non_negative_int, default=50, metavar="N",
                       help="steps between diagnostics records (0: off; default 50)")
    train.set_defaults(func=cmd_train)

    sample = sub.add_parser("sample", help="generate text from a language-model run",
                            description="Load a run's model (best.npz, else last.npz) and "
                            "vocabulary and print the prompt and LENGTH generated characters.")
    sample.add_argument("run_dir", metavar="RUN_DIR")
    sample.add_argument("--length", type=positive_int, default=500, metavar="N",
                        help="characters to generate (default 500)")
    sample.add_argument("--temperature", type=float, default=1.0, metavar="T",
                        help="divides the logits before the softmax; 0 (or <= 1e-6): greedy "
                        "argmax (default 1)")
    sample.add_argument("--prompt", default="", metavar="TEXT",
                        help="text to start from (default: a newline, not printed)")
    sample.add_argument("--seed", type=non_negative_int, metavar="S",
                        help="seed of the sampling")
    sample.add_argument("--checkpoint", metavar="NPZ",
                        help="weights to load (default: RUN_DIR/best.npz, else last.npz)")
    sample.set_defaults(func=cmd_sample)

    report = sub.add_parser("report", help="write the plots and index.html of a run")
    report.add_argument("run_dir", metavar="RUN_DIR")
    report.set_defaults(func=cmd_report)

    run = sub.add_parser("run", help="run a PyTorch program with nnlab standing in for torch",
                         description="Run SCRIPT.py as `python SCRIPT.py ARGS...` would, with "
                         "`import torch` (and torch.nn, torch.utils.data, ...) giving nnlab.")
    run.add_argument("script", nargs="?", metavar="SCRIPT.py")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                     help="passed to the program as they are (--options too)")
    run.set_defaults(func=cmd_run)

    lab = sub.add_parser("lab", help="run an experiment that reproduces the theory")
    experiments = lab.add_subparsers(dest="experiment", required=True)
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
    pvr.add_argument("--seed", type=non_negative_int, metavar="S", help="default 0")
    pvr.add_argument("--out", metavar="DIR", help="write plain_vs_residual.png there")
    pvr.set_defaults(func=cmd_lab_plain_vs_residual)
    att = experiments.add_parser(
        "attention-scale", help="softmax entropy and gradient against d_k, with and without "
        "the 1/sqrt(d_k) scale", description="Random unit-variance queries and keys: the "
        "attention softmax's entropy and the gradient through it for each d_k, logits "
        "unscaled and divided by sqrt(d_k).")
    att.add_argument("--dims", type=int, nargs="+", metavar="D",
                     help="key dimensions d_k (default: 16 32 ... 1024)")
    att.add_argument("--n", type=int, metavar="N", help="number of keys (default 256)")
    att.add_argument("--queries", type=int, metavar="Q", help="number of queries (default 128)")
    att.add_argument("--seed", type=non_negative_int, metavar="S", help="default 0")
    att.add_argument("--out", metavar="DIR", help="write attention_scale.png there")
    att.set_defaults(func=cmd_lab_attention_scale)
    rnn = experiments.add_parser(
        "rnn-gradients", help="gradient norms through time (tanh RNNs by spectral radius, "
        "LSTMs) and gradient clipping", description="||dh_T/dh_0|| against T for tanh RNNs "
        "with W_hh of spectral radius below, at and above 1 and for LSTMs by forget-gate "
        "bias; then an exploding RNN trained with and without gradient clipping.")
    rnn.add_argument("--max-length", type=int, metavar="T", help="lengths 1..T (default 200)")
    rnn.add_argument("--hidden-size", type=int, metavar="H", help="default 64")
    rnn.add_argument("--radii", type=float, nargs="+", metavar="R",
                     help="spectral radii of W_hh (default: 0.9 1.0 1.1)")
    rnn.add_argument("--forget-biases", type=float, nargs="+", metavar="B",
                     help="LSTM forget-gate biases (default: 1 3)")
    rnn.add_argument("--probes", type=int, metavar="K",
                     help="random unit vectors per length (default 4)")
    rnn.add_argument("--input-std", type=float, metavar="S",
                     help="std of the inputs (default 0: the linear regime)")
    rnn.add_argument("--clip-steps", type=int, metavar="N",
                     help="SGD steps of the clipping runs (default 100)")
    rnn.add_argument("--clip-lr", type=float, metavar="LR",
                     help="SGD learning rate of the clipping runs (default 0.1)")
    rnn.add_argument("--seed", type=non_negative_int, metavar="S", help="default 0")
    rnn.add_argument("--out", metavar="DIR", help="write rnn_gradients.png there")
    rnn.set_defaults(func=cmd_lab_rnn_gradients)
    iwae = experiments.add_parser(
        "iwae-gap", help="the IWAE bound L_K against K for a VAE on MNIST", description="A "
        "Bernoulli VAE trained on MNIST's 8,000-image split (binarised); on held-out images "
        "the negative ELBO and -L_K for each K: the gap to log p(x) shrinks as K grows.")
    iwae.add_argument("--data", metavar="DIR", help="the MNIST folder (t10k IDX files)")
    iwae.add_argument("--ks", type=positive_int, nargs="+", metavar="K",
                      help="importance samples (default: 1 2 5 10 50 100 500 1000)")
    iwae.add_argument("--epochs", type=positive_int, metavar="N", help="default 30")
    iwae.add_argument("--hidden", type=positive_int, metavar="H", help="default 400")
    iwae.add_argument("--latent", type=positive_int, metavar="L", help="default 20")
    iwae.add_argument("--n-train", type=positive_int, metavar="N",
                      help="training images, of 8,000 (default: all)")
    iwae.add_argument("--n-eval", type=positive_int, metavar="N",
                      help="held-out images measured, of 2,000 (default 500)")
    iwae.add_argument("--batch-size", type=positive_int, metavar="B", help="default 128")
    iwae.add_argument("--lr", type=float, metavar="LR", help="Adam's (default 0.001)")
    iwae.add_argument("--seed", type=non_negative_int, metavar="S", help="default 0")
    iwae.add_argument("--out", metavar="DIR", help="write iwae_gap.png there")
    iwae.set_defaults(func=cmd_lab_iwae_gap)
    lat = experiments.add_parser(
        "latent-sampling", help="decoded N(0, I) samples, a plain AE's code space against a "
        "VAE's", description="An AE and a VAE trained on MNIST's 8,000-image split decode "
        "the same z ~ N(0, I); a digit classifier's mean confidence says how digit-like the "
        "decodes are, beside real held-out digits.")
    lat.add_argument("--data", metavar="DIR", help="the MNIST folder (t10k IDX files)")
    lat.add_argument("--epochs", type=positive_int, metavar="N",
                     help="epochs of the AE and of the VAE (default 20)")
    lat.add_argument("--hidden", type=positive_int, metavar="H", help="default 400")
    lat.add_argument("--latent", type=positive_int, metavar="L", help="default 20")
    lat.add_argument("--n-samples", type=positive_int, metavar="N",
                     help="decoded samples and real digits scored (default 1000)")
    lat.add_argument("--n-train", type=positive_int, metavar="N",
                     help="training images of the AE and VAE, of 8,000 (default: all)")
    lat.add_argument("--clf-epochs", type=positive_int, metavar="N",
                     help="epochs of the digit classifier (default 10)")
    lat.add_argument("--batch-size", type=positive_int, metavar="B", help="default 128")
    lat.add_argument("--lr", type=float, metavar="LR", help="Adam's (default 0.001)")
    lat.add_argument("--seed", type=non_negative_int, metavar="S", help="default 0")
    lat.add_argument("--out", metavar="DIR", help="write latent_sampling.png there")
    lat.set_defaults(func=cmd_lab_latent_sampling)
    cli_graph.add_experiments(experiments)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    parallel.keep_freed_memory()
    if args.command == "run":   # the program's own errors keep their tracebacks
        return args.func(args)
    try:
        return args.func(args)
    except RunRefused as e:  # a usage error, refused before anything was written
        print(f"nnlab {args.command}: error: {e.message(FLAGS, sep=' ')}", file=sys.stderr)
        return 2
    except (NonFiniteError, CheckpointError, FileNotFoundError, ImportError, ValueError) as e:
        print(f"nnlab {args.command}: error: {e}", file=sys.stderr)
        if getattr(e, "report", None):
            print(f"report (up to the error): {e.report}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"nnlab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
