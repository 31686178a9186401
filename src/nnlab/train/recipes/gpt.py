"""A character-level GPT: gpt-shakespeare.

    gpt-shakespeare
                 Tiny Shakespeare and its split as char-lstm's, nanoGPT's small CPU
                 configuration: a GPT of 4 layers, 4 heads, 128 wide, no biases, context
                 64, batches of 12 random windows, 2,000 AdamW steps (weight decay 0.1 on
                 2-D weights, betas 0.9, 0.99) with a 100-step warm-up and a cosine to
                 lr / 10, clipping (1). An epoch is 250 steps; validation: 200 fixed random
                 batches. Reaches a validation loss of about 1.88 nats per character;
                 `nnlab sample RUN_DIR`.
"""
import dataclasses

from ... import nn, optim
from ...data.datasets import RandomWindows, TinyShakespeare
from ...models import GPT, FlatLogitsGPT, GPTConfig
from .. import sampling
from ..callbacks import GradientClipping
from ..metrics import bits_per_char
from . import SPLIT_SEED, Setup, make_optimizer, register, sample_after

GPT_SHAKESPEARE_CONFIG = GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4,
                                   n_embd=128, dropout=0.0, bias=False)
GPT_STEPS_PER_EPOCH = 250   # optimizer steps between two validations
GPT_WARMUP_STEPS = 100      # nanoGPT's linear warm-up, then a cosine to GPT_MIN_LR_RATIO * lr
GPT_MIN_LR_RATIO = 0.1
GPT_VAL_BATCHES = 200       # the validation set: this many fixed random windows batches


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
    scheduler = optim.lr_scheduler.WarmupCosineLR(optimizer, GPT_WARMUP_STEPS, steps,
                                                  GPT_MIN_LR_RATIO)
    T = config.block_size
    train_loader = RandomWindows(train, T, options.batch_size, GPT_STEPS_PER_EPOCH)
    val_loader = RandomWindows(val, T, options.batch_size, GPT_VAL_BATCHES, seed=SPLIT_SEED)

    after = sample_after(lambda: GPT(config), sampling.TransformerStep, corpus.vocab,
                         options.seed)
    return Setup(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader,
                 options.epochs, scheduler, "step",
                 {"data": f"Tiny Shakespeare from {corpus.path}", "characters": len(corpus),
                  "train": len(train), "held_out": len(val),
                  "scored_held_out": GPT_VAL_BATCHES * options.batch_size * T,
                  "config": dataclasses.asdict(config), "vocab": corpus.vocab.chars},
                 callbacks=(GradientClipping(1.0),), metrics=["accuracy", bits_per_char],
                 after=after)
