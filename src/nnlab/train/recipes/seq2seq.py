"""Sequence to sequence: seq2seq-reverse, with its exposure-bias measurement.

    seq2seq-reverse
                 reverse strings of 3-10 digits: 5,000 train / 500 held out (sources unseen
                 in training), a GRU encoder-decoder with additive attention, Adam with
                 cosine annealing and gradient clipping. Reports the held-out exact match
                 under greedy decoding (>= 99%) and measures exposure bias: two runs of a
                 third of the epochs, teacher forcing ratio 1.0 and 0.5, each decoded free
                 running and scored teacher forced after every epoch.
"""
import dataclasses

import numpy as np

from ... import backend, optim
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...data import DataLoader, TensorDataset
from ...data.datasets import ReverseTask
from ...data.datasets.sequences import BOS, EOS, PAD, VOCAB_SIZE
from ...models import Seq2Seq, Seq2SeqConfig
from ...nn import functional as F
from ..callbacks import Callback, GradientClipping, LRSchedulerCallback
from ..metrics import token_accuracy
from ..trainer import fit
from . import SPLIT_SEED, Setup, make_optimizer, register

REVERSE_TASK = ReverseTask()
REVERSE_CONFIG = Seq2SeqConfig(src_vocab=VOCAB_SIZE, tgt_vocab=VOCAB_SIZE, embed_dim=32,
                               hidden_size=64, cell="gru", attention="additive")


def sequence_loss(logits, target):
    """Mean cross-entropy per target token of logits (B, T, V), PAD targets ignored."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]),  # (B, T, V) -> (B T, V)
                           target.reshape(-1), ignore_index=PAD)


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


def sequence_loaders(train, val, batch_size, seed):
    """Loaders of (src, tgt_in, tgt_out) batches; the training one shuffled by `seed`."""
    def dataset(pairs):
        return TensorDataset(Tensor(pairs.src), Tensor(pairs.tgt_in), Tensor(pairs.tgt_out))
    return (DataLoader(dataset(train), batch_size=batch_size, shuffle=True,
                       generator=np.random.default_rng(seed)),
            DataLoader(dataset(val), batch_size=500))


class _DecodingFigures(Callback):
    """After each epoch, `decoding_figures` on held-out pairs, kept in `records`."""

    def __init__(self, pairs):
        self.pairs, self.records = pairs, []

    def on_epoch_end(self, trainer, epoch, logs):
        self.records.append(decoding_figures(trainer.model, self.pairs))


def exposure_bias(config, options, train, val, epochs, callbacks=(), note=None):
    """Two Seq2Seq(config) trained alike (seed, data, `epochs` epochs) but for the teacher
    forcing ratio, 1.0 and 0.5, measured on `val` after every epoch: {'teacher_forcing_R':
    {'exact_match': final figure, 'per_epoch': [decoding_figures, ...]}}. `callbacks` watch
    both runs, which `note(line)` announces."""
    figures = {}
    for ratio in (1.0, 0.5):
        if note is not None:
            note(f"exposure bias: {epochs}-epoch run with teacher forcing ratio {ratio}")
        train_loader, _ = sequence_loaders(train, val, options.batch_size, options.seed)
        backend.manual_seed(options.seed)
        model = Seq2Seq(dataclasses.replace(config, teacher_forcing_ratio=ratio))
        optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        measure = _DecodingFigures(val)
        fit(model, sequence_loss, optimizer, train_loader, epochs=epochs, metrics=None,
            diagnostics_every=0,
            callbacks=[GradientClipping(1.0), LRSchedulerCallback(scheduler), measure,
                       *callbacks])
        figures[f"teacher_forcing_{ratio}"] = {
            "exact_match": measure.records[-1]["exact_match"], "per_epoch": measure.records}
    return figures


def _percent_row(values):
    return "  ".join(f"{100 * v:6.2f}%" for v in values)


@register("seq2seq-reverse", "GRU encoder-decoder with additive attention reversing 3-10 "
          "digit strings (5,000 train / 500 held out); exact match and exposure bias",
          epochs=12, lr=3e-3, batch_size=64, optimizer="adam", seed=0)
def seq2seq_reverse(options):
    train, val = REVERSE_TASK.split(SPLIT_SEED)
    train_loader, val_loader = sequence_loaders(train, val, options.batch_size, options.seed)
    model = Seq2Seq(REVERSE_CONFIG)
    optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=options.epochs)
    short = max(1, options.epochs // 3)

    def after(model, callbacks=(), note=None):
        held = decoding_figures(model, val)
        held["exposure_bias"] = exposure_bias(REVERSE_CONFIG, options, train, val, short,
                                              callbacks, note)
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
