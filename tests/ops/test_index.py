"""Indexing ops against torch: getitem over a table of keys, index_put, gather / scatter_add,
index_select / index_add, segment_sum / segment_max (values and gradients, float64 and
float32), gradcheck + gradgradcheck for each, the tie rule of segment_max, and errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab
from nnlab import ops
from tests.helpers import check_grad, check_op, randn

torch = pytest.importorskip("torch")
X = randn(3, 4, 5, seed=1)
MASK = X > 0.2


def _key(key, lib):
    """The key with its numpy arrays as tensors of `lib` (nnlab or torch)."""
    if isinstance(key, tuple):
        return tuple(_key(k, lib) for k in key)
    return lib.tensor(key) if isinstance(key, np.ndarray) else key


# id: key into X (3, 4, 5); numpy arrays become index tensors on each side
KEYS = {
    "int": 1,
    "neg_int": -1,
    "int_int": (1, -2),
    "int_int_int": (2, 0, -1),
    "slice": slice(1, None),
    "slice_steps": (slice(None, None, 2), slice(1, 4, 2)),
    "slice_past_end": (slice(-2, 10), slice(0, 0)),
    "none": (None, 1),
    "none_middle": (slice(None), None, 0),
    "ellipsis": (Ellipsis, 2),
    "ellipsis_none": (1, Ellipsis, None),
    "empty_tuple": (),
    "list_dups": [0, 2, 0, 0],
    "int_tensor_2d": np.array([[0, 1], [2, 2]]),
    "neg_tensor": np.array([-1, -3, -1]),
    "slice_list": (slice(None), [0, 2]),
    "slice_list_dups": (slice(None), [3, 3, 0], slice(1, 3)),
    "two_arrays": (np.array([0, 2, 2]), np.array([1, 3, 1])),
    "arrays_split": (np.array([0, 1, 0]), slice(None), np.array([4, 4, 4])),
    "int_and_list": (1, [0, 0, 3]),
    "broadcast_arrays": (np.array([[0], [2]]), np.array([1, 1, 3])),
    "none_list": (None, [1, 1]),
    "bool_full": MASK,
    "bool_dim0": np.array([True, False, True]),
    "bool_then_slice": (slice(None), np.array([True, False, True, True])),
    "bool_2d_then_int": (MASK[:, :, 0], 3),
    "bool_int_list": (np.array([True, False, True]), slice(None), [0, 0]),
    "ellipsis_list": (Ellipsis, [4, 0, 4]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", KEYS)
def test_getitem_matches_torch(name, dtype):
    key = KEYS[name]
    check_op(lambda x: x[_key(key, nnlab)], lambda x: x[_key(key, torch)], X, dtype=dtype)


@pytest.mark.parametrize("name", ["int", "slice_steps", "list_dups", "slice_list_dups",
                                  "two_arrays", "broadcast_arrays", "bool_full",
                                  "bool_int_list", "none_middle"])
def test_getitem_gradcheck(name):
    key = _key(KEYS[name], nnlab)
    check_grad(lambda x: x[key], X[:, :4, :])


# negative steps: torch refuses them, so numpy is the oracle
@pytest.mark.parametrize("key", [slice(None, None, -1), (slice(None), slice(3, 0, -2)),
                                 (Ellipsis, slice(None, None, -3)), (-1, slice(None, 1, -1))])
def test_getitem_negative_steps_match_numpy(key):
    x = nnlab.tensor(X, requires_grad=True)
    y = x[key]
    np.testing.assert_array_equal(y.detach().numpy(), X[key])
    y.sum().backward()
    expected = np.zeros_like(X)
    expected[key] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    check_grad(lambda t: t[key], X)


@pytest.mark.parametrize("key", [np.array([2, 0, 2]), [True, False, True], np.int64(1),
                                 (np.array(1), slice(None)), (slice(None), np.array([[1, 0]]))])
def test_getitem_takes_numpy_keys(key):
    np.testing.assert_array_equal(nnlab.tensor(X)[key].numpy(), X[key])


def test_duplicate_indices_accumulate():
    x = nnlab.tensor(np.zeros(4), requires_grad=True)
    (x[[1, 1, 3, 1]] * nnlab.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 7.0, 0.0, 3.0])


def test_getitem_of_0d_tensor():
    check_op(lambda x: x[()], lambda x: x[()], randn())
    check_op(lambda x: x[None], lambda x: x[None], randn())
    check_op(lambda x: x[..., None], lambda x: x[..., None], randn())


def test_basic_indexing_is_a_view_and_advanced_a_copy():
    x = nnlab.tensor(X)
    assert np.shares_memory(x[1, ::2].data, x.data)
    assert not np.shares_memory(x[[1, 2]].data, x.data)
    assert not np.shares_memory(x[MASK].data, x.data)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-6, 5), min_size=0, max_size=12), st.integers(1, 3))
def test_getitem_gradient_with_random_duplicates(index, features):
    x = nnlab.tensor(np.zeros((6, features)), requires_grad=True)
    g = randn(len(index), features, seed=len(index))
    x[index].backward(nnlab.tensor(g))
    expected = np.zeros((6, features))
    np.add.at(expected, np.array(index, dtype=np.int64), g)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


# -- index_put ---------------------------------------------------------------------------
def _torch_put(key):
    def put(x, value):
        out = x.clone()
        out[_key(key, torch)] = value
        return out
    return put


# id: (key into X, value); no repeated indices (torch leaves their order undefined)
PUTS = {
    "int_row": (1, randn(4, 5, seed=2)),
    "broadcast_row": (1, randn(5, seed=2)),
    "slice_steps": ((slice(None, None, 2), slice(1, 3)), randn(2, 2, 5, seed=2)),
    "scalar": ((0, 1, 2), randn(seed=2)),
    "python_float": ((slice(None), 2), 0.5),
    "list": ([2, 0], randn(2, 4, 5, seed=2)),
    "two_arrays": ((np.array([0, 2]), np.array([1, 3])), randn(2, 5, seed=2)),
    "slice_list": ((slice(None), [3, 0]), randn(3, 1, 5, seed=2)),
    "bool_full": (MASK, randn(int(MASK.sum()), seed=2)),
    "bool_broadcast": (np.array([True, False, True]), randn(1, 5, seed=2)),
    "ellipsis": ((Ellipsis, 0), randn(3, 4, seed=2)),
    "leading_ones": (1, randn(1, 4, 5, seed=2)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", PUTS)
def test_index_put_matches_torch_setitem_on_a_clone(name, dtype):
    key, value = PUTS[name]
    check_op(lambda x, v: ops.index_put(x, _key(key, nnlab), v), _torch_put(key), X, value,
             dtype=dtype)


def test_index_put_matches_torch_index_put():
    rows, cols = np.array([0, 2, 1]), np.array([3, 0, 0])
    check_op(lambda x, v: ops.index_put(x, (rows, cols), v),
             lambda x, v: torch.index_put(x, (torch.tensor(rows), torch.tensor(cols)), v),
             X, randn(3, 5, seed=3))


@pytest.mark.parametrize("name", ["int_row", "broadcast_row", "two_arrays", "bool_full",
                                  "leading_ones"])
def test_index_put_gradcheck(name):
    key, value = PUTS[name]
    check_grad(lambda x, v: ops.index_put(x, _key(key, nnlab), v), X, value)


def test_setitem_writes_in_place():
    x = nnlab.tensor(np.zeros((2, 3)))
    x[1, [0, 2]] = 5.0
    x[0] = nnlab.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.numpy(), [[1.0, 2.0, 3.0], [5.0, 0.0, 5.0]])
    assert x._version == 2


def test_index_put_keeps_float32():
    x = nnlab.tensor(np.zeros(3, np.float32))
    v = nnlab.tensor(np.ones(2), requires_grad=True)   # float64
    y = ops.index_put(x, [0, 2], v)
    assert y.dtype == np.float32
    y.sum().backward()
    assert v.grad.dtype == np.float64


# -- gather, scatter_add, index_select, index_add --------------------------------------
A = randn(3, 4, seed=3)
I_ROWS = np.array([[0, 2, 1, 0], [2, 2, 0, 1]])          # along dim 0, repeated rows
I_COLS = np.array([[3, 0, 3], [1, 1, 2], [0, 3, 3]])     # along dim 1
I_SMALL = np.array([[1], [3]])                            # smaller than A outside dim 1
I_LONG = np.array([[0, 1], [1, 0], [2, 2], [0, 0], [1, 1]])  # longer than A along dim 0
# the method: importing torch_geometric (the graph tests) replaces torch.index_select
TORCH_INDEX_SELECT = torch.Tensor.index_select

# id: (nnlab fn, torch fn, arguments)
PAIRS = {
    "gather_dim0": (ops.gather, torch.gather, A, 0, I_ROWS),
    "gather_dim1": (ops.gather, torch.gather, A, 1, I_COLS),
    "gather_neg_dim": (ops.gather, torch.gather, A, -1, I_COLS),
    "gather_small_index": (ops.gather, torch.gather, A, 1, I_SMALL),
    "gather_long_index": (ops.gather, torch.gather, A, 0, I_LONG),
    "gather_3d": (ops.gather, torch.gather, X, 2, np.array([[[4, 0]], [[1, 1]]])),
    "gather_0d": (ops.gather, torch.gather, randn(), 0, np.array([0, 0])),
    "scatter_add_dim0": (ops.scatter_add, torch.scatter_add, A, 0, I_ROWS, randn(2, 4)),
    "scatter_add_dim1": (ops.scatter_add, torch.scatter_add, A, 1, I_COLS, randn(3, 3)),
    "scatter_add_small": (ops.scatter_add, torch.scatter_add, A, -1, I_SMALL, randn(2, 1)),
    "scatter_add_long": (ops.scatter_add, torch.scatter_add, A, 0, I_LONG, randn(5, 2)),
    "scatter_add_0d": (ops.scatter_add, torch.scatter_add, randn(), 0, np.array(0), randn()),
    "index_select_dim0": (ops.index_select, TORCH_INDEX_SELECT, A, 0, np.array([2, 0, 2, 2])),
    "index_select_dim1": (ops.index_select, TORCH_INDEX_SELECT, A, -1, np.array([3, 1])),
    "index_select_3d": (ops.index_select, TORCH_INDEX_SELECT, X, 1, np.array([0, 3, 0])),
    "index_select_empty": (ops.index_select, TORCH_INDEX_SELECT, A, 0,
                           np.zeros(0, np.int64)),
    "index_select_0d_index": (ops.index_select, TORCH_INDEX_SELECT, A, 1, np.array(2)),
    "index_select_0d": (ops.index_select, TORCH_INDEX_SELECT, randn(), 0, np.array([0])),
    "index_add_dim0": (ops.index_add, torch.index_add, A, 0, np.array([2, 0, 2]),
                       randn(3, 4)),
    "index_add_dim1": (ops.index_add, torch.index_add, A, 1, np.array([1, 1]), randn(3, 2)),
    "index_add_3d": (ops.index_add, torch.index_add, X, -2, np.array([0, 3, 0]),
                     randn(3, 3, 5)),
    "index_add_alpha": (lambda x, d, i, s: ops.index_add(x, d, i, s, alpha=-2.5),
                        lambda x, d, i, s: torch.index_add(x, d, i, s, alpha=-2.5),
                        A, 0, np.array([1, 1, 0]), randn(3, 4)),
    "index_add_0d": (ops.index_add, torch.index_add, randn(), 0, np.array([0]), randn()),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", PAIRS)
def test_index_op_matches_torch(name, dtype):
    nn_fn, torch_fn, *args = PAIRS[name]
    check_op(nn_fn, torch_fn, *args, dtype=dtype)


@pytest.mark.parametrize("name", [n for n in PAIRS if not n.endswith("_0d")])
def test_index_op_gradcheck(name):
    nn_fn, _, *args = PAIRS[name]
    check_grad(nn_fn, *args)


def test_tensor_methods_call_the_ops():
    a = nnlab.tensor(A)
    i = nnlab.tensor(I_COLS)
    np.testing.assert_array_equal(a.gather(1, i).numpy(), np.take_along_axis(A, I_COLS, 1))
    np.testing.assert_array_equal(a.index_select(0, nnlab.tensor([1])).numpy(), A[[1]])
    expected = torch.tensor(A).scatter_add(1, torch.tensor(I_COLS), torch.tensor(A[:, :3]))
    np.testing.assert_allclose(a.scatter_add(1, i, a[:, :3]).numpy(), expected.numpy(),
                               rtol=1e-15)
    np.testing.assert_array_equal(a.index_add(0, nnlab.tensor([0]), a[:1], alpha=2).numpy(),
                                  np.concatenate([3 * A[:1], A[1:]]))


def test_scatter_add_with_src_larger_than_index():
    # torch computes the value but fails in backward; nnlab gives src zeros beyond index
    src = randn(3, 5, seed=4)
    check_op(ops.scatter_add, torch.scatter_add, A, 1, I_SMALL, src, grad=False)
    check_grad(ops.scatter_add, A, 1, I_SMALL, src)
    s = nnlab.tensor(src, requires_grad=True)
    ops.scatter_add(nnlab.tensor(A), 1, I_SMALL, s).sum().backward()
    expected = np.zeros_like(src)
    expected[:2, :1] = 1
    np.testing.assert_array_equal(s.grad.numpy(), expected)


# -- segment_sum, segment_max ----------------------------------------------------------
def _torch_segment(reduce):
    def segment(data, ids, num_segments):
        index = ids.reshape((-1,) + (1,) * (data.ndim - 1)).expand_as(data)
        out = torch.zeros((num_segments,) + data.shape[1:], dtype=data.dtype)
        return out.scatter_reduce(0, index, data, reduce, include_self=False)
    return segment


UNSORTED = np.array([3, 0, 3, 1, 0, 3, 5])   # segments 2 and 4 (and 6, 7) empty
SEGMENTS = {
    "1d": (randn(7, seed=5), UNSORTED, 6),
    "2d": (randn(7, 3, seed=5), UNSORTED, 6),
    "3d": (randn(7, 2, 2, seed=5), UNSORTED, 6),
    "sorted": (randn(6, 4, seed=5), np.array([0, 0, 1, 2, 2, 2]), 3),
    "trailing_empty": (randn(7, 3, seed=5), UNSORTED, 8),
    "one_segment": (randn(5, 2, seed=5), np.zeros(5, np.int64), 1),
    "no_rows": (np.zeros((0, 3)), np.zeros(0, np.int64), 2),
}
SEGMENT_OPS = {"sum": (ops.segment_sum, _torch_segment("sum")),
               "max": (ops.segment_max, _torch_segment("amax"))}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", SEGMENTS)
@pytest.mark.parametrize("op", SEGMENT_OPS)
def test_segment_op_matches_torch_scatter_reduce(op, case, dtype):
    nn_fn, torch_fn = SEGMENT_OPS[op]
    data, ids, num_segments = SEGMENTS[case]
    check_op(nn_fn, torch_fn, data, ids, num_segments, dtype=dtype)


@pytest.mark.parametrize("case", [c for c in SEGMENTS if c != "no_rows"])
@pytest.mark.parametrize("op", SEGMENT_OPS)
def test_segment_op_gradcheck(op, case):
    data, ids, num_segments = SEGMENTS[case]
    check_grad(SEGMENT_OPS[op][0], data, ids, num_segments)


@pytest.mark.parametrize("op", SEGMENT_OPS)
def test_num_segments_defaults_to_max_id_plus_one(op):
    data, ids, _ = SEGMENTS["2d"]
    out = SEGMENT_OPS[op][0](nnlab.tensor(data), ids)
    assert out.shape == (6, 3)
    np.testing.assert_array_equal(out.numpy()[[2, 4]], 0)   # empty segments give 0


def test_segment_max_gradient_goes_to_the_first_of_tied_rows():
    data = nnlab.tensor(np.array([[1.0, 2.0], [3.0, 2.0], [3.0, 0.0], [5.0, 5.0]]),
                        requires_grad=True)
    ids = nnlab.tensor([0, 0, 0, 1])
    out = ops.segment_max(data, ids, 3)
    np.testing.assert_array_equal(out.detach().numpy(), [[3.0, 2.0], [5.0, 5.0], [0.0, 0.0]])
    out.backward(nnlab.tensor(np.array([[10.0, 20.0], [30.0, 40.0], [50.0, 60.0]])))
    np.testing.assert_array_equal(data.grad.numpy(),
                                  [[0.0, 20.0], [10.0, 0.0], [0.0, 0.0], [30.0, 40.0]])


def test_segment_max_ties_with_unsorted_ids_pick_the_first_row():
    data = nnlab.tensor(np.array([7.0, 7.0, 1.0, 7.0]), requires_grad=True)
    ops.segment_max(data, np.array([1, 0, 1, 1])).sum().backward()
    np.testing.assert_array_equal(data.grad.numpy(), [1.0, 1.0, 0.0, 0.0])


def test_segment_max_propagates_nan_like_torch():
    data = np.array([[1.0, np.nan], [2.0, 0.0], [np.nan, 1.0]])
    check_op(ops.segment_max, _torch_segment("amax"), data, np.array([0, 0, 1]), 2,
             grad=False)
    x = nnlab.tensor(data, requires_grad=True)
    ops.segment_max(x, np.array([0, 0, 1])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=30), st.integers(1, 4))
def test_segment_ops_match_a_loop_over_segments(ids, features):
    ids = np.array(ids)
    data = randn(len(ids), features, seed=len(ids))
    x = nnlab.tensor(data, requires_grad=True)
    total, top = ops.segment_sum(x, ids, 7), ops.segment_max(x, ids, 7)
    for s in range(7):
        rows = data[ids == s]
        np.testing.assert_allclose(total.detach().numpy()[s], rows.sum(0), atol=1e-12)
        np.testing.assert_array_equal(top.detach().numpy()[s],
                                      rows.max(0) if len(rows) else 0)
    top.sum().backward()
    winners = np.zeros_like(data)
    for s in np.unique(ids):
        rows = np.flatnonzero(ids == s)
        winners[rows[np.argmax(data[rows], axis=0)], np.arange(features)] = 1
    np.testing.assert_array_equal(x.grad.numpy(), winners)


# -- errors ----------------------------------------------------------------------------
ERRORS = [
    (lambda x: x[:, 9], IndexError,
     r"getitem: index 9 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[-4], IndexError, r"getitem: index -4 is out of bounds for dimension 0"),
    (lambda x: x[[0, 7]], IndexError,
     r"getitem: index 7 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[..., [5]], IndexError, r"getitem: index 5 .* dimension 2 with size 5"),
    (lambda x: x[0, 0, 0, 0], IndexError, r"getitem: too many indices"),
    (lambda x: x[np.array([True, False])], IndexError, r"getitem: boolean index"),
    (lambda x: x[[0.5]], IndexError, r"getitem: arrays used as indices must be of integer"),
    (lambda x: ops.index_put(x, (0, 7), 1.0), IndexError,
     r"index_put: index 7 is out of bounds for dimension 1 with size 4"),
    (lambda x: ops.index_put(x, 0, nnlab.tensor(np.ones(3))), ValueError,
     r"index_put: a value of shape \(3,\) cannot be broadcast to the shape \(4, 5\)"),
    (lambda x: ops.gather(x, 1, np.full((3, 4, 5), 4)), IndexError,
     r"gather: index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: ops.gather(x, 0, np.full((1, 1, 1), -1)), IndexError,
     r"gather: index -1 is out of bounds for dimension 0 with size 3"),
    (lambda x: ops.gather(x, 0, np.zeros((3, 4), np.int64)), ValueError,
     r"gather: index must have as many dimensions as input"),
    (lambda x: ops.gather(x, 0, np.zeros((1, 9, 1), np.int64)), ValueError,
     r"gather: index of shape \(1, 9, 1\) is larger than input of shape \(3, 4, 5\) at "
     r"dimension 1"),
    (lambda x: ops.gather(x, 3, np.zeros((1, 1, 1), np.int64)), IndexError,
     r"gather: dimension 3 is out of range"),
    (lambda x: ops.gather(x, 0, np.zeros((1, 1, 1))), TypeError,
     r"gather: index must be an integer tensor, got dtype float64"),
    (lambda x: ops.scatter_add(x, 0, np.full((1, 1, 1), 3), x), IndexError,
     r"scatter_add: index 3 is out of bounds for dimension 0 with size 3"),
    (lambda x: ops.scatter_add(x, 0, np.zeros((1, 1, 1), np.int64), x.float()), TypeError,
     r"scatter_add: input \(float64\) and src \(float32\) must have the same dtype"),
    (lambda x: ops.index_select(x, 2, [0, 5]), IndexError,
     r"index_select: index 5 is out of bounds for dimension 2 with size 5"),
    (lambda x: ops.index_select(x, 0, [[0]]), ValueError, r"index_select: index must be 1-D"),
    (lambda x: ops.index_add(x, 1, [4], x[:, :1]), IndexError,
     r"index_add: index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: ops.index_add(x, 1, [0, 1], x[:, :1]), ValueError,
     r"index_add: source of shape \(3, 1, 5\) does not match input of shape \(3, 4, 5\) "
     r"with 2 indices along dim=1"),
    (lambda x: ops.segment_sum(x, [0, 1, 5], 3), IndexError,
     r"segment_sum: segment id 5 is out of bounds for num_segments=3"),
    (lambda x: ops.segment_max(x, [0, -1, 0]), IndexError,
     r"segment_max: segment id -1 is out of bounds"),
    (lambda x: ops.segment_sum(x, [0, 1]), ValueError,
     r"segment_sum: segment_ids must be 1-D with one id per row of data; got segment_ids "
     r"of shape \(2,\) for data of shape \(3, 4, 5\)"),
]


@pytest.mark.parametrize("fn, error, match", ERRORS)
def test_bad_input_gives_a_clear_error(fn, error, match):
    with pytest.raises(error, match=match):
        fn(nnlab.tensor(X))
