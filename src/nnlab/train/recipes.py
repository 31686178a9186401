"""Recipes: named, complete training setups (data, model, loss, optimizer, schedule).

A recipe is a function `build(options) -> Setup` registered under a name with its default
options; `run_recipe` builds one, trains it with checkpoints, logs and a report in a run
directory, and returns the held-out figures. `nnlab train RECIPE` is a thin shell over it.

    mlp-digits   scikit-learn's bundled 8x8 digits (no download): a fixed seeded split of
                 1,437 train / 360 held out, MLP 64-256-10 with dropout 0.2, Adam with
                 cosine annealing. Reaches >= 97% held-out accuracy in seconds.
    mlp-mnist    MNIST's 10,000 test images from --data DIR (IDX files) in a fixed seeded
                 8,000 / 2,000 split, MLP 784-512-10 with dropout 0.3, Adam with cosine
                 annealing.
    lenet-mnist  the same MNIST images and split as (N, 1, 28, 28), LeNet-5 (ReLU, max
                 pooling), Adam with cosine annealing. Reaches >= 97.5% held-out accuracy.
    seq2seq-reverse
                 reverse strings of 3-10 digits: 5,000 train / 500 held out (sources unseen
                 in training), a GRU encoder-decoder with additive attention, Adam with
                 cosine annealing and gradient clipping. Reports the held-out exact match
                 under greedy decoding (>= 99%) and measures exposure bias: two runs of a
                 third of the epochs, teacher forcing ratio 1.0 and 0.5, each decoded free
                 running and scored teacher forced after every epoch.
    char-lstm    Tiny Shakespeare (tinyshakespeare/input.txt from --data DIR): the first
                 90% of the characters train, the last 10% validate. A 2-layer LSTM (256
                 units) over 32 parallel streams of the text, truncated BPTT in chunks of
                 64 characters with the state carried across chunks, Adam with cosine
                 annealing per step and gradient clipping (5). An epoch is 150 chunks (8
                 epochs: 1,200 steps, 2.4 passes over the training text, about 3 minutes
                 on 2 cores); the validation loss is per character, 1.57 nats (2.26 bits).
                 `nnlab sample RUN_DIR` generates text from the run.
    gpt-shakespeare
                 the same text and split, nanoGPT's small CPU configuration: a GPT of 4
                 layers, 4 heads, 128 wide, no biases, context 64, batches of 12 random
                 windows, 2,000 AdamW steps (weight decay 0.1 on 2-D weights, betas 0.9,
                 0.99) with a 100-step warm-up and a cosine to lr / 10, clipping (1). An
                 epoch is 250 steps; validation: 200 fixed random batches. Reaches a
                 validation loss of about 1.88 nats per character; `nnlab sample RUN_DIR`.

The split is fixed (seed 0) so that runs with different --seed values (which change the
initialisation, the shuffling and dropout) are measured on the same held-out images.
"""
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .. import backend, nn, optim
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..data import DataLoader, TensorDataset
from ..data.datasets import (
    MNIST,
    SequencePairs,
    StreamLoader,
    TinyShakespeare,
    digits,
    holdout_split,
    reverse_digits,
)
from ..data.datasets.sequences import BOS, EOS, PAD, VOCAB_SIZE
from ..models import MLP, CharLSTM, CharLSTMConfig, LeNet5, Seq2Seq, Seq2SeqConfig
from ..models.gpt import GPT, GPTConfig
from ..nn import functional as F
from . import sampling
from .callbacks import Callback, GradientClipping, LRScheduler, ModelCheckpoint, ProgressBar
from .checkpoint import atomic_write
from .diagnostics import NonFiniteError
from .report import write_report
from .trainer import Trainer, evaluate, fit

SPLIT_SEED = 0
DEFAULT = "mlp-digits"


@dataclass
class Options:
    """What a user may change from the command line; None means the recipe's default."""
    data: str | None = None
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    seed: int | None = None


