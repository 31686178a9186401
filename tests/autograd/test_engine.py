"""The reverse walk: accumulation, freeing, deep graphs, memory, versions, grad modes,
`autograd.grad`, aliasing of stored gradients, dtypes and anomaly mode."""
import gc
import tracemalloc

import numpy as np
import pytest

import nnlab
from nnlab import autograd


def leaf(values, dtype=nnlab.float64):
    return nnlab.tensor(values, dtype=dtype, requires_grad=True)


# -- accumulation and freeing ----------------------------------------------------------
def test_leaves_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    for k in (1, 2, 3):
        (x * x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), k * np.array([2.0, 4.0]))


def test_second_backward_over_a_freed_graph_is_an_error():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Backward: trying to backward through the graph a "
                                           "second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_walk():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"grad can be created implicitly only for scalar "
                                           r"outputs; this one has shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(nnlab.tensor([1.0, -1.0], dtype=nnlab.float64))
    assert x.grad.tolist() == [2.0, -2.0]
    with pytest.raises(RuntimeError, match=r"gradient 0 has shape \(3,\) but the tensor has "
                                           r"shape \(2,\)"):
        (x * 2).backward(nnlab.ones(3))


def test_backward_of_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        nnlab.ones(2).sum().backward()


def test_backward_on_a_leaf():
    x = leaf([1.0, 2.0])
    x.backward(nnlab.tensor([3.0, 4.0], dtype=nnlab.float64))
    assert x.grad.tolist() == [3.0, 4.0]


def test_a_long_chain_needs_no_recursion():
    x = leaf([0.5])
    y = x
    for _ in range(5000):
        y = y * 1.0001
        y = y - 0.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 5000], rtol=1e-10)
    del y
    gc.collect()


def test_memory_does_not_grow_over_iterations():
    w = leaf(np.linspace(-1, 1, 12).reshape(3, 4))
    x = nnlab.tensor(np.ones((5, 3)), dtype=nnlab.float64)

    def step():
        h = (x @ w).tanh()
        loss = (h * h).mean() + w.square().sum() / 100
        loss.backward()
        w.grad = None

    tracemalloc.start()
    try:
        for i in range(1000):
            step()
            if i == 99:
                gc.collect()
                at_100 = tracemalloc.get_traced_memory()[0]
        gc.collect()
        at_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert at_1000 - at_100 < 10_000, f"grew by {at_1000 - at_100} bytes over 900 iterations"


def test_graph_is_freed_when_its_tensors_go():
    import weakref
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    node = weakref.ref(y.grad_fn)
    y.backward()
    del y
    assert node() is None


# -- saved tensors changed in place ----------------------------------------------------
def test_saved_input_changed_in_place_is_an_error():
    x = leaf([1.0, 2.0])
    y = x.sin()
    with nnlab.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError, match=r"SinBackward: a tensor saved for backward \(shape "
                                           r"\(2,\)\) was modified by an in-place operation "
                                           r"\(add_\)"):
        y.sum().backward()


def test_saved_output_changed_through_a_detached_alias_is_an_error():
    x = leaf([1.0, 2.0])
    y = x.exp()
    y.detach().mul_(2.0)
    with pytest.raises(RuntimeError, match=r"ExpBackward: a tensor saved .*\(its version is 1, "
                                           r"it was 0 when saved\)"):
        y.sum().backward()


def test_change_in_place_after_backward_is_fine():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with nnlab.no_grad():
        x.mul_(2)
    assert x.grad.tolist() == [2.0, 4.0]


# -- grad modes ------------------------------------------------------------------------
def test_no_grad_and_enable_grad_as_context_managers():
    x = leaf([1.0])
    with nnlab.no_grad():
        assert not nnlab.is_grad_enabled()
        assert not (x * 2).requires_grad
        with nnlab.enable_grad():
            assert nnlab.is_grad_enabled() and (x * 2).requires_grad
        assert not nnlab.is_grad_enabled()
    assert nnlab.is_grad_enabled() and (x * 2).requires_grad


def test_set_grad_enabled_as_call_and_context_manager():
    x = leaf([1.0])
    with nnlab.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert nnlab.is_grad_enabled()
    nnlab.set_grad_enabled(False)
    try:
        assert not nnlab.is_grad_enabled()
    finally:
        nnlab.set_grad_enabled(True)
    assert nnlab.is_grad_enabled()


