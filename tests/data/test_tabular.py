"""CSVDataset: CSV / TSV / NPZ files written here, targets by name and index, classes and
regression, the header rule, and an error for each malformed file that names the column,
the line and what was expected."""
import numpy as np
import pytest

from nnlab.data import CSVDataset, DataLoader
from nnlab.data.tabular import encode_target

IRIS = ("sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n"
        "4.9,1.5,setosa\n")


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_csv_with_a_header_and_a_text_target(tmp_path):
    d = CSVDataset(write(tmp_path, "iris.csv", IRIS), target="species")
    np.testing.assert_array_equal(d.data, np.float32([[5.1, 1.4], [7, 4.7], [6.3, 6], [4.9, 1.5]]))
    assert d.data.dtype == np.float32 and d.targets.dtype == np.int64
    assert d.classes == ["setosa", "versicolor", "virginica"]
    assert d.class_to_idx == {"setosa": 0, "versicolor": 1, "virginica": 2}
    assert d.targets.tolist() == [0, 1, 2, 0] and d.task == "classification"
    assert d.feature_names == ["sepal", "petal"] and d.target_name == "species"
    assert len(d) == 4 and d[1][1] == 1 and d[1][0].tolist() == pytest.approx([7.0, 4.7])


@pytest.mark.parametrize("target", [None, "species", 2, -1, "2", "-1"])
def test_the_target_by_name_index_or_default(tmp_path, target):
    d = CSVDataset(write(tmp_path, "iris.csv", IRIS), target=target)
    assert d.target_name == "species" and d.feature_names == ["sepal", "petal"]


def test_a_middle_target_column_and_integer_classes_sorted_as_numbers(tmp_path):
    text = "1.0,10,0.5\n2.0,9,0.25\n3.0,2,0.125\n4.0,10,1\n"
    d = CSVDataset(write(tmp_path, "x.csv", text), target=1)
    assert d.classes == ["2", "9", "10"] and d.targets.tolist() == [2, 1, 0, 2]
    assert d.data[:, 1].tolist() == [0.5, 0.25, 0.125, 1]
    assert d.feature_names == ["0", "2"] and d.target_name == "1"


@pytest.mark.parametrize("name, delimiter", [("x.tsv", None), ("x.tab", None),
                                             ("x.txt", ";")])
def test_the_delimiter_from_the_extension_or_given(tmp_path, name, delimiter):
    sep = delimiter or "\t"
    text = f"a{sep}b{sep}y\n1{sep}2{sep}0.5\n3{sep}4{sep}1.5\n"
    d = CSVDataset(write(tmp_path, name, text), delimiter=delimiter)
    assert d.task == "regression" and d.classes is None and d.class_to_idx is None
    assert d.targets.dtype == np.float32 and d.targets.tolist() == [0.5, 1.5]
    assert d[0][1] == 0.5 and isinstance(d[0][1], float)


def test_the_task_can_be_forced(tmp_path):
    path = write(tmp_path, "x.csv", "a,y\n1,3\n2,5\n3,3\n")
    assert CSVDataset(path).task == "classification"
    d = CSVDataset(path, task="regression")
    assert d.targets.tolist() == [3.0, 5.0, 3.0] and d.classes is None
    floats = write(tmp_path, "f.csv", "a,y\n1,0.5\n2,1.5\n3,0.5\n")
    assert CSVDataset(floats, task="classification").classes == ["0.5", "1.5"]


def test_header_detection_and_override(tmp_path):
    numeric = write(tmp_path, "n.csv", "1,2,0\n3,4,1\n")
    assert len(CSVDataset(numeric)) == 2                       # no header: every row is data
    assert len(CSVDataset(numeric, header=True)) == 1
    assert len(CSVDataset(numeric, target="1")) == 2            # an index, not a name
    named = write(tmp_path, "named.csv", "0,1,label\n1,2,a\n3,4,b\n")   # numeric names
    d = CSVDataset(named, target="label")
    assert len(d) == 2 and d.feature_names == ["0", "1"] and d.classes == ["a", "b"]
    bom = write(tmp_path, "bom.csv", "\ufeffa,b\n1,2\n3,4\n")   # Excel's UTF-8 signature
    assert CSVDataset(bom, target="a").feature_names == ["b"]


def test_blank_lines_quotes_and_spaces(tmp_path):
    text = 'a, b ,label\n\n1, 2 ,"x, y"\n\n3,4,z\n'
    d = CSVDataset(write(tmp_path, "q.csv", text), target="label")
    assert d.classes == ["x, y", "z"] and d.feature_names == ["a", "b"]


def test_the_loader_takes_whole_arrays(tmp_path):
    d = CSVDataset(write(tmp_path, "iris.csv", IRIS), target="species")
    assert d.whole_arrays() is not None
    x, y = next(iter(DataLoader(d, batch_size=3)))
    assert tuple(x.shape) == (3, 2) and y.tolist() == [0, 1, 2]
    d = CSVDataset(write(tmp_path, "iris.csv", IRIS), transform=lambda f: f * 2)
    assert d.whole_arrays() is None and d[0][0].tolist() == pytest.approx([10.2, 2.8])


