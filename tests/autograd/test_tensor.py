"""Tensor's attributes, methods and operators, against PyTorch's behaviour."""
import numpy as np
import pytest

import nnlab
from tests.helpers import requires_torch, torch


def leaf(values, dtype=nnlab.float32):
    return nnlab.tensor(values, dtype=dtype, requires_grad=True)


# -- attributes ------------------------------------------------------------------------
def test_attributes_of_a_leaf():
    x = nnlab.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert isinstance(x._data, np.ndarray) and isinstance(x.data, nnlab.Tensor)
    assert x.grad is None and not x.requires_grad and x.is_leaf and x.grad_fn is None
    assert x.shape == (2, 3) and x.ndim == 2 and x.dtype == np.float32 and x.device == "cpu"
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.dim() == 2 and x.numel() == 6 and len(x) == 2
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert x.is_floating_point() and x.element_size() == 4


def test_attributes_of_a_result():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    assert y.grad_fn.name() == "MulBackward"
    with nnlab.no_grad():
        z = x * 2
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None


def test_item_and_conversions():
    assert nnlab.tensor(2.5).item() == 2.5 and isinstance(nnlab.tensor(2.5).item(), float)
    assert nnlab.tensor([[3]]).item() == 3 and isinstance(nnlab.tensor(3).item(), int)
    assert float(nnlab.tensor(1.5)) == 1.5 and int(nnlab.tensor(4)) == 4
    assert bool(nnlab.tensor(True)) and not bool(nnlab.tensor([0.0]))
    assert [10, 20, 30][nnlab.tensor(1)] == 20
    assert f"{nnlab.tensor(0.125):.2f}" == "0.12"
    with pytest.raises(ValueError, match="a Tensor with 2 elements cannot be converted"):
        nnlab.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="truth value of a tensor with 2 elements"):
        bool(nnlab.tensor([1.0, 2.0]))


def test_numpy_shares_memory_and_refuses_grad():
    x = nnlab.tensor([1.0, 2.0])
    a = x.numpy()
    a[0] = 5.0
    assert x.tolist() == [5.0, 2.0]
    with pytest.raises(RuntimeError, match=r"numpy\(\): can't call numpy\(\) on a Tensor that "
                                           r"requires grad; use tensor.detach\(\).numpy\(\)"):
        leaf([1.0]).numpy()
    assert np.asarray(leaf([3.0])).tolist() == [3.0]


def test_len_of_0d_tensor_is_an_error():
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(nnlab.tensor(1.0))
    assert len(nnlab.zeros(4, 2)) == 4


def test_iteration_yields_rows():
    rows = list(nnlab.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]


# -- detach, clone, dtype conversion ---------------------------------------------------
def test_detach_shares_memory_and_version_counter():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert np.shares_memory(d._data, x._data)
    d.add_(1.0)
    assert x.tolist() == [2.0, 3.0]
    assert x._version == d._version == 1


def test_clone_copies_and_passes_gradient():
    x = leaf([1.0, 2.0])
    c = x.clone()
    assert not np.shares_memory(c._data, x._data) and c.grad_fn is not None
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("convert, dtype", [
    (lambda t: t.to(nnlab.float64), np.float64), (lambda t: t.to("float64"), np.float64),
    (lambda t: t.double(), np.float64), (lambda t: t.double().float(), np.float32),
    (lambda t: t.to(nnlab.ones(1, dtype=nnlab.float64)), np.float64),
    (lambda t: t.to("cpu", nnlab.float64), np.float64), (lambda t: t.half(), np.float16),
    (lambda t: t.to(dtype=nnlab.float64), np.float64)])
def test_to_dtype_is_differentiable(convert, dtype):
    x = leaf([1.5, -2.0])
    y = convert(x)
    assert y.dtype == dtype
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -4.0])


def test_to_same_dtype_and_integer_conversions():
    x = leaf([1.7, -2.2])
    assert x.to(nnlab.float32) is x and x.float() is x
    assert x.long().tolist() == [1, -2] and x.long().dtype == np.int64
    assert x.int().dtype == np.int32 and not x.long().requires_grad
    assert x.bool().tolist() == [True, True]


def test_requires_grad_():
    x = nnlab.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(RuntimeError, match="only leaf tensors can stop requiring grad"):
        (leaf([1.0]) * 2).requires_grad_(False)


# -- hooks and retain_grad -------------------------------------------------------------
def test_hook_on_a_leaf_sees_and_replaces_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    assert seen == [[2.0, 2.0]]
    assert x.grad.tolist() == [20.0, 20.0]


def test_leaf_hook_runs_once_on_the_total_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g.clamp(max=3.0))
    (x * x + x).sum().backward()
    assert seen == [[3.0, 5.0]]
    assert x.grad.tolist() == [3.0, 3.0]


