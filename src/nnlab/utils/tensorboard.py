"""torch.utils.tensorboard's `SummaryWriter`: scalars, histograms and text written as
TensorBoard event files, through the `tensorboard` package (an optional extra:
`pip install tensorboard`), so `tensorboard --logdir runs` shows them.

What it writes (one `Event` protocol buffer per call, appended to
`LOG_DIR/events.out.tfevents.<time>.<host>.<pid>.<n>`):
  add_scalar    a `Summary.Value` with `simple_value` (new_style: a float tensor tagged for
                the scalars plugin)
  add_scalars   one scalar per key, each in its own run folder LOG_DIR/<main_tag>_<key>,
                all under the tag main_tag, so TensorBoard draws them on one chart
  add_histogram a `HistogramProto`: min, max, count, sum, sum of squares, and the counts
                of the non-empty stretch of buckets with their right edges
  add_text      a string tensor tagged `<tag>/text_summary` for the text plugin
"""
import os
import socket
import time
from datetime import datetime

import numpy as np


def _tensorboard():
    """The tensorboard modules the writer needs (imported on first use)."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2
        from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
        from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as e:
        raise ImportError("SummaryWriter writes TensorBoard event files with the "
                          "tensorboard package, which is not installed: pip install "
                          f"tensorboard ({e})") from e
    return event_pb2, summary_pb2, tensor_pb2, TensorShapeProto, TextPluginData, \
        EventFileWriter


def _array(values):
    """`values` (a Tensor, an array, a number or a sequence) as a NumPy array."""
    if hasattr(values, "detach"):
        values = values.detach()
    if hasattr(values, "numpy"):
        values = values.numpy()
    return np.asarray(values)


def _scalar(value, tag):
    array = _array(value)
    if array.size != 1:
        raise ValueError(f"SummaryWriter.add_scalar({tag!r}): expected a single value, got "
                         f"shape {tuple(array.shape)}")
    return float(array.reshape(()))


def tensorflow_bins():
    """TensorBoard's default bucket edges: 0 and +-1e-12 * 1.1^k below 1e20 (1549 edges)."""
    positive = np.cumprod(np.r_[1e-12, np.full(800, 1.1)])   # 1e-12, 1e-12 * 1.1, ...
    positive = positive[positive < 1e20]
    return np.concatenate([-positive[::-1], [0.0], positive])


def histogram_buckets(values, bins, max_bins=None):
    """(counts, right edges) of `values` in `bins` (edges or a numpy.histogram rule), merged
    to at most `max_bins` buckets, trimmed to the stretch from the last empty bucket before
    the first value to the bucket of the last value (TensorBoard keeps only right edges, so
    that leading empty bucket carries the left edge)."""
    counts, edges = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        step = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % step)).reshape(-1, step).sum(axis=1)
        edges = np.append(edges[:-1:step], edges[-1])
    filled = np.flatnonzero(counts)
    first, last = filled[0], filled[-1]
    if first == 0:   # no empty bucket to the left: add one, of width zero
        return np.concatenate([[0], counts[:last + 1]]), edges[:last + 2]
    return counts[first - 1:last + 1], edges[first:last + 2]