@dataclass
class Setup:
    """Everything `fit` needs, as a recipe builds it. `after(model) -> (figures, lines)`,
    when given, measures the trained model further: its figures join the held-out ones
    (and results.json), its lines are for the command line to print."""
    model: nn.Module
    loss_fn: nn.Module
    optimizer: optim.Optimizer
    train_loader: DataLoader
    val_loader: DataLoader
    epochs: int
    scheduler: object = None
    scheduler_interval: str = "epoch"
    info: dict = field(default_factory=dict)
    callbacks: tuple = ()
    metrics: object = "auto"
    after: object = None


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    build: object
    defaults: Options


RECIPES = {}


def register(name, description, **defaults):
    """Decorator: register `build(options) -> Setup` as recipe `name` with `defaults`."""
    def wrap(build):
        RECIPES[name] = Recipe(name, description, build, Options(**defaults))
        return build
    return wrap


def get(name):
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; the recipes are: {', '.join(sorted(RECIPES))}")
    return RECIPES[name]


def names():
    return sorted(RECIPES)


def resolve(name, options=None):
    """`options` with the recipe's defaults filled in where they are None."""
    recipe, options = get(name), options or Options()
    return dataclasses.replace(options, **{
        f.name: getattr(recipe.defaults, f.name) for f in dataclasses.fields(Options)
        if getattr(options, f.name) is None})


def build(name, options=None):
    """Seed nnlab and build recipe `name` with `options` (defaults where None)."""
    options = resolve(name, options)
    backend.manual_seed(options.seed)
    return get(name).build(options)


# -- shared pieces ------------------------------------------------------------------------------
def make_optimizer(name, params, lr):
    """An optimizer by name with the recipe's settings: sgd (momentum 0.9), adam, adamw
    (weight decay 0.01), rmsprop, adagrad."""
    makers = {
        "sgd": lambda: optim.SGD(params, lr=lr, momentum=0.9),
        "adam": lambda: optim.Adam(params, lr=lr),
        "adamw": lambda: optim.AdamW(params, lr=lr, weight_decay=0.01),
        "rmsprop": lambda: optim.RMSprop(params, lr=lr),
        "adagrad": lambda: optim.Adagrad(params, lr=lr),
    }
    if name not in makers:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(makers)}")
    return makers[name]()


OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


def classification_loaders(x, y, held_out, batch_size, seed):
    """Train and held-out loaders from arrays (x, y): a split fixed by SPLIT_SEED, the
    training loader shuffled by a generator seeded with `seed`."""
    (x_train, y_train), (x_val, y_val) = holdout_split(x, y, held_out=held_out,
                                                       seed=SPLIT_SEED)
    train = TensorDataset(Tensor(x_train), Tensor(y_train))
    val = TensorDataset(Tensor(x_val), Tensor(y_val))
    return (DataLoader(train, batch_size=batch_size, shuffle=True,
                       generator=np.random.default_rng(seed)),
            DataLoader(val, batch_size=1000))


def _classifier(options, model, train_loader, val_loader, info):
    optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=options.epochs)
    return Setup(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader,
                 options.epochs, scheduler, "epoch", info)


# -- the recipes --------------------------------------------------------------------------------
@register("mlp-digits", "MLP 64-256-10 on scikit-learn's bundled 8x8 digits "
          "(1,437 train / 360 held out); no download", epochs=30, lr=3e-3, batch_size=32,
          optimizer="adam", seed=0)
def mlp_digits(options):
    x, y = digits(options.data)
    (x_train, _), _ = holdout_split(x, y, held_out=360, seed=SPLIT_SEED)
    # standardise with the training split's statistics: per-pixel mean, one overall scale
    x = ((x - x_train.mean(axis=0)) / x_train.std()).astype(np.float32)
    train_loader, val_loader = classification_loaders(x, y, 360, options.batch_size,
                                                      options.seed)
    model = MLP(64, [256], 10, activation="relu", dropout=0.2)
    return _classifier(options, model, train_loader, val_loader,
                       {"data": "digits 8x8", "train": 1437, "held_out": 360})