def test_grad_modes_as_decorators():
    x = leaf([1.0])

    @nnlab.no_grad()
    def without(n=0):
        return without(n - 1) if n else (x * 2).requires_grad

    @nnlab.no_grad
    def bare():
        return nnlab.is_grad_enabled()

    @nnlab.set_grad_enabled(False)
    def switched():
        return nnlab.is_grad_enabled()

    @nnlab.enable_grad()
    def inside():
        return (x * 2).requires_grad

    assert nnlab.is_grad_enabled()   # decorating changed nothing
    assert without(3) is False and nnlab.is_grad_enabled()
    assert bare() is False and switched() is False and nnlab.is_grad_enabled()
    with nnlab.no_grad():
        assert inside() is True
        assert not nnlab.is_grad_enabled()
    assert without.__name__ == "without"


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(KeyError):
        with nnlab.no_grad():
            raise KeyError
    assert nnlab.is_grad_enabled()


# -- autograd.grad ---------------------------------------------------------------------
def test_grad_returns_without_touching_dot_grad():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y.grad = nnlab.tensor([7.0, 7.0], dtype=nnlab.float64)
    gx, gy = autograd.grad((x * y).sum(), [x, y])
    assert gx.tolist() == [3.0, 4.0] and gy.tolist() == [1.0, 2.0]
    assert x.grad is None and y.grad.tolist() == [7.0, 7.0]


def test_grad_allow_unused():
    x, y = leaf([1.0]), leaf([2.0])
    z = (x * 3).sum()
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(1,\)\) was not used.*"
                                           "allow_unused=True"):
        autograd.grad(z, [x, y], retain_graph=True)
    gx, gy = autograd.grad(z, [x, y], allow_unused=True)
    assert gx.tolist() == [3.0] and gy is None


def test_grad_outputs_weight_the_outputs():
    x = leaf([1.0, 2.0, 3.0])
    v = nnlab.tensor([1.0, 0.0, -2.0], dtype=nnlab.float64)
    gx, = autograd.grad(x * x, x, grad_outputs=v)
    assert gx.tolist() == [2.0, 0.0, -12.0]
    a, b = x * 2, x * x
    gx, = autograd.grad([a, b], [x], grad_outputs=[v, nnlab.ones_like(v)])
    assert gx.tolist() == [4.0, 4.0, 2.0]


def test_grad_with_respect_to_non_leaf_inputs():
    x = leaf([1.0, 2.0])
    h = x.exp()
    z = (h * h).sum() + h.sum()
    gh, gx = autograd.grad(z, [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * np.exp([1.0, 2.0]) + 1)
    np.testing.assert_allclose(gx.numpy(), 2 * np.exp([2.0, 4.0]) + np.exp([1.0, 2.0]))


def test_grad_of_an_output_with_respect_to_itself():
    x = leaf([1.0, 2.0])
    h = x * 3
    gh, = autograd.grad(h.sum(), h)
    assert gh.tolist() == [1.0, 1.0]


def test_grad_needs_inputs_that_require_grad():
    with pytest.raises(RuntimeError, match="grad: input 0 does not require grad"):
        autograd.grad(leaf([1.0]).sum(), nnlab.ones(1))


def test_backward_inputs_limits_accumulation():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x * y).sum().backward(inputs=[x])
    assert x.grad.tolist() == [3.0, 4.0] and y.grad is None
    autograd.backward([(x * y).sum()], inputs=[y])
    assert x.grad.tolist() == [3.0, 4.0] and y.grad.tolist() == [1.0, 2.0]


def test_backward_inputs_may_name_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 2
    (h * h).sum().backward(inputs=[h])
    assert h.grad.tolist() == [4.0, 8.0] and x.grad is None


def test_diamond_graph_accumulates_both_branches():
    x = leaf([0.5, -1.0])
    a = x * 2
    b = x.exp()
    z = (a * b + a).sum()
    z.backward()
    e = np.exp([0.5, -1.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * e + 2 * np.array([0.5, -1.0]) * e + 2)


def test_shared_subexpression_runs_its_backward_once():
    calls = []

    class Counted(nnlab.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, gy):
            calls.append(1)
            return gy

    x = leaf([1.0])
    h = Counted.apply(x)
    (h * h + h.sin() + h).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad.numpy(), [2.0 + np.cos(1.0) + 1.0])