class SummaryWriter:
    """Writes scalars, histograms and text for TensorBoard to `log_dir` (default
    runs/<date>_<host><comment>, as torch's), as torch.utils.tensorboard.SummaryWriter.

    Also a context manager (`close` at the end). `add_graph` writes nothing: a graph needs
    torch's tracer. `purge_step` hides the events of a crashed run from that step on."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10,
                 flush_secs=120, filename_suffix=""):
        _tensorboard()   # fail here, before any folder exists, without the package
        if not log_dir:
            now = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{now}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.purge_step, self.max_queue = purge_step, max_queue
        self.flush_secs, self.filename_suffix = flush_secs, filename_suffix
        self.default_bins = tensorflow_bins()
        self.all_writers = None
        self._file_writer()

    def get_logdir(self):
        return self.log_dir

    def _file_writer(self, log_dir=None):
        """The event-file writer of `log_dir` (default: the writer's own), opened on first
        use and again after `close`."""
        event_pb2, *_, EventFileWriter = _tensorboard()
        if self.all_writers is None:
            self.all_writers = {}
        log_dir = log_dir or self.log_dir
        if log_dir not in self.all_writers:
            writer = EventFileWriter(log_dir, self.max_queue, self.flush_secs,
                                     self.filename_suffix)
            self.all_writers[log_dir] = writer
            if log_dir == self.log_dir and self.purge_step is not None:
                step, self.purge_step = self.purge_step, None
                writer.add_event(event_pb2.Event(step=step, file_version="brain.Event:2"))
                writer.add_event(event_pb2.Event(step=step, session_log=event_pb2.SessionLog(
                    status=event_pb2.SessionLog.START)))
        return self.all_writers[log_dir]

    def _write(self, value, global_step, walltime, log_dir=None):
        event_pb2, summary_pb2, *_ = _tensorboard()
        event = event_pb2.Event(summary=summary_pb2.Summary(value=[value]),
                                wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            event.step = int(global_step)
        self._file_writer(log_dir).add_event(event)

    def _scalar_value(self, tag, value, new_style=False, double_precision=False):
        _, summary_pb2, tensor_pb2, *_ = _tensorboard()
        if not new_style:
            return summary_pb2.Summary.Value(tag=tag, simple_value=value)
        tensor = (tensor_pb2.TensorProto(dtype="DT_DOUBLE", double_val=[value])
                  if double_precision else
                  tensor_pb2.TensorProto(dtype="DT_FLOAT", float_val=[value]))
        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
        return summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=metadata)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """One value of the series `tag` at step `global_step`."""
        value = self._scalar_value(tag, _scalar(scalar_value, tag), new_style,
                                   double_precision)
        self._write(value, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several series on one chart: key k goes to the run LOG_DIR/<main_tag>_<k> under
        the tag `main_tag`."""
        walltime = time.time() if walltime is None else walltime
        for tag, scalar_value in tag_scalar_dict.items():
            run = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{tag}")
            value = self._scalar_value(main_tag, _scalar(scalar_value, main_tag))
            self._write(value, global_step, walltime, log_dir=run)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        """The distribution of `values` (any shape): TensorBoard's exponential buckets by
        default, or `bins` as numpy.histogram takes them ('auto', 'fd', an int, edges)."""
        _, summary_pb2, *_ = _tensorboard()
        values = _array(values).astype(np.float64).reshape(-1)
        if values.size == 0:
            raise ValueError(f"SummaryWriter.add_histogram({tag!r}): the values are empty")
        if not np.isfinite(values).all():
            raise ValueError(f"SummaryWriter.add_histogram({tag!r}): the values are not all "
                             "finite (NaN or Inf)")
        counts, limits = histogram_buckets(
            values, self.default_bins if isinstance(bins, str) and bins == "tensorflow"
            else bins, max_bins)
        histo = summary_pb2.HistogramProto(
            min=values.min(), max=values.max(), num=values.size, sum=values.sum(),
            sum_squares=values @ values, bucket_limit=limits.tolist(),
            bucket=counts.tolist())
        self._write(summary_pb2.Summary.Value(tag=tag, histo=histo), global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """A text (markdown) entry, shown by TensorBoard's text tab under `tag`."""
        _, summary_pb2, tensor_pb2, TensorShapeProto, TextPluginData, _ = _tensorboard()
        plugin = summary_pb2.SummaryMetadata.PluginData(
            plugin_name="text", content=TextPluginData(version=0).SerializeToString())
        tensor = tensor_pb2.TensorProto(
            dtype="DT_STRING", string_val=[text_string.encode("utf-8")],
            tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
        value = summary_pb2.Summary.Value(
            tag=f"{tag}/text_summary", tensor=tensor,
            metadata=summary_pb2.SummaryMetadata(plugin_data=plugin))
        self._write(value, global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Accepted and ignored: torch writes the graph its JIT tracer records, and nnlab has
        no tracer (print the model, or use nnlab.nn.utils.summary, to see its layers)."""

    def flush(self):
        """Write every pending event to disk."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self):
        """Flush and close the event files (a later add_* opens new ones)."""
        for writer in (self.all_writers or {}).values():
            writer.flush()
            writer.close()
        self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