@register("mlp-mnist", "MLP 784-512-10 on MNIST's 10,000 test images from --data DIR "
          "(8,000 train / 2,000 held out)", epochs=20, lr=1e-3, batch_size=64,
          optimizer="adam", seed=0)
def mlp_mnist(options):
    dataset = MNIST(root=options.data, train=False, flatten=True)
    x, y = dataset.arrays()
    x = ((x - 0.1307) / 0.3081).astype(np.float32)  # MNIST's usual mean and std
    train_loader, val_loader = classification_loaders(x, y, 2000, options.batch_size,
                                                      options.seed)
    model = MLP(784, [512], 10, activation="relu", dropout=0.3)
    return _classifier(options, model, train_loader, val_loader,
                       {"data": f"MNIST t10k from {dataset.root}", "train": len(x) - 2000,
                        "held_out": 2000})


@register("lenet-mnist", "LeNet-5 on MNIST's 10,000 test images from --data DIR as 1x28x28 "
          "(8,000 train / 2,000 held out)", epochs=15, lr=1e-3, batch_size=64,
          optimizer="adam", seed=0)
def lenet_mnist(options):
    dataset = MNIST(root=options.data, train=False)
    x, y = dataset.arrays(flatten=False)  # (N, 1, 28, 28) in [0, 1]
    x = ((x - 0.1307) / 0.3081).astype(np.float32)
    train_loader, val_loader = classification_loaders(x, y, 2000, options.batch_size,
                                                      options.seed)
    return _classifier(options, LeNet5(), train_loader, val_loader,
                       {"data": f"MNIST t10k from {dataset.root}", "train": len(x) - 2000,
                        "held_out": 2000})


