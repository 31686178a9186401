"""gradcheck and gradgradcheck: they pass on correct functions and catch wrong ones, saying
where and by how much."""
import numpy as np
import pytest

import nnlab
from nnlab.autograd import Function, gradcheck, gradgradcheck


def leaf(values):
    return nnlab.tensor(values, dtype=nnlab.float64, requires_grad=True)


class WrongSquare(Function):
    """x^2 with the derivative 3x instead of 2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * x * 3


class WrongSecondCube(Function):
    """x^3 whose backward is array code: the first derivative 3x^2 is right, but it is a
    constant to autograd, so the second derivative comes out as 0 instead of 6x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * nnlab.Tensor(3 * x._data ** 2)


class RightCube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * x * x * 3


class TwoInputs(Function):
    """a * b, with b's gradient wrong (a + 1 instead of a)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return gy * b, gy * (a + 1)


@pytest.mark.parametrize("fn, args", [
    (lambda x: (x * x).sum(), ([1.0, -2.0, 0.5],)),
    (lambda x, y: x.tanh() * y.exp() + x / y, ([[0.3, -0.2]], [[1.1], [0.7]])),
    (lambda x: x, ([1.0, 2.0],)),
    (lambda x: (x.sin(), x * 2), ([0.5, 1.5],)),
    (lambda x: x.sum(), (2.0,)),
    (RightCube.apply, ([1.0, -2.0],)),
])
def test_passes_on_correct_functions(fn, args):
    inputs = tuple(leaf(a) for a in args)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_non_tensor_and_constant_arguments_are_passed_through():
    x = leaf([0.5, 1.5])
    c = nnlab.tensor([2.0, 3.0], dtype=nnlab.float64)
    assert gradcheck(lambda x, c, k: x * c + k, (x, c, 4.0))
    assert gradgradcheck(lambda x, c, k: x * x * c + k, (x, c, 4.0))


def test_wrong_backward_fails_naming_input_element_and_values():
    x = leaf([1.5, -1.0])
    with pytest.raises(AssertionError, match=r"gradcheck: Jacobian mismatch for output 0 with "
                                             r"respect to input 0, at input element \(0,\) and "
                                             r"output element \(0,\): numerical 3, analytical "
                                             r"4\.5"):
        gradcheck(WrongSquare.apply, (x,))


def test_the_failing_input_is_named():
    a, b = leaf([[1.0, 2.0]]), leaf([[0.5, 4.0]])
    with pytest.raises(AssertionError, match=r"with respect to input 1, at input element "
                                             r"\(0, 0\) and output element \(0, 0\): numerical 1,"
                                             r" analytical 2"):
        gradcheck(TwoInputs.apply, (a, b))


def test_raise_exception_false_returns_false():
    assert gradcheck(WrongSquare.apply, (leaf([1.5]),), raise_exception=False) is False
    assert gradgradcheck(WrongSecondCube.apply, (leaf([1.5]),), raise_exception=False) is False
    assert gradcheck(RightCube.apply, (leaf([1.5]),), raise_exception=False) is True


def test_float32_inputs_are_rejected():
    x = nnlab.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="gradcheck: input 0 is float32; finite differences "
                                         r"need float64 inputs \(call .double\(\)\)"):
        gradcheck(lambda x: x * 2, (x,))


def test_nothing_to_check_is_an_error():
    with pytest.raises(ValueError, match="gradcheck: no input requires grad"):
        gradcheck(lambda x: x * 2, (nnlab.ones(2, dtype=nnlab.float64),))


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = leaf([1.5, -0.5])
    assert gradcheck(WrongSecondCube.apply, (x,))          # the first derivative is right
    with pytest.raises(AssertionError, match=r"Jacobian mismatch for output 0 with respect to "
                                             r"input 0, at input element \(0,\).*numerical 9\b"):
        gradgradcheck(WrongSecondCube.apply, (x,), grad_outputs=(nnlab.tensor(
            [1.0, 1.0], dtype=nnlab.float64, requires_grad=True),))


def test_inputs_are_left_as_they_were():
    x = leaf([0.25, 0.5])
    before = x._data.copy()
    gradcheck(lambda x: x.exp(), (x,))
    gradgradcheck(lambda x: x.exp(), (x,))
    np.testing.assert_array_equal(x._data, before)
    assert x.grad is None
