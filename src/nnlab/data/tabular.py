"""Tabular data from a file: `CSVDataset` reads CSV / TSV text (with the csv module) and
NPZ archives into float32 features and class-index or float targets.

    dataset = CSVDataset("iris.csv", target="species")    # a header row; target by name
    x, y = dataset.arrays()                                # (N, F) float32, (N,) int64
    dataset.classes                                        # ['setosa', 'versicolor', ...]
"""
import csv
import os
import zipfile

import numpy as np

from ..autograd.tensor import Tensor
from .dataset import Dataset

DELIMITERS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
TASKS = ("classification", "regression")
FEATURE_KEYS, TARGET_KEYS = ("x", "X"), ("y", "Y")


def _numbers(texts):
    """`texts` (a 1-D str array) as float64, or None if some cell is not a number."""
    try:
        return texts.astype(np.float64)
    except ValueError:
        return None


def _first_bad(texts):
    """(row, text) of the first cell of `texts` that is not a finite number."""
    for i, text in enumerate(texts):
        try:
            if np.isfinite(float(text)):
                continue
        except ValueError:
            pass
        return i, str(text)
    raise AssertionError("_first_bad: every cell is a finite number")


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _integral(values):
    return bool(np.all(values == np.round(values)))


def encode_target(values, labels, task, where):
    """(targets, classes, task) for one target column: `values` its float64 numbers (None
    when some cell is not a number), `labels` its cells as a 1-D array (str or numbers).

    task None picks classification for non-numeric or integer-valued targets and regression
    for the rest. Classification maps the distinct labels, sorted (numerically when they are
    all integers, else as text, as ImageFolder sorts its folders), to 0..K-1: targets int64
    (N,) and classes the labels as text. Regression gives float32 (N,) targets, classes None.
    """
    if task is None:
        task = "regression" if values is not None and not _integral(values) else "classification"
    if task not in TASKS:
        raise ValueError(f"{where}: task must be one of {TASKS} or None, got {task!r}")
    if task == "regression":
        return values.astype(np.float32), None, task
    if values is not None and _integral(values):
        keys = values.astype(np.int64)
    else:
        keys = np.asarray(labels).astype(str)
    distinct = np.unique(keys)
    return (np.searchsorted(distinct, keys).astype(np.int64), [str(k) for k in distinct],
            task)