# -- sequence to sequence ---------------------------------------------------------------------
def sequence_loss(logits, target):
    """Mean cross-entropy per target token of logits (B, T, V), PAD targets ignored."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]),  # (B, T, V) -> (B T, V)
                           target.reshape(-1), ignore_index=PAD)


def _token_hits(output, target):
    """(argmax == target, target != PAD) as arrays (B, T)."""
    out = output.data if isinstance(output, Tensor) else output
    tgt = target.data if isinstance(target, Tensor) else target
    return out.argmax(axis=-1) == tgt, tgt != PAD


def token_accuracy(output, target):
    """Metric: correct argmax tokens over the non-PAD targets (teacher forced)."""
    hit, real = _token_hits(output, target)
    return float((hit & real).sum()), int(real.sum())


def decoding_figures(model, pairs, batch_size=500):
    """Figures of `model` (left in eval mode) on `pairs`: exact_match, the share of rows
    whose greedy decoding equals the target (EOS included); and the share of target tokens
    right, position by position, free running (the greedy output) and teacher forced (the
    argmax given the true prefix). Exact match is the same either way (a row right under
    teacher forcing is what greedy decoding produces); the token figures differ because a
    free-running mistake changes every later input: exposure bias at work."""
    model.eval()
    width = pairs.tgt_out.shape[1]
    exact = free = forced = tokens = 0
    with no_grad():
        for i in range(0, len(pairs.src), batch_size):
            src, tgt_in, tgt_out = (a[i:i + batch_size]
                                    for a in (pairs.src, pairs.tgt_in, pairs.tgt_out))
            decoded = model.greedy_decode(src, max_len=width, bos=BOS, eos=EOS).numpy()
            got = np.full(tgt_out.shape, PAD, np.int64)
            got[:, :decoded.shape[1]] = decoded
            real = tgt_out != PAD
            exact += int((got == tgt_out).all(axis=1).sum())
            free += int(((got == tgt_out) & real).sum())
            forced += int(((model(src, tgt_in).numpy().argmax(-1) == tgt_out) & real).sum())
            tokens += int(real.sum())
    return {"exact_match": exact / len(pairs.src), "tokens_free_running": free / tokens,
            "tokens_teacher_forced": forced / tokens}


@dataclass(frozen=True)
class ReverseTask:
    train: int = 5000       # training pairs
    held_out: int = 500     # held-out pairs, none with a source seen in training
    min_len: int = 3        # digits per string, at least
    max_len: int = 10       # and at most


REVERSE_TASK = ReverseTask()


def reverse_task(task=None):
    """(train, held-out) `SequencePairs` of the reversal task (default REVERSE_TASK), fixed
    by SPLIT_SEED; no held-out source occurs in the training set."""
    task = task or REVERSE_TASK
    train = reverse_digits(task.train, task.min_len, task.max_len, seed=SPLIT_SEED)
    candidates = reverse_digits(2 * task.held_out, task.min_len, task.max_len,
                                seed=SPLIT_SEED + 1)
    seen = {row.tobytes() for row in train.src}
    fresh = [i for i, row in enumerate(candidates.src) if row.tobytes() not in seen]
    return train, SequencePairs(*(a[fresh[:task.held_out]] for a in candidates))


def sequence_loaders(train, val, batch_size, seed):
    """Loaders of (src, tgt_in, tgt_out) batches; the training one shuffled by `seed`."""
    def dataset(pairs):
        return TensorDataset(Tensor(pairs.src), Tensor(pairs.tgt_in), Tensor(pairs.tgt_out))
    return (DataLoader(dataset(train), batch_size=batch_size, shuffle=True,
                       generator=np.random.default_rng(seed)),
            DataLoader(dataset(val), batch_size=500))


REVERSE_CONFIG = Seq2SeqConfig(src_vocab=VOCAB_SIZE, tgt_vocab=VOCAB_SIZE, embed_dim=32,
                               hidden_size=64, cell="gru", attention="additive")


class _DecodingFigures(Callback):
    """After each epoch, `decoding_figures` on held-out pairs, kept in `records`."""

    def __init__(self, pairs):
        self.pairs, self.records = pairs, []

    def on_epoch_end(self, trainer, epoch, logs):
        self.records.append(decoding_figures(trainer.model, self.pairs))


def exposure_bias(config, options, train, val, epochs):
    """Two Seq2Seq(config) trained alike (seed, data, `epochs` epochs) but for the teacher
    forcing ratio, 1.0 and 0.5, measured on `val` after every epoch: {'teacher_forcing_R':
    {'exact_match': final figure, 'per_epoch': [decoding_figures, ...]}}."""
    figures = {}
    for ratio in (1.0, 0.5):
        train_loader, _ = sequence_loaders(train, val, options.batch_size, options.seed)
        backend.manual_seed(options.seed)
        model = Seq2Seq(dataclasses.replace(config, teacher_forcing_ratio=ratio))
        optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        measure = _DecodingFigures(val)
        fit(model, sequence_loss, optimizer, train_loader, epochs=epochs, metrics=None,
            diagnostics_every=0,
            callbacks=[GradientClipping(1.0), LRScheduler(scheduler), measure])
        figures[f"teacher_forcing_{ratio}"] = {
            "exact_match": measure.records[-1]["exact_match"], "per_epoch": measure.records}
    return figures


def _percent_row(values):
    return "  ".join(f"{100 * v:6.2f}%" for v in values)


@register("seq2seq-reverse", "GRU encoder-decoder with additive attention reversing 3-10 "
          "digit strings (5,000 train / 500 held out); exact match and exposure bias",
          epochs=12, lr=3e-3, batch_size=64, optimizer="adam", seed=0)
def seq2seq_reverse(options):
    train, val = reverse_task()
    train_loader, val_loader = sequence_loaders(train, val, options.batch_size, options.seed)
    model = Seq2Seq(REVERSE_CONFIG)
    optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=options.epochs)
    short = max(1, options.epochs // 3)

    def after(model):
        held = decoding_figures(model, val)
        held["exposure_bias"] = exposure_bias(REVERSE_CONFIG, options, train, val, short)
        lines = [f"held-out exact match (greedy): {100 * held['exact_match']:.2f}% "
                 f"({round(held['exact_match'] * len(val.src))}/{len(val.src)})",
                 f"held-out target tokens right: {100 * held['tokens_free_running']:.2f}% "
                 f"free running, {100 * held['tokens_teacher_forced']:.2f}% teacher forced",
                 f"exposure bias: two {short}-epoch runs, held out after each epoch "
                 f"(exact match; tokens free running / teacher forced)"]
        for name, run in held["exposure_bias"].items():
            per_epoch = run["per_epoch"]
            lines += [f"  {name.replace('_', ' ')}  exact   " + _percent_row(
                          r["exact_match"] for r in per_epoch),
                      f"  {'':<{len(name)}}  free    " + _percent_row(
                          r["tokens_free_running"] for r in per_epoch),
                      f"  {'':<{len(name)}}  forced  " + _percent_row(
                          r["tokens_teacher_forced"] for r in per_epoch)]
        return held, lines

    return Setup(model, sequence_loss, optimizer, train_loader, val_loader, options.epochs,
                 scheduler, "epoch",
                 {"data": f"reverse_digits, lengths {REVERSE_TASK.min_len}-"
                          f"{REVERSE_TASK.max_len}", "train": len(train.src),
                  "held_out": len(val.src), "config": dataclasses.asdict(REVERSE_CONFIG)},
                 callbacks=(GradientClipping(1.0),), metrics=[token_accuracy], after=after)


# -- character language model -----------------------------------------------------------------
CHAR_LSTM_CONFIG = CharLSTMConfig(embed_dim=64, hidden_size=256, num_layers=2, dropout=0.0)


@dataclass(frozen=True)
class StreamSettings:
    seq_len: int = 64           # T: characters per chunk, the truncated BPTT length
    steps_per_epoch: int = 150  # chunks (optimizer steps) between two validations
    val_streams: int = 256      # the validation text read as this many parallel streams
    val_seq_len: int = 128      # characters per validation chunk (no backward pass)
    max_norm: float = 5.0       # gradient clipping of the total norm (char-rnn's 5)
    eta_min: float = 0.1        # cosine annealing ends at eta_min * lr


CHAR_LSTM_STREAMS = StreamSettings()


class StreamingCharLSTM(CharLSTM):
    """CharLSTM for `fit` over StreamLoader batches: forward(x (B, T), start) -> logits
    (B T, V). The initial state is the one the previous chunk left in the same mode
    (training and evaluation keep one each), detached so that backpropagation stops at the
    chunk's start; zeros where start == 0 (the streams' beginning) or the batch changed.
    `carried` holds that state (run-time state, neither parameter nor buffer: a checkpoint
    does not keep it, so a resumed run starts its first chunk from zeros). Its state_dict
    is CharLSTM's."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.carried = {}

    def forward(self, idx, start):
        state = self.carried.get(self.training)
        if int(start.item()) == 0 or state is None or state[0].shape[1] != idx.shape[0]:
            state = None
        logits, state = super().forward(idx, state)
        self.carried[self.training] = tuple(s.detach() for s in state)
        return logits.reshape(-1, logits.shape[-1])             # (B, T, V) -> (B T, V)