def test_hook_on_a_non_leaf_changes_what_flows_on():
    x = leaf([1.0, 2.0])
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    handle = y.register_hook(lambda g: g * 0.5)
    (y * y).sum().backward(retain_graph=True)
    assert seen == [[6.0, 12.0]]
    assert x.grad.tolist() == [9.0, 18.0]          # 3 * 0.5 * 2y
    handle.remove()
    x.grad = None
    (y * y).sum().backward()
    assert x.grad.tolist() == [18.0, 36.0]


def test_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="register_hook: cannot register a hook on a tensor "
                                           "that does not require gradient"):
        nnlab.ones(2).register_hook(lambda g: g)


def test_retain_grad():
    x = leaf([1.0, 2.0])
    y = x * 3
    z = y * 2
    y.retain_grad()
    z.sum().backward()
    assert y.grad.tolist() == [2.0, 2.0] and z.grad is None
    x.retain_grad()   # a no-op on a leaf
    assert x.grad.tolist() == [6.0, 6.0]


# -- operators -------------------------------------------------------------------------
OPERATORS = [
    ("add", lambda a, b: a + b), ("radd", lambda a, b: 2.0 + b), ("sub", lambda a, b: a - b),
    ("rsub", lambda a, b: 2.0 - b), ("mul", lambda a, b: a * b), ("rmul", lambda a, b: 3 * b),
    ("div", lambda a, b: a / b), ("rdiv", lambda a, b: 1.0 / b), ("pow", lambda a, b: a ** b),
    ("rpow", lambda a, b: 2.0 ** b), ("neg", lambda a, b: -a), ("pos", lambda a, b: +a),
    ("abs", lambda a, b: abs(a)), ("matmul", lambda a, b: a @ b),
]


@requires_torch
@pytest.mark.parametrize("op", [pytest.param(f, id=i) for i, f in OPERATORS])
def test_operators_like_torch(op):
    a, b = np.array([1.5, 0.25]), np.array([0.5, -2.0])
    x, y = leaf(a, nnlab.float64), leaf(b, nnlab.float64)
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.tensor(b, requires_grad=True)
    out, tout = op(x, y), op(tx, ty)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    assert isinstance(out, nnlab.Tensor) and out.dtype == np.float64
    out.sum().backward()
    tout.sum().backward()
    for n, t in ((x, tx), (y, ty)):
        expected = None if t.grad is None else t.grad.numpy()
        assert (n.grad is None) == (expected is None)
        if expected is not None:
            np.testing.assert_allclose(n.grad.numpy(), expected, rtol=1e-12)


def test_numpy_arrays_on_the_left_defer_to_tensor():
    x = leaf([1.0, 2.0], nnlab.float64)
    for out, expected in ((np.array([3.0, 4.0]) * x, [3.0, 8.0]),
                          (np.array([3.0, 4.0]) - x, [2.0, 2.0]),
                          (np.array([3.0, 4.0]) @ x, 11.0)):
        assert isinstance(out, nnlab.Tensor) and out.requires_grad
        assert out.tolist() == expected


@pytest.mark.parametrize("op, expected", [
    (lambda x: x == 2.0, [False, True, False]), (lambda x: x != 2.0, [True, False, True]),
    (lambda x: x < 2.0, [True, False, False]), (lambda x: x <= 2.0, [True, True, False]),
    (lambda x: x > 2.0, [False, False, True]), (lambda x: x >= 2.0, [False, True, True]),
    (lambda x: 2.0 < x, [False, False, True]), (lambda x: np.float64(2.0) == x,
                                                 [False, True, False]),
    (lambda x: ~(x > 2.0), [True, True, False]),
    (lambda x: (x > 1) & (x < 3), [False, True, False]),
    (lambda x: (x < 2) | (x > 2), [True, False, True])])
def test_comparisons_give_bool_tensors_without_grad(op, expected):
    x = leaf([1.0, 2.0, 3.0])
    out = op(x)
    assert isinstance(out, nnlab.Tensor) and out.dtype == np.bool_
    assert not out.requires_grad and out.grad_fn is None
    assert out.tolist() == expected


def test_tensor_is_hashable_by_identity():
    x, y = nnlab.ones(1), nnlab.ones(1)
    assert len({x, y, x}) == 2


