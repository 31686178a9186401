"""A character-level LSTM language model: char-lstm.

    char-lstm    Tiny Shakespeare (tinyshakespeare/input.txt from --data DIR): the first
                 90% of the characters train, the last 10% validate. A 2-layer LSTM (256
                 units) over 32 parallel streams of the text, truncated BPTT in chunks of
                 64 characters with the state carried across chunks, Adam with cosine
                 annealing per step and gradient clipping (5). An epoch is 150 chunks (8
                 epochs: 1,200 steps, 2.4 passes over the training text, about 3 minutes
                 on 2 cores); the validation loss is per character, 1.57 nats (2.26 bits).
                 `nnlab sample RUN_DIR` generates text from the run.
"""
import dataclasses
from dataclasses import dataclass

from ... import nn, optim
from ...data.datasets import StreamLoader, TinyShakespeare
from ...models import CharLSTM, CharLSTMConfig, StreamingCharLSTM
from .. import sampling
from ..callbacks import Callback, GradientClipping
from ..metrics import bits_per_char
from . import Setup, make_optimizer, register, sample_after

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


class _Streams(Callback):
    """Tell the training StreamLoader which epoch begins, so it continues along the text
    (its position is a function of the epoch, which the checkpoint holds), and carry the
    model's LSTM state across chunks through checkpoints, so that a resumed run feeds its
    first chunk the state the interrupted one would have."""

    def __init__(self, model):
        self.model = model

    def on_epoch_begin(self, trainer, epoch):
        trainer.train_loader.set_epoch(epoch)

    def state_dict(self):
        return {"carried": self.model.stream_state()}

    def load_state_dict(self, state):
        self.model.load_stream_state(state.get("carried"))


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

    after = sample_after(lambda: CharLSTM.from_config(config), sampling.RecurrentStep,
                         corpus.vocab, options.seed)
    return Setup(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader,
                 options.epochs, scheduler, "step",
                 {"data": f"Tiny Shakespeare from {corpus.path}", "characters": len(corpus),
                  "train": len(train), "held_out": len(val),
                  "scored_held_out": val_loader.batch_size * (val_loader.streams.shape[1] - 1),
                  "config": dataclasses.asdict(config), "streams": dataclasses.asdict(s),
                  "vocab": corpus.vocab.chars},
                 callbacks=(_Streams(model), GradientClipping(s.max_norm)),
                 metrics=["accuracy", bits_per_char], after=after)