class CSVDataset(Dataset):
    """Rows of a CSV / TSV file or an NPZ archive: item i is (features, target), the
    features float32 (F,) (an NPZ's `x` rows keep their shape), the target a class index
    (int) or a float, passed through `transform` / `target_transform` when given.

    path: `.csv` (comma), `.tsv` / `.tab` (tab), any other text file with `delimiter=`, or
    `.npz`. A text file may start with a header row of column names; header None detects it
    (row 0 is a header when a cell of it is not a number where the row below has one, when
    it holds `target` by a name that is not a number, or when it is the only row and holds
    no number), True / False say so. target: the target column, by name (with a header) or
    0-based index (negative from the end; a string of digits counts as an index unless a
    column has that name); default the last column. Every other column is a feature and
    must hold finite numbers. In an NPZ archive, `target` names the label array (default
    `y`), and the features are the array `x` (or the only other array), of shape (N, F) or
    (N, ...) (images). task: 'classification', 'regression' or None (classification for
    non-numeric or integer-valued targets, regression otherwise); see `encode_target` for
    the class order.

    Attributes as torchvision's: `data` (N, F) float32, `targets` (N,) int64 or float32,
    `classes` (class names, None for regression), `class_to_idx`; and `feature_names`,
    `target_name`, `task`. `arrays()` / `as_tensors()` give the whole set at once."""

    def __init__(self, path, target=None, delimiter=None, header=None, task=None,
                 transform=None, target_transform=None):
        self.path = os.fspath(path)
        self.transform, self.target_transform = transform, target_transform
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"CSVDataset: no file {self.path}; expected a CSV, TSV or "
                                    "NPZ file")
        if task is not None and task not in TASKS:
            raise ValueError(f"CSVDataset({self.path}): task must be one of {TASKS} or None, "
                             f"got {task!r}")
        extension = os.path.splitext(self.path)[1].lower()
        if extension == ".npz":
            self._read_npz(target, task)
        else:
            if delimiter is None:
                if extension not in DELIMITERS:
                    raise ValueError(
                        f"CSVDataset({self.path}): cannot tell the delimiter from the "
                        f"extension {extension or '(none)'!r}; expected one of "
                        f"{', '.join(DELIMITERS)} or .npz, or pass delimiter= (e.g. ';')")
                delimiter = DELIMITERS[extension]
            self.delimiter = delimiter
            self._read_text(target, header, task)
        self.class_to_idx = (None if self.classes is None
                             else {name: i for i, name in enumerate(self.classes)})

    # -- text ------------------------------------------------------------------------------
    def _rows(self):
        """[(line number, cells)] of the file's non-blank rows, cells stripped."""
        rows = []
        try:
            with open(self.path, newline="", encoding="utf-8-sig") as f:
                reader = csv.reader(f, delimiter=self.delimiter)
                for cells in reader:
                    cells = [c.strip() for c in cells]
                    if any(cells):
                        rows.append((reader.line_num, cells))
        except UnicodeDecodeError as e:
            raise ValueError(f"CSVDataset({self.path}): not UTF-8 text (byte {e.start} is "
                             f"{e.object[e.start:e.start + 1]!r}); save the file as UTF-8") from e
        except csv.Error as e:
            raise ValueError(f"CSVDataset({self.path}): not a valid delimited file: "
                             f"{e}") from e
        if not rows:
            raise ValueError(f"CSVDataset({self.path}): the file is empty; expected rows of "
                             f"values separated by {self.delimiter!r}, the first row "
                             "optionally the column names")
        return rows

    def _read_text(self, target, header, task):
        rows = self._rows()
        width, first_line = len(rows[0][1]), rows[0][0]
        for line, cells in rows:
            if len(cells) != width:
                raise ValueError(f"CSVDataset({self.path}): line {line} has {len(cells)} "
                                 f"columns, expected {width} (as on line {first_line}); is "
                                 f"the delimiter {self.delimiter!r} right?")
        if width < 2:
            raise ValueError(f"CSVDataset({self.path}): one column per row (delimiter "
                             f"{self.delimiter!r}); expected feature columns and a target "
                             "column")
        if header is None:   # a name above a number, the target by name, or a lone text row
            top = rows[0][1]
            named = isinstance(target, str) and not _is_number(target) and target in top
            header = named or (
                any(not _is_number(a) and _is_number(b) for a, b in zip(top, rows[1][1]))
                if len(rows) > 1 else not any(_is_number(a) for a in top))
        names = rows[0][1] if header else None
        body = rows[1:] if header else rows
        if not body:
            raise ValueError(f"CSVDataset({self.path}): no data rows, only the header "
                             f"{self.delimiter.join(names)!r}")
        j = self._column(target, names, width)
        lines = [line for line, _ in body]
        table = np.array([cells for _, cells in body], dtype=str)

        def column(k):
            return f"column {k}" + (f" ({names[k]!r})" if names else "")

        features = [k for k in range(width) if k != j]
        self.data = np.empty((len(body), len(features)), dtype=np.float32)
        for out, k in enumerate(features):
            values = _numbers(table[:, k])
            if values is None or not np.isfinite(values).all():
                row, text = _first_bad(table[:, k])
                raise ValueError(
                    f"CSVDataset({self.path}): feature {column(k)} holds {text!r} on line "
                    f"{lines[row]}, not a finite number; feature columns must be numeric "
                    f"(the target is {column(j)}; choose another with target=)")
            self.data[:, out] = values
        labels = table[:, j]
        values = _numbers(labels)
        empty = np.flatnonzero(labels == "")
        if empty.size:
            raise ValueError(f"CSVDataset({self.path}): the target {column(j)} is empty on "
                             f"line {lines[empty[0]]}")
        if task == "regression" and (values is None or not np.isfinite(values).all()):
            row, text = _first_bad(labels)
            raise ValueError(f"CSVDataset({self.path}): the target {column(j)} holds {text!r} "
                             f"on line {lines[row]}; regression needs finite numbers")
        if values is not None and not np.isfinite(values).all():
            values = None   # 'nan' / 'inf' labels are text to a classifier
        self.targets, self.classes, self.task = encode_target(values, labels, task,
                                                              f"CSVDataset({self.path})")
        self.feature_names = [names[k] if names else str(k) for k in features]
        self.target_name = names[j] if names else str(j)

    def _column(self, target, names, width):
        """The 0-based index of the target column."""
        if target is None:
            return width - 1
        if isinstance(target, str) and names is not None and target in names:
            if names.count(target) > 1:
                raise ValueError(f"CSVDataset({self.path}): {names.count(target)} columns are "
                                 f"named {target!r}; pass the target's index instead")
            return names.index(target)
        index = target
        if isinstance(target, str) and target.strip().lstrip("-").isdigit():
            index = int(target)
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            if -width <= index < width:
                return int(index) % width
        columns = (f"the columns are {', '.join(repr(n) for n in names)}" if names
                   else "the file has no header row, so the target is a column index")
        raise ValueError(f"CSVDataset({self.path}): no column {target!r}; {columns} "
                         f"(or a 0-based index in [{-width}, {width}))")

    # -- npz -------------------------------------------------------------------------------
    def _read_npz(self, target, task):
        try:
            with np.load(self.path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise ValueError(f"CSVDataset({self.path}): cannot read it as an NPZ archive of "
                             f"arrays (numeric or text, no objects): {e}") from e
        listed = ", ".join(sorted(arrays)) or "none"
        if not arrays:
            raise ValueError(f"CSVDataset({self.path}): the archive is empty; expected "
                             "arrays x (features) and y (targets)")
        if target is not None and not isinstance(target, str):
            raise ValueError(f"CSVDataset({self.path}): target names the label array of an "
                             f"NPZ archive, got {target!r}; the arrays are {listed}")
        keys = (target,) if target is not None else TARGET_KEYS
        y_name = next((k for k in keys if k in arrays), None)
        if y_name is None:
            raise ValueError(f"CSVDataset({self.path}): no array {keys[0]!r} for the targets; "
                             f"the arrays are {listed} (name the label array with target=)")
        rest = [k for k in arrays if k != y_name]
        x_name = next((k for k in FEATURE_KEYS if k in rest), rest[0] if len(rest) == 1 else None)
        if x_name is None:
            raise ValueError(f"CSVDataset({self.path}): no array 'x' for the features, and "
                             f"not one other array to take; the arrays are {listed}")
        x, y = arrays[x_name], arrays[y_name]
        if x.dtype.kind not in "biuf" or x.ndim < 2:
            raise ValueError(f"CSVDataset({self.path}): the features {x_name!r} are "
                             f"{x.dtype} of shape {x.shape}; expected numbers of shape (N, F) "
                             "or (N, C, H, W)")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"CSVDataset({self.path}): the targets {y_name!r} have shape "
                             f"{y.shape}; expected ({len(x)},), one per row of {x_name!r} "
                             f"{x.shape}")
        finite = np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if not finite.all():
            raise ValueError(f"CSVDataset({self.path}): row {np.flatnonzero(~finite)[0]} of "
                             f"the features {x_name!r} holds a NaN or infinity")
        values = y.astype(np.float64) if y.dtype.kind in "biuf" else None
        if values is not None and not np.isfinite(values).all():
            row = np.flatnonzero(~np.isfinite(values))[0]
            raise ValueError(f"CSVDataset({self.path}): row {row} of the targets {y_name!r} "
                             "holds a NaN or infinity")
        if task == "regression" and values is None:
            raise ValueError(f"CSVDataset({self.path}): the targets {y_name!r} are {y.dtype};"
                             " regression needs numbers")
        self.data = x.astype(np.float32)
        self.targets, self.classes, self.task = encode_target(values, y, task,
                                                              f"CSVDataset({self.path})")
        self.feature_names, self.target_name = None, y_name
        self.delimiter = None

    # -- items -----------------------------------------------------------------------------
    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        features, target = self.data[index], self.targets[index]
        target = int(target) if self.classes is not None else float(target)
        if self.transform is not None:
            features = self.transform(features)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return features, target

    def arrays(self):
        """(data, targets): the features float32 (N, F) and the targets (N,)."""
        return self.data, self.targets

    def as_tensors(self):
        """`arrays()` as nnlab Tensors."""
        return Tensor(self.data), Tensor(self.targets)

    def whole_arrays(self):
        if (self.transform is not None or self.target_transform is not None
                or type(self).__getitem__ is not CSVDataset.__getitem__):
            return None
        return self.data, self.targets

    def __repr__(self):
        kind = (f"{len(self.classes)} classes" if self.classes is not None else "regression")
        return (f"Dataset CSVDataset\n    Number of datapoints: {len(self)}\n"
                f"    File: {self.path}\n    Features: {self.data.shape[1:]}\n"
                f"    Target: {self.target_name!r} ({kind})")
