"""Character corpora: the vocabulary, the fixed 90/10 split, streams, finding the file
(root as the folder or its parent, NNLAB_DATA, a clear error) and the real Tiny
Shakespeare when it is present."""
from pathlib import Path

import numpy as np
import pytest

import nnlab
from nnlab.data.datasets import (
    CharCorpus,
    CharVocab,
    RandomWindows,
    TinyShakespeare,
    batchify,
    split_ids,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_shakespeare = pytest.mark.skipif(
    not (SHARED / "tinyshakespeare" / "input.txt").is_file(),
    reason=f"Tiny Shakespeare is not in {SHARED / 'tinyshakespeare'} "
    "(see ../shared/data/README.md)")


@pytest.fixture
def no_data_env(monkeypatch, tmp_path):
    monkeypatch.delenv("NNLAB_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_vocab_is_sorted_and_round_trips():
    vocab = CharVocab.from_text("hello, world\n")
    assert vocab.chars == "\n ,dehlorw" and len(vocab) == 10
    ids = vocab.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [5, 4, 6, 6, 7]
    assert vocab.decode(ids) == "hello" and vocab.decode([]) == ""
    assert CharVocab.from_dict(vocab.to_dict()).chars == vocab.chars
    with pytest.raises(ValueError, match="not in the vocabulary: 'Qiuz'"):
        vocab.encode("hello Quiz")
    with pytest.raises(ValueError, match=r"ids must be in \[0, 10\)"):
        vocab.decode([10])
    with pytest.raises(ValueError, match="distinct and sorted"):
        CharVocab("ba")


def test_unicode_characters():
    vocab = CharVocab.from_text("naïve café ☃")
    assert vocab.decode(vocab.encode("café ☃")) == "café ☃"


def test_split_and_streams():
    ids = np.arange(100)
    train, val = split_ids(ids)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))
    corpus = CharCorpus("abcdefghij" * 3)
    train, val = corpus.split()
    assert len(train) == 27 and corpus.vocab.decode(val) == "hij"
    streams = batchify(np.arange(10), 3)
    assert streams.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    with pytest.raises(ValueError, match="batchify"):
        batchify(np.arange(5), 3)


def test_found_through_root_either_folder_and_nnlab_data(no_data_env, monkeypatch):
    folder = no_data_env / "data" / "tinyshakespeare"
    folder.mkdir(parents=True)
    (folder / "input.txt").write_text("To be, or not to be:\nthat is the question.\n")
    for root in (folder, folder.parent):
        corpus = TinyShakespeare(root=root)
        assert Path(corpus.root) == folder and corpus.vocab_size == 18
    monkeypatch.setenv("NNLAB_DATA", str(folder.parent))
    assert len(TinyShakespeare()) == 43


def test_a_missing_file_names_the_file_and_folders(no_data_env):
    with pytest.raises(FileNotFoundError) as info:
        TinyShakespeare(root=no_data_env / "nowhere")
    message = str(info.value)
    assert "tinyshakespeare/input.txt" in message
    assert str(no_data_env / "nowhere") in message
    assert str(no_data_env / "nowhere" / "tinyshakespeare") in message
    assert "NNLAB_DATA is not set" in message


@needs_shakespeare
def test_the_real_tiny_shakespeare():
    corpus = TinyShakespeare(root=SHARED)
    assert len(corpus) == 1_115_394 and corpus.vocab_size == 65
    assert corpus.vocab.chars[:3] == "\n !" and corpus.vocab.chars[-1] == "z"
    train, val = corpus.split()
    assert (len(train), len(val)) == (1_003_854, 111_540)
    assert corpus.vocab.decode(train[:14]) == "First Citizen:"
    assert corpus.vocab.decode(np.concatenate([train, val])) == corpus.text


def test_random_windows():
    ids = np.arange(100)
    nnlab.manual_seed(0)
    windows = RandomWindows(ids, 8, 4, steps=3)
    batches = list(windows)
    assert len(windows) == len(batches) == 3
    for x, y in batches:
        assert x.shape == (4, 8) and y.shape == (32,)            # y flattened as the logits
        np.testing.assert_array_equal(y.numpy().reshape(4, 8), x.numpy() + 1)
    nnlab.manual_seed(0)                                         # nnlab's generator
    assert [b[0].numpy().tolist() for b in windows] == [b[0].numpy().tolist() for b in batches]
    fixed = RandomWindows(ids, 8, 4, steps=2, seed=0)            # the same batches every pass
    assert [b[0].numpy().tolist() for b in fixed] == [b[0].numpy().tolist() for b in fixed]
    with pytest.raises(ValueError, match="RandomWindows: 8 ids hold no window of 8 \\+ 1"):
        RandomWindows(np.arange(8), 8, 4, steps=1)