class _SetEpoch(Callback):
    """Tell the training StreamLoader which epoch begins, so it continues along the text."""

    def on_epoch_begin(self, trainer, epoch):
        trainer.train_loader.set_epoch(epoch)


def bits_per_char(output, target):
    """Metric: the cross-entropy in bits, -log2 softmax(output)[target], summed over the
    rows of output (N, V): (total, N)."""
    xp = backend.get_array_module(output.data)
    z = output.data.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))               # log softmax
    picked = xp.take_along_axis(log_p, target.data.reshape(-1, 1).astype(np.int64), axis=1)
    return float(-picked.sum()) / math.log(2), int(target.shape[0])


def _sample_after(make_model, step, vocab, seed):
    """A Setup's `after`: 200 characters at temperature 0.8 from the trained weights, loaded
    into a plain `make_model()` and driven by `step` (a sampling step class)."""
    def after(model):
        plain = make_model()
        plain.load_state_dict(model.state_dict())
        text = sampling.generate(step(plain), vocab, 200, 0.8, seed=seed)
        return {}, ["sample (temperature 0.8, 200 characters):", *text.splitlines()]
    return after


@register("char-lstm", f"2-layer LSTM ({CHAR_LSTM_CONFIG.hidden_size} units) character model "
          "on Tiny Shakespeare from --data DIR (first 90% train, last 10% validation), "
          f"truncated BPTT; an epoch is {CHAR_LSTM_STREAMS.steps_per_epoch} chunks of "
          f"{CHAR_LSTM_STREAMS.seq_len} characters per stream", epochs=8, lr=3e-3,
          batch_size=32, optimizer="adam", seed=0)
