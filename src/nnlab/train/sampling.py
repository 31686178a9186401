"""Text from a trained language model: `sample(run_dir)` behind `nnlab sample RUN_DIR`.

A run directory holds run.json (the recipe's name, its settings, the vocabulary) and the
checkpoints best.npz / last.npz. `LOADERS` maps a recipe name to a function
`load(settings, model_state) -> (step, vocab)` that rebuilds the model; `step(ids)` feeds
new token ids (a 1-D int array) after those fed before and returns the logits (V,) for
the next token. A recurrent model keeps its state between calls; a transformer would keep
its context (or KV cache). A new recipe that makes a language model adds its loader here.

Each new token is drawn from softmax(logits / temperature); a temperature at or below
GREEDY (0 included) takes the argmax instead, so the text is deterministic.
"""
import json
import os

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..data.datasets.text import CharVocab
from ..models.char_rnn import CharLSTM, CharLSTMConfig
from ..models.gpt import GPT, Context, GPTConfig
from .checkpoint import read_checkpoint

GREEDY = 1e-6


def next_token(logits, temperature, rng):
    """An index drawn from softmax(logits / temperature) (logits (V,)), or argmax(logits)
    when temperature <= GREEDY."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature <= GREEDY:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))


def generate(step, vocab, length, temperature=1.0, prompt="", seed=None):
    """`length` characters after `prompt` (not included), one at a time: the first from
    step(encode(prompt)), each next from step([the last one]). An empty prompt starts from
    a newline (or the vocabulary's first character when it has none)."""
    if length < 0:
        raise ValueError(f"generate: length must be >= 0, got {length}")
    if temperature < 0:
        raise ValueError(f"generate: temperature must be >= 0, got {temperature}")
    rng = np.random.default_rng(seed)
    start = prompt or ("\n" if "\n" in vocab.stoi else vocab.chars[0])
    ids = vocab.encode(start)
    out = []
    with no_grad():
        for _ in range(length):
            out.append(next_token(step(ids), temperature, rng))
            ids = np.array(out[-1:], dtype=np.int64)
    return vocab.decode(out)


class RecurrentStep:
    """`step(ids)` for a model forward(idx (1, T), state) -> (logits (1, T, V), state):
    feeds the ids, keeps the state, returns the last position's logits (V,)."""

    def __init__(self, model):
        self.model, self.state = model.eval(), None

    def __call__(self, ids):
        idx = Tensor(np.asarray(ids, dtype=np.int64).reshape(1, -1))     # (1, T)
        logits, self.state = self.model(idx, self.state)
        return logits._data[0, -1]


def char_lstm(settings, model_state):
    """The char-lstm recipe's CharLSTM (settings['config']) and vocabulary
    (settings['vocab'], the characters in id order)."""
    model = CharLSTM.from_config(CharLSTMConfig(**settings["config"]))
    model.load_state_dict(model_state)
    return RecurrentStep(model), CharVocab(settings["vocab"])


class TransformerStep:
    """`step(ids)` for a GPT: appends the ids to its context and returns the next token's
    logits (V,), the new ids alone going through the model against its KV cache (past
    block_size the context is cropped and re-run: see models.gpt.Context)."""

    def __init__(self, model):
        self.context = Context(model.eval())

    def __call__(self, ids):
        ids = np.asarray(ids, dtype=np.int64).reshape(1, -1)            # (1, n)
        return self.context.extend(ids)._data[0]


def gpt_shakespeare(settings, model_state):
    """The gpt-shakespeare recipe's GPT (settings['config']) and vocabulary
    (settings['vocab'], the characters in id order)."""
    model = GPT(GPTConfig(**settings["config"]))
    model.load_state_dict(model_state)
    return TransformerStep(model), CharVocab(settings["vocab"])


LOADERS = {"char-lstm": char_lstm, "gpt-shakespeare": gpt_shakespeare}


def read_run(run_dir):
    """run.json of `run_dir` as a dict; a FileNotFoundError naming it when absent."""
    path = os.path.join(os.fspath(run_dir), "run.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"sample: {path} not found; expected a run directory written "
                                "by nnlab train (run.json, best.npz, last.npz)")
    with open(path) as f:
        return json.load(f)


def load(run_dir, checkpoint=None):
    """(step, vocab) of the run's model with the weights of `checkpoint` (default: the
    run's best.npz, else last.npz)."""
    settings = read_run(run_dir)
    recipe = settings.get("recipe")
    if recipe not in LOADERS:
        raise ValueError(f"sample: run {run_dir} was trained by recipe {recipe!r}, which is not "
                         f"a language model; sampling knows {', '.join(sorted(LOADERS))}")
    if checkpoint is None:
        best = os.path.join(os.fspath(run_dir), "best.npz")
        checkpoint = best if os.path.isfile(best) else os.path.join(os.fspath(run_dir),
                                                                    "last.npz")
    return LOADERS[recipe](settings, read_checkpoint(checkpoint).model_state)


def sample(run_dir, length=500, temperature=1.0, prompt="", seed=None, checkpoint=None):
    """`length` characters generated by the model of `run_dir` after `prompt` (see
    `generate`; the prompt is not included)."""
    step, vocab = load(run_dir, checkpoint)
    return generate(step, vocab, length, temperature, prompt, seed)