# -- repr ------------------------------------------------------------------------------
@requires_torch
@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    lambda m: m.tensor(3.0), lambda m: m.tensor(3), lambda m: m.tensor([1.5, 2.0]),
    lambda m: m.tensor([0.1, 0.25]), lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]),
    lambda m: m.tensor([1, 2]), lambda m: m.tensor([True, False]),
    lambda m: m.tensor([1e-5, 1.0]), lambda m: m.tensor([1.0, 2000.0]),
    lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    lambda m: m.tensor(2.5, dtype=m.float64, requires_grad=True),
    lambda m: m.tensor([1, 2], dtype=m.int32), lambda m: m.tensor([]),
    lambda m: m.zeros(0, 3), lambda m: m.tensor([], dtype=m.int64)])
def test_repr_like_torch(make):
    assert repr(make(nnlab)) == repr(make(torch)).replace("torch.", "nnlab.")


def test_repr_names_the_grad_fn():
    x = leaf([1.0, 2.0])
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(x + 1) == "tensor([2., 3.], grad_fn=<AddBackward>)"


# -- in place --------------------------------------------------------------------------
@pytest.mark.parametrize("op, expected", [
    (lambda t: t.add_(1.0), [2.0, 3.0]), (lambda t: t.add_(nnlab.ones(2), alpha=2), [3.0, 4.0]),
    (lambda t: t.sub_(1.0), [0.0, 1.0]), (lambda t: t.mul_(3), [3.0, 6.0]),
    (lambda t: t.div_(2), [0.5, 1.0]), (lambda t: t.pow_(2), [1.0, 4.0]),
    (lambda t: t.clamp_(1.5, 1.8), [1.5, 1.8]), (lambda t: t.zero_(), [0.0, 0.0]),
    (lambda t: t.fill_(7), [7.0, 7.0]), (lambda t: t.copy_(nnlab.tensor([5.0, 6.0])), [5.0, 6.0]),
    (lambda t: t.copy_(nnlab.tensor(9.0)), [9.0, 9.0]), (lambda t: t.copy_([4, 3]), [4.0, 3.0]),
    (lambda t: t.__iadd__(1), [2.0, 3.0]), (lambda t: t.__imul__(2), [2.0, 4.0]),
    (lambda t: t.__isub__(1), [0.0, 1.0]), (lambda t: t.__itruediv__(4), [0.25, 0.5])])
def test_in_place_ops_change_memory_and_bump_version(op, expected):
    t = nnlab.tensor([1.0, 2.0])
    data = t._data
    assert t._version == 0
    assert op(t) is t
    assert t._data is data and t.tolist() == pytest.approx(expected)
    assert t._version == 1
    assert t.dtype == np.float32


def test_setitem_under_no_grad_bumps_version():
    w = leaf([1.0, 2.0, 3.0])
    with nnlab.no_grad():
        w[1] = 5.0
        w[w > 4] = 0.0
    assert w.tolist() == [1.0, 0.0, 3.0] and w._version == 2 and w.is_leaf


def test_in_place_update_of_a_leaf_under_no_grad():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    with nnlab.no_grad():
        w.sub_(w.grad, alpha=0.5)
    assert w.tolist() == [0.0, 0.0] and w.requires_grad and w.is_leaf


@pytest.mark.parametrize("op", [lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.zero_(),
                                lambda t: t.fill_(1.0), lambda t: t.copy_(nnlab.ones(2))])
def test_in_place_on_a_leaf_that_requires_grad_is_an_error(op):
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad cannot be changed "
                                           "in place"):
        op(w)
    assert w.tolist() == [1.0, 2.0] and w._version == 0


def test_setitem_on_a_leaf_that_requires_grad_is_an_error():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="__setitem__: a leaf tensor that requires grad"):
        w[0] = 3.0


def test_in_place_with_a_grad_source_joins_the_graph():
    x = leaf([1.0, 2.0])
    buf = nnlab.zeros(2)
    buf.copy_(x)
    assert buf.requires_grad and not buf.is_leaf
    (buf * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    acc = nnlab.ones(2)
    acc.add_(x * x)
    acc.sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_in_place_cannot_narrow_the_dtype():
    t = nnlab.tensor([1, 2])
    with pytest.raises(TypeError, match="add_: the result has dtype float32, which cannot be "
                                        "written into a int64 tensor in place"):
        t.add_(0.5)


def test_data_is_a_tensor_sharing_memory_outside_the_graph():
    w = nnlab.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    d = w.data
    assert isinstance(d, nnlab.Tensor) and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), w.detach().numpy())
    w.data.add_(-0.5 * w.grad)                    # manual SGD as older examples write it
    assert w.tolist() == pytest.approx([0.0, 0.0]) and w._version == 0   # unseen by autograd
    w.data = nnlab.tensor([5.0, 6.0, 7.0])        # any shape, as torch
    assert w.shape == (3,) and w.requires_grad and w.tolist() == [5.0, 6.0, 7.0]
    with pytest.raises(TypeError, match="Tensor.data: expected a Tensor"):
        w.data = [1.0]