# -- the Function API ------------------------------------------------------------------
class TwoOutputs(nnlab.Function):
    """(2x, x^2) and the argmax, which carries no gradient."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        index = x.argmax(keepdims=True)
        ctx.mark_non_differentiable(index)
        ctx.seen_needs = ctx.needs_input_grad
        return x * 2, x * x, index

    @staticmethod
    def backward(ctx, g_double, g_square, g_index):
        x, = ctx.saved_tensors
        return g_double * 2 + g_square * x * 2


def test_multi_output_function_gets_zeros_for_unused_outputs():
    x = leaf([1.0, 3.0])
    double, square, index = TwoOutputs.apply(x)
    assert double.grad_fn is square.grad_fn and not index.requires_grad
    assert index.tolist() == [1] and x.grad_fn is None
    square.sum().backward()
    assert x.grad.tolist() == [2.0, 6.0]
    x.grad = None
    a, b, _ = TwoOutputs.apply(x)
    (a + b).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_needs_input_grad():
    ctx = TwoOutputs.apply(leaf([1.0]))[0].grad_fn
    assert ctx.seen_needs == (True,)
    with nnlab.no_grad():
        assert TwoOutputs.apply(leaf([1.0]))[0].grad_fn is None


def test_backward_returning_too_many_gradients_is_an_error():
    class TooMany(nnlab.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, gy):
            return gy, gy

    with pytest.raises(RuntimeError, match="TooManyBackward returned 2 gradients, but its "
                                           "forward took 1 arguments"):
        TooMany.apply(leaf([1.0])).sum().backward()


# -- stored gradients never alias ------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
def test_gradients_of_two_leaves_are_separate_arrays(create_graph):
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    z = x + y
    z.sum().backward(create_graph=create_graph)
    assert x.grad is not y.grad
    assert not np.shares_memory(x.grad.data, y.grad.data)
    x.grad.data += 1
    assert y.grad.tolist() == [1.0, 1.0]


def test_retained_gradient_does_not_alias_a_leaf_gradient():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    z = x + y
    z.retain_grad()
    ((z + 1) * 2).sum().backward()
    assert z.grad.tolist() == x.grad.tolist() == [2.0, 2.0]
    assert not np.shares_memory(z.grad.data, x.grad.data)
    assert not np.shares_memory(z.grad.data, y.grad.data)


def test_gradient_does_not_alias_the_given_gradient():
    x = leaf([1.0, 2.0])
    g = nnlab.tensor([5.0, 6.0], dtype=nnlab.float64)
    (x + 0).backward(g)
    x.grad.data += 1
    assert g.tolist() == [5.0, 6.0]


def test_gradient_of_a_sum_is_writable():
    x = leaf([1.0, 2.0])
    x.sum().backward()
    x.grad.data *= 2
    x.grad = None
    x.sum().backward(create_graph=True)
    x.grad.data += 1   # not a read-only broadcast view, even with create_graph
    x.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


# -- dtypes ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [nnlab.float32, nnlab.float64, nnlab.float16])
def test_gradient_dtype_matches_the_leaf(dtype):
    x = leaf([1.0, 2.0], dtype)
    (x * 3.0).sum().backward()
    assert x.grad.dtype == dtype


def test_gradient_through_a_wider_dtype_comes_back_in_the_leaf_dtype():
    x = leaf([1.0, 2.0], nnlab.float32)
    w = leaf([0.5, 0.25], nnlab.float64)
    (x.double() * w + x * w).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.5])


# -- anomaly mode ----------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_forward_nan_names_the_op():
    x = leaf([-1.0, 2.0])
    with autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="anomaly: Log returned NaN values in its "
                                               "forward pass"):
            x.log()
    x.log()   # outside anomaly mode: no check
    assert not autograd.is_anomaly_enabled()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_backward_names_the_op_and_where_it_was_made():
    x = leaf([0.0, 4.0])
    with autograd.detect_anomaly():
        y = x.sqrt().sum()     # the op to blame
        with pytest.raises(RuntimeError, match="(?s)anomaly: SqrtBackward returned NaN or Inf "
                                               "values in its backward pass.*created at.*"
                                               "test_anomaly_backward_names_the_op.*x.sqrt"):
            y.backward()


def test_anomaly_mode_allows_infinite_forward_values():
    x = leaf([1.0, 2.0])
    with autograd.detect_anomaly():
        y = x.masked_fill(nnlab.tensor([True, False]), float("-inf"))
        (y.exp() * 2).sum().backward()
    assert x.grad.tolist() == [0.0, 2 * np.exp(2.0)]


def test_set_detect_anomaly():
    with autograd.set_detect_anomaly(True):
        assert autograd.is_anomaly_enabled()
    assert not autograd.is_anomaly_enabled()
