"""Every recipe at a tiny size, for tests that run recipes end to end (in this process with
pytest's monkeypatch, or in a child process with plain setattr): `shrink(setattr, name)`
makes the module-level settings of recipe `name`'s family small, and `OPTIONS[name]` gives
the options of a two-epoch run of a few steps an epoch."""
import dataclasses
from pathlib import Path

from nnlab.data.datasets import MNIST as FullMNIST
from nnlab.data.datasets import ReverseTask
from nnlab.models import GPTConfig
from nnlab.train.recipes import Options, char_lstm, classifiers, gpt, seq2seq

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MNIST_DIR = SHARED / "mnist"
HAS_MNIST = (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file()
HAS_SHAKESPEARE = (SHARED / "tinyshakespeare" / "input.txt").is_file()
TABLES = Path(__file__).resolve().parent / "data"    # 100 rows each: 80 train, 20 held out

STEPS = 4           # optimizer steps per epoch, roughly, in every tiny recipe


class SmallMNIST(FullMNIST):
    """MNIST's test images cut to 2,300: the recipes' 2,000 held out and 300 to train."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.data, self.targets = self.data[:2300], self.targets[:2300]


OPTIONS = {
    "mlp-digits": Options(epochs=2, batch_size=360),                      # 4 steps
    "mlp-mnist": Options(data=str(MNIST_DIR), epochs=2, batch_size=75),   # 4 steps
    "lenet-mnist": Options(data=str(MNIST_DIR), epochs=2, batch_size=75),
    "seq2seq-reverse": Options(epochs=2, batch_size=32),                  # 128 pairs: 4 steps
    "char-lstm": Options(data=str(SHARED), epochs=2, batch_size=8),
    "gpt-shakespeare": Options(data=str(SHARED), epochs=2, batch_size=4),
    "classifier": Options(data=str(TABLES / "tiny_classes.csv"), target="species", epochs=2,
                          batch_size=20),                                 # 4 steps
    "regressor": Options(data=str(TABLES / "tiny_prices.tsv"), target="price", epochs=2,
                         batch_size=20),
}

NEEDS = {"mlp-mnist": HAS_MNIST, "lenet-mnist": HAS_MNIST, "char-lstm": HAS_SHAKESPEARE,
         "gpt-shakespeare": HAS_SHAKESPEARE}


def missing_data(name):
    """Why recipe `name` cannot run here (its data is not in ../shared/data), or None."""
    if NEEDS.get(name, True):
        return None
    return f"{name} needs data that is not in {SHARED} (see ../shared/data/README.md)"


def shrink(setattr, name):
    """Make recipe `name`'s family tiny: setattr(module, attribute, value) for each setting
    (pytest's monkeypatch.setattr, or the builtin setattr in a child process)."""
    if name in ("mlp-mnist", "lenet-mnist"):
        setattr(classifiers, "MNIST", SmallMNIST)
    elif name == "seq2seq-reverse":
        setattr(seq2seq, "REVERSE_TASK", ReverseTask(train=128, held_out=32))
    elif name == "char-lstm":
        setattr(char_lstm, "CHAR_LSTM_CONFIG", dataclasses.replace(
            char_lstm.CHAR_LSTM_CONFIG, embed_dim=8, hidden_size=16))
        setattr(char_lstm, "CHAR_LSTM_STREAMS", dataclasses.replace(
            char_lstm.CHAR_LSTM_STREAMS, seq_len=16, steps_per_epoch=STEPS, val_streams=512,
            val_seq_len=256))
    elif name == "gpt-shakespeare":
        setattr(gpt, "GPT_SHAKESPEARE_CONFIG", GPTConfig(
            vocab_size=65, block_size=16, n_layer=1, n_head=2, n_embd=16, bias=False))
        setattr(gpt, "GPT_STEPS_PER_EPOCH", STEPS)
        setattr(gpt, "GPT_WARMUP_STEPS", 2)
        setattr(gpt, "GPT_VAL_BATCHES", 2)