def char_lstm(options):
    corpus = TinyShakespeare(options.data)
    train, val = corpus.split()
    s = CHAR_LSTM_STREAMS
    train_loader = StreamLoader(train, options.batch_size, s.seq_len, s.steps_per_epoch)
    val_loader = StreamLoader(val, s.val_streams, s.val_seq_len)
    config = dataclasses.replace(CHAR_LSTM_CONFIG, vocab_size=corpus.vocab_size)
    model = StreamingCharLSTM.from_config(config)
    optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=options.epochs * s.steps_per_epoch, eta_min=s.eta_min * options.lr)

    after = _sample_after(lambda: CharLSTM.from_config(config), sampling.RecurrentStep,
                          corpus.vocab, options.seed)
    return Setup(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader,
                 options.epochs, scheduler, "step",
                 {"data": f"Tiny Shakespeare from {corpus.path}", "characters": len(corpus),
                  "train": len(train), "held_out": len(val),
                  "scored_held_out": val_loader.batch_size * (val_loader.streams.shape[1] - 1),
                  "config": dataclasses.asdict(config), "streams": dataclasses.asdict(s),
                  "vocab": corpus.vocab.chars},
                 callbacks=(_SetEpoch(), GradientClipping(s.max_norm)),
                 metrics=["accuracy", bits_per_char], after=after)


# -- character-level GPT ------------------------------------------------------------------------
GPT_SHAKESPEARE_CONFIG = GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4,
                                   n_embd=128, dropout=0.0, bias=False)
GPT_STEPS_PER_EPOCH = 250   # optimizer steps between two validations
GPT_WARMUP_STEPS = 100      # nanoGPT's linear warm-up, then a cosine to GPT_MIN_LR_RATIO * lr
GPT_MIN_LR_RATIO = 0.1
GPT_VAL_BATCHES = 200       # the validation set: this many fixed random windows batches


class RandomWindows:
    """`steps` batches (x, y) of `batch_size` windows of `block_size` + 1 ids at random
    offsets in `ids`: x = window[:-1] (B, T), y = window[1:] flattened to (B T,) as the
    logits are. Offsets come from nnlab's generator (manual_seed fixes them), or with `seed`
    from a fresh generator on every pass (the same batches each time: a validation set)."""

    def __init__(self, ids, block_size, batch_size, steps, seed=None):
        if len(ids) <= block_size:
            raise ValueError(f"RandomWindows: {len(ids)} ids hold no window of "
                             f"{block_size} + 1")
        self.ids, self.block_size, self.batch_size = np.asarray(ids), block_size, batch_size
        self.steps, self.seed = steps, seed

    def __len__(self):
        return self.steps

    def __iter__(self):
        gen = backend.generator() if self.seed is None else np.random.default_rng(self.seed)
        span = np.arange(self.block_size + 1)
        for _ in range(self.steps):
            starts = gen.integers(0, len(self.ids) - self.block_size, self.batch_size)
            windows = self.ids[starts[:, None] + span]              # (B, T + 1)
            yield Tensor(windows[:, :-1]), Tensor(windows[:, 1:].reshape(-1))


