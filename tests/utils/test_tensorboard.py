"""SummaryWriter: the event files it writes, read back by TensorBoard's EventAccumulator;
histograms bucket for bucket as torch's writer makes them; the error without tensorboard."""
import importlib.util
import os
import socket
import sys

import numpy as np
import pytest

import nnlab
from nnlab.utils.tensorboard import SummaryWriter, histogram_buckets, tensorflow_bins

requires_tensorboard = pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None,
                                          reason="tensorboard is not installed")


def read(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    accumulator = EventAccumulator(str(log_dir), size_guidance={"histograms": 0, "tensors": 0,
                                                                "scalars": 0})
    accumulator.Reload()
    return accumulator


@requires_tensorboard
def test_scalars_histograms_and_text_are_read_back(tmp_path):
    values = np.random.default_rng(0).normal(size=500)
    with SummaryWriter(tmp_path / "run") as writer:
        for step, loss in enumerate([2.5, 1.25, 0.5]):
            writer.add_scalar("train/loss", nnlab.tensor(loss), step)
        writer.add_scalar("lr", 0.125, 7, new_style=True)
        writer.add_histogram("weights", nnlab.tensor(values), global_step=3)
        writer.add_text("notes", "nnlab *run*", 0)
        writer.add_graph(nnlab.nn.Linear(2, 1), nnlab.zeros(1, 2))
        writer.flush()
        assert writer.get_logdir() == str(tmp_path / "run")
    events = read(tmp_path / "run")
    assert events.Tags()["scalars"] == ["train/loss"]
    assert [(e.step, e.value) for e in events.Scalars("train/loss")] == \
           [(0, 2.5), (1, 1.25), (2, 0.5)]
    lr = events.Tensors("lr")[0]
    assert (lr.step, lr.tensor_proto.float_val[0]) == (7, 0.125)
    histogram = events.Histograms("weights")[0]
    assert histogram.step == 3
    h = histogram.histogram_value
    assert (h.min, h.max, h.num) == (values.min(), values.max(), 500)
    assert h.sum == pytest.approx(values.sum()) and h.sum_squares == pytest.approx(values @ values)
    assert sum(h.bucket) == 500 and h.bucket[0] == 0 and h.bucket[-1] > 0
    text = events.Tensors("notes/text_summary")[0]
    assert text.tensor_proto.string_val == [b"nnlab *run*"]


@requires_tensorboard
def test_add_scalars_writes_one_run_per_key(tmp_path):
    with SummaryWriter(str(tmp_path)) as writer:
        for step in range(3):
            writer.add_scalars("loss/all", {"train": 1.0 / (step + 1), "val": 2.0}, step)
    assert sorted(os.listdir(tmp_path))[-2:] == ["loss_all_train", "loss_all_val"]
    train = read(tmp_path / "loss_all_train").Scalars("loss/all")
    assert [(e.step, round(e.value, 6)) for e in train] == [(0, 1.0), (1, 0.5), (2, 0.333333)]
    assert [e.value for e in read(tmp_path / "loss_all_val").Scalars("loss/all")] == [2.0] * 3


@requires_tensorboard
def test_a_closed_writer_reopens_and_the_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    log_dir = writer.get_logdir()
    assert log_dir.startswith("runs" + os.sep)
    assert log_dir.endswith(f"_{socket.gethostname()}_lr0.1") and os.path.isdir(log_dir)
    writer.add_scalar("a", 1.0, 0)
    writer.close()
    writer.add_scalar("a", 2.0, 1)   # a new event file, as torch's writer
    writer.close()
    assert len(os.listdir(log_dir)) == 2
    assert [e.value for e in read(log_dir).Scalars("a")] == [1.0, 2.0]


@requires_tensorboard
def test_histograms_bucket_as_torchs():
    summary = pytest.importorskip("torch.utils.tensorboard.summary")
    values = np.random.default_rng(1).normal(3.0, 2.0, size=1000)
    bins_cases = [(tensorflow_bins(), None), (10, None), (10, 3), ("auto", None), (64, 5)]
    for bins, max_bins in bins_cases:
        counts, limits = histogram_buckets(values, bins, max_bins)
        torch_bins = tensorflow_bins().tolist() if isinstance(bins, np.ndarray) else bins
        h = summary.make_histogram(values, torch_bins, max_bins)
        assert counts.tolist() == list(h.bucket), (bins, max_bins)
        np.testing.assert_array_equal(limits, list(h.bucket_limit))


def test_tensorflow_bins_are_tensorboards():
    v, edges = 1e-12, []
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    assert tensorflow_bins().tolist() == [-e for e in edges[::-1]] + [0.0] + edges


@requires_tensorboard
def test_bad_values_are_refused(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match=r"add_scalar\('x'\): expected a single value, got "
                                             r"shape \(2,\)"):
            writer.add_scalar("x", nnlab.ones(2))
        with pytest.raises(ValueError, match="add_histogram\\('h'\\): the values are empty"):
            writer.add_histogram("h", [])
        with pytest.raises(ValueError, match="not all finite"):
            writer.add_histogram("h", [1.0, float("nan")])


def test_without_tensorboard_the_error_names_the_install(tmp_path, monkeypatch):
    for name in [n for n in sys.modules if n == "tensorboard" or n.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        SummaryWriter(tmp_path / "never")
    assert not (tmp_path / "never").exists()
