"""Character-level text corpora: a vocabulary, the text as integer ids, a fixed split.

    corpus = TinyShakespeare()                  # tinyshakespeare/input.txt, 1,115,394 chars
    corpus.vocab.encode("To be")                # int64 ids into the sorted characters
    train, val = corpus.split()                 # the first 90% and the last 10% of the ids
    streams = batchify(train, 32)               # (32, L): 32 contiguous streams
    loader = StreamLoader(train, 32, 64)        # (x, start, y) chunks for truncated BPTT
    windows = RandomWindows(train, 64, 12, 250)  # (x, y) at random offsets, for a GPT

The split is by position, not at random, so the validation text is unseen prose rather
than characters interleaved with the training text. The file is found without a network:
`root` (the tinyshakespeare folder itself or its parent), then `$NNLAB_DATA/tinyshakespeare`,
then `~/.cache/nnlab/tinyshakespeare`.
"""
import os

import numpy as np

from ... import backend
from ...autograd.tensor import Tensor
from .mnist import search_folders

TRAIN_FRACTION = 0.9


class CharVocab:
    """The sorted distinct characters of a text; id i is the i-th character.

    encode: str -> (n,) int64 ids; decode: ids -> str. `to_dict` / `from_dict` give a
    JSON-able form ({"chars": [...]})."""

    def __init__(self, chars):
        chars = "".join(chars)
        if len(set(chars)) != len(chars) or list(chars) != sorted(chars):
            raise ValueError(f"CharVocab: the characters must be distinct and sorted, got "
                             f"{chars!r}")
        if not chars:
            raise ValueError("CharVocab: the vocabulary is empty")
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}
        self._codes = np.array([ord(c) for c in chars], dtype=np.int64)

    @classmethod
    def from_text(cls, text):
        return cls(sorted(set(text)))

    def __len__(self):
        return len(self.chars)

    def __repr__(self):
        return f"CharVocab({len(self)} characters: {self.chars!r})"

    def encode(self, text):
        """(len(text),) int64: the id of each character; a character outside the vocabulary
        is a ValueError naming it."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        ids = np.searchsorted(self._codes, codes)
        ids = np.minimum(ids, len(self.chars) - 1)
        bad = self._codes[ids] != codes
        if bad.any():
            unknown = sorted({chr(c) for c in codes[bad]})
            raise ValueError(f"CharVocab.encode: {len(unknown)} character(s) not in the "
                             f"vocabulary: {''.join(unknown)!r} (the vocabulary is "
                             f"{self.chars!r})")
        return ids

    def decode(self, ids):
        """The string of the characters with ids `ids` (any integer sequence or array)."""
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.chars)):
            raise ValueError(f"CharVocab.decode: ids must be in [0, {len(self.chars)}), got "
                             f"[{ids.min()}, {ids.max()}]")
        return "".join(self.chars[i] for i in ids.tolist())

    def to_dict(self):
        return {"chars": list(self.chars)}

    @classmethod
    def from_dict(cls, state):
        return cls(state["chars"])


def split_ids(ids, train_fraction=TRAIN_FRACTION):
    """(train, val): ids[:n_train] and ids[n_train:], n_train = int(len(ids) *
    train_fraction); for Tiny Shakespeare 1,003,854 and 111,540 characters."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"split_ids: train_fraction must be in (0, 1), got {train_fraction}")
    n_train = int(len(ids) * train_fraction)
    return ids[:n_train], ids[n_train:]


def batchify(ids, batch_size):
    """(batch_size, L) with L = len(ids) // batch_size: row b is the contiguous stream
    ids[b L : (b + 1) L]; the last len(ids) % batch_size ids are dropped."""
    length = len(ids) // batch_size
    if batch_size < 1 or length < 2:
        raise ValueError(f"batchify: {len(ids)} ids cannot make {batch_size} streams of at "
                         "least 2 ids each")
    return np.ascontiguousarray(ids[:batch_size * length]).reshape(batch_size, length)