class FlatLogitsGPT(GPT):
    """GPT for `fit`: forward(idx (B, T)) -> logits (B T, V), so that nn.CrossEntropyLoss
    and the per-character metrics apply as to char-lstm. Its state_dict is GPT's."""

    def forward(self, idx):
        logits, _ = super().forward(idx)
        return logits.reshape(-1, logits.shape[-1])                 # (B, T, V) -> (B T, V)


def warmup_cosine(warmup, total, min_ratio):
    """nanoGPT's learning rate as a factor of the base lr at step t: (t + 1) / (warmup + 1)
    in the warm-up, then min_ratio + (1 - min_ratio) (1 + cos(pi s)) / 2 with s going from
    0 to 1 at step `total`, min_ratio after."""
    def factor(t):
        if t < warmup:
            return (t + 1) / (warmup + 1)
        s = min(1.0, (t - warmup) / max(1, total - warmup))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * s))
    return factor


def gpt_optimizer(model, options):
    """nanoGPT's AdamW (betas (0.9, 0.99), weight decay 0.1 on the 2-D weights, none on
    biases and LayerNorms); another --optimizer is made as the other recipes make it."""
    if options.optimizer != "adamw":
        return make_optimizer(options.optimizer, model.parameters(), options.lr)
    params = list(model.parameters())
    return optim.AdamW([{"params": [p for p in params if p.ndim >= 2], "weight_decay": 0.1},
                        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}],
                       lr=options.lr, betas=(0.9, 0.99))


@register("gpt-shakespeare", "character-level GPT (4 layers, 4 heads, 128 wide, context 64) "
          "on Tiny Shakespeare from --data DIR (first 90% train, last 10% validation), random "
          f"windows; an epoch is {GPT_STEPS_PER_EPOCH} steps", epochs=8, lr=1e-3, batch_size=12,
          optimizer="adamw", seed=0)
def gpt_shakespeare(options):
    corpus = TinyShakespeare(options.data)
    train, val = corpus.split()
    config = dataclasses.replace(GPT_SHAKESPEARE_CONFIG, vocab_size=corpus.vocab_size)
    model = FlatLogitsGPT(config)
    optimizer = gpt_optimizer(model, options)
    steps = options.epochs * GPT_STEPS_PER_EPOCH
    scheduler = optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(GPT_WARMUP_STEPS, steps, GPT_MIN_LR_RATIO))
    T = config.block_size
    train_loader = RandomWindows(train, T, options.batch_size, GPT_STEPS_PER_EPOCH)
    val_loader = RandomWindows(val, T, options.batch_size, GPT_VAL_BATCHES, seed=SPLIT_SEED)

    after = _sample_after(lambda: GPT(config), sampling.TransformerStep, corpus.vocab,
                          options.seed)
    return Setup(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader,
                 options.epochs, scheduler, "step",
                 {"data": f"Tiny Shakespeare from {corpus.path}", "characters": len(corpus),
                  "train": len(train), "held_out": len(val),
                  "scored_held_out": GPT_VAL_BATCHES * options.batch_size * T,
                  "config": dataclasses.asdict(config), "vocab": corpus.vocab.chars},
                 callbacks=(GradientClipping(1.0),), metrics=["accuracy", bits_per_char],
                 after=after)


# -- running --------------------------------------------------------------------------------------
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
        cbs.append(LRScheduler(setup.scheduler, setup.scheduler_interval))
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
