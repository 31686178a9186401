"""Comparisons, logic and value tests, elementwise: bool tensors that carry no gradient.
Operands are typed and broadcast as the arithmetic ops type them."""
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from .elementwise import _operands


def _compare(name, ufunc):
    def compare(input, other):
        a, b = _operands(input, other)
        a = a._data if isinstance(a, Tensor) else a
        b = b._data if isinstance(b, Tensor) else b
        xp = get_array_module(a if hasattr(a, "shape") else b)
        return Tensor._make(xp.asarray(getattr(xp, ufunc)(a, b)))  # 0-d stays an array
    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise `{ufunc}` as a bool tensor (no gradient)."
    return compare


eq = _compare("eq", "equal")
ne = _compare("ne", "not_equal")
lt = _compare("lt", "less")
le = _compare("le", "less_equal")
gt = _compare("gt", "greater")
ge = _compare("ge", "greater_equal")
logical_and = _compare("logical_and", "logical_and")
logical_or = _compare("logical_or", "logical_or")
logical_xor = _compare("logical_xor", "logical_xor")


def _test(name):
    def test(input):
        xp = get_array_module(input._data)
        return Tensor._make(xp.asarray(getattr(xp, name)(input._data)))
    test.__name__ = test.__qualname__ = name
    test.__doc__ = f"Elementwise `{name}` as a bool tensor (no gradient)."
    return test


isnan = _test("isnan")
isinf = _test("isinf")
isfinite = _test("isfinite")
logical_not = _test("logical_not")