class StreamLoader:
    """Batches for truncated backpropagation through time: `ids` as `batch_size` parallel
    streams (batchify, (B, L)), read left to right in chunks of `seq_len` = T characters.

    Yields (x, start, y): x (B, T) int64, the chunk; start, a 0-d int64, its offset in the
    streams (0 at their beginning, where a model starts from a zero state; elsewhere it
    carries the state left by the previous chunk); y (B T,) int64, the character after each
    one of x, flattened row-major to match logits (B, T, V) -> (B T, V). A stream's last
    chunk may be shorter; each pass scores B (L - 1) characters.

    steps: chunks per epoch. None: one whole pass per epoch. Otherwise epoch e (see
    `set_epoch`, as torch's DistributedSampler) yields chunks (e - 1) steps to e steps - 1
    of the streams read over and over, so each epoch continues where the last one ended."""

    def __init__(self, ids, batch_size, seq_len, steps=None):
        if seq_len < 1 or (steps is not None and steps < 1):
            raise ValueError(f"StreamLoader: seq_len and steps must be positive, got "
                             f"seq_len={seq_len}, steps={steps}")
        self.streams = batchify(np.asarray(ids, dtype=np.int64), batch_size)
        self.batch_size, self.seq_len, self.steps = batch_size, seq_len, steps
        self.chunks = -(-(self.streams.shape[1] - 1) // seq_len)   # ceil((L - 1) / T)
        self.epoch = 1

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def __len__(self):
        return self.steps or self.chunks

    def __iter__(self):
        first = (self.epoch - 1) * self.steps if self.steps else 0
        end = self.streams.shape[1] - 1
        for k in range(first, first + len(self)):
            start = (k % self.chunks) * self.seq_len
            stop = min(start + self.seq_len, end)
            x = np.ascontiguousarray(self.streams[:, start:stop])
            y = self.streams[:, start + 1:stop + 1].reshape(-1)
            yield Tensor(x), Tensor(np.asarray(start, np.int64)), Tensor(y)


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


def read_text(path):
    """The contents of the UTF-8 text file `path`, newlines made "\\n" as open() makes them;
    a file that is not UTF-8 is a ValueError naming it and the first byte that does not
    decode."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ValueError(f"{os.fspath(path)} is not UTF-8 text: byte {data[e.start]:#04x} at "
                         f"offset {e.start} (line {line}) does not decode ({e.reason}); "
                         "expected a UTF-8 text file (convert it, e.g. iconv -t utf-8)") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def find_text_file(name, subfolder, root=None, what=None):
    """The path of `name` in the first folder that has it: root, root/subfolder,
    $NNLAB_DATA/subfolder, ~/.cache/nnlab/subfolder; a FileNotFoundError naming the file
    and every folder searched otherwise."""
    folders = search_folders(root, subfolder)
    for folder, _ in folders:
        if (folder / name).is_file():
            return folder / name
    lines = [f"  {folder}  [{source}]" for folder, source in folders]
    if not os.environ.get("NNLAB_DATA"):
        lines.append("  (NNLAB_DATA is not set)")
    raise FileNotFoundError(
        f"{what or subfolder}: the file {subfolder}/{name} was not found in any folder "
        "searched:\n" + "\n".join(lines) + f"\nPut {name} in one of them, pass root= (the "
        f"{subfolder} folder or its parent), or set NNLAB_DATA (its {subfolder}/ subfolder "
        "is searched).")


class CharCorpus:
    """A text as character ids: `text` (str), `vocab` (CharVocab of its sorted distinct
    characters unless one is given), `data` ((len(text),) int64 ids), `path` (or None).
    `split()` gives (train, val) ids: the first 90% and the last 10%."""

    def __init__(self, text, vocab=None, path=None):
        if not text:
            raise ValueError("CharCorpus: the text is empty")
        self.text = text
        self.vocab = vocab if vocab is not None else CharVocab.from_text(text)
        self.data = self.vocab.encode(text)
        self.path = None if path is None else os.fspath(path)

    @classmethod
    def from_file(cls, path, vocab=None):
        return cls(read_text(path), vocab, path)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def __len__(self):
        return len(self.data)

    def split(self, train_fraction=TRAIN_FRACTION):
        return split_ids(self.data, train_fraction)

    def __repr__(self):
        where = f", path={self.path!r}" if self.path else ""
        return f"{type(self).__name__}({len(self)} characters, {self.vocab_size} distinct{where})"


class TinyShakespeare(CharCorpus):
    """Tiny Shakespeare (Karpathy's char-rnn corpus): tinyshakespeare/input.txt, 1,115,394
    characters, 65 distinct; found from `root` (see the module docstring)."""

    subfolder, filename = "tinyshakespeare", "input.txt"

    def __init__(self, root=None):
        path = find_text_file(self.filename, self.subfolder, root, "TinyShakespeare")
        super().__init__(read_text(path), path=path)
        self.root = os.fspath(path.parent)