def test_npz_with_x_and_y_or_a_named_target(tmp_path):
    x = np.arange(24, dtype=np.float64).reshape(6, 4)
    np.savez(tmp_path / "a.npz", x=x, y=np.array(["b", "a", "b", "c", "a", "a"]))
    d = CSVDataset(tmp_path / "a.npz")
    assert d.data.dtype == np.float32 and d.data.shape == (6, 4)
    assert d.classes == ["a", "b", "c"] and d.targets.tolist() == [1, 0, 1, 2, 0, 0]
    np.savez(tmp_path / "img.npz", images=np.zeros((6, 1, 3, 3)), price=np.linspace(0, 1, 6))
    d = CSVDataset(tmp_path / "img.npz", target="price")
    assert d.data.shape == (6, 1, 3, 3) and d.task == "regression" and d.target_name == "price"


ERRORS = [   # (file name, contents, CSVDataset keyword arguments, words of the message)
    ("e.csv", "", {}, "the file is empty"),
    ("e.csv", "\n \n", {}, "the file is empty"),
    ("h.csv", "a,b,label\n", {}, "no data rows, only the header"),
    ("m.csv", IRIS, {"target": "kind"},
     "no column 'kind'; the columns are 'sepal', 'petal', 'species'"),
    ("m.csv", IRIS, {"target": 3}, r"no column 3;.*index in \[-3, 3\)"),
    ("m.csv", "1,2\n3,4\n", {"target": "label"}, "no header row, so the target is a column"),
    ("f.csv", "a,b,y\n1,2,0\n3,oops,1\n", {},
     "feature column 1 \\('b'\\) holds 'oops' on line 3, not a finite number"),
    ("f.csv", "a,b,y\n1,,0\n", {}, "feature column 1 \\('b'\\) holds '' on line 2"),
    ("f.csv", "a,b,y\n1,nan,0\n", {}, "holds 'nan' on line 2, not a finite number"),
    ("r.csv", "a,b,y\n1,2,0\n3,4,5\n1,2\n", {}, "line 4 has 2 columns, expected 3"),
    ("o.csv", "1\n2\n", {}, "one column per row"),
    ("t.csv", "a,y\n1,x\n2,\n", {}, "the target column 1 \\('y'\\) is empty on line 3"),
    ("t.csv", "a,y\n1,0.5\n2,cat\n", {"task": "regression"},
     "holds 'cat' on line 3; regression needs finite numbers"),
    ("t.csv", "a,y\n1,2\n", {"task": "ranking"}, "task must be one of"),
    ("x.dat", "1,2\n", {}, "cannot tell the delimiter from the extension '.dat'"),
    ("u.csv", "a,y\n1,\xe9t\xe9\n".encode("latin-1"), {}, "not UTF-8 text"),
    ("n.npz", b"not a zip", {}, "cannot read it as an NPZ archive"),
]


@pytest.mark.parametrize("name, text, kwargs, message", ERRORS)
def test_a_malformed_file_is_a_clear_error(tmp_path, name, text, kwargs, message):
    path = write(tmp_path, name, text)
    with pytest.raises(ValueError, match=message) as info:
        CSVDataset(path, **kwargs)
    assert str(path) in str(info.value)


NPZ_ERRORS = [   # (arrays, target, words of the message)
    ({"x": np.zeros((3, 2))}, None, "no array 'y' for the targets; the arrays are x"),
    ({"a": np.zeros((3, 2)), "b": np.zeros(3), "y": np.zeros(3)}, None, "no array 'x'"),
    ({"x": np.zeros((3, 2)), "y": np.zeros(4)}, None, r"have shape \(4,\); expected \(3,\)"),
    ({"x": np.array([[1.0, np.nan]] * 3), "y": np.zeros(3)}, None, "row 0 of the features"),
    ({"x": np.zeros(3), "y": np.zeros(3)}, None, "expected numbers of shape"),
    ({"x": np.zeros((3, 2)), "y": np.zeros(3)}, "label", "no array 'label'"),
]


@pytest.mark.parametrize("arrays, target, message", NPZ_ERRORS)
def test_a_malformed_npz_is_a_clear_error(tmp_path, arrays, target, message):
    np.savez(tmp_path / "a.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        CSVDataset(tmp_path / "a.npz", target=target)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file .*nope.csv; expected a CSV"):
        CSVDataset(tmp_path / "nope.csv")


def test_encode_target_orders_classes():
    targets, classes, task = encode_target(None, np.array(["b", "a", "c", "a"]), None, "t")
    assert (targets.tolist(), classes, task) == ([1, 0, 2, 0], ["a", "b", "c"], "classification")
    targets, classes, task = encode_target(np.array([2.0, -1.0, 2.0]), None, None, "t")
    assert (targets.tolist(), classes) == ([1, 0, 1], ["-1", "2"])
    targets, classes, task = encode_target(np.array([0.5, 1.0]), None, None, "t")
    assert task == "regression" and classes is None and targets.dtype == np.float32
