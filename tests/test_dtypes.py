"""dtype names against torch's: the aliases (`nnlab.float`, `long`, ...), `Tensor.type()`'s
legacy strings and `Tensor.type(dtype)`, the legacy constructors (`FloatTensor([1, 2])`) and
their isinstance checks, `get_default_dtype` / `set_default_dtype`, `finfo` / `iinfo`, the
constants, `is_tensor` / `is_floating_point` / `numel`, and bfloat16's clear refusal."""
import math

import numpy as np
import pytest

import nnlab
from tests.helpers import requires_torch, torch

pytestmark = requires_torch

NAMES = ["float", "double", "half", "long", "int", "short", "bool", "uint8", "int8", "int16",
         "int32", "int64", "float16", "float32", "float64", "complex64", "complex128", "cfloat",
         "cdouble"]
DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "complex128"]


def torch_dtype(dtype):
    return getattr(torch, np.dtype(dtype).name)


@pytest.fixture
def default_float64():
    nnlab.set_default_dtype(nnlab.float64)
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        nnlab.set_default_dtype(nnlab.float32)
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("name", NAMES)
def test_dtype_names_as_torch(name):
    ours = getattr(nnlab, name)
    assert isinstance(ours, nnlab.dtype)
    assert torch_dtype(ours) == getattr(torch, name)
    assert nnlab.zeros(2, dtype=ours).dtype == ours


def test_the_builtins_are_untouched_outside_nnlab():
    assert float is not nnlab.float and int("3") == 3 and bool(1) is True


# -- Tensor.type ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_type_names_as_torch(dtype):
    assert nnlab.zeros(2, dtype=dtype).type() == torch.zeros(2, dtype=torch_dtype(dtype)).type()


@pytest.mark.parametrize("target", [nnlab.float64, "torch.DoubleTensor", "torch.LongTensor",
                                    nnlab.LongTensor, nnlab.int16, "torch.FloatTensor",
                                    "torch.BoolTensor"])
def test_type_converts_as_torch(target):
    x, tx = nnlab.tensor([1.5, -2.0, 0.0]), torch.tensor([1.5, -2.0, 0.0])
    theirs = target
    if isinstance(target, np.dtype):
        theirs = torch_dtype(target)
    elif isinstance(target, type):
        theirs = getattr(torch, target.__name__)
    y, ty = x.type(target), tx.type(theirs)
    assert y.type() == ty.type() and (y is x) == (ty is tx)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())


@pytest.mark.parametrize("target, err, match", [
    ("float64", ValueError, "Tensor.type: invalid type: 'float64'"),
    ("torch.Banana", ValueError, "Tensor.type: invalid type: 'torch.Banana'"),
    (5, TypeError, "Tensor.type: expected a dtype"),
])
def test_type_errors_as_torch(target, err, match):
    with pytest.raises(err):
        torch.zeros(2).type(target)
    with pytest.raises(err, match=match):
        nnlab.zeros(2).type(target)


def test_type_is_differentiable():
    x = nnlab.tensor([1.0, 2.0], requires_grad=True)
    (x.type("torch.DoubleTensor") * 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("method", ["float", "double", "half", "long", "int", "short", "char",
                                    "byte", "bool"])
def test_conversion_methods_as_torch(method):
    x, tx = nnlab.tensor([1.5, -2.0, 0.0]), torch.tensor([1.5, -2.0, 0.0])
    assert getattr(x, method)().type() == getattr(tx, method)().type()


# -- legacy constructors ----------------------------------------------------------------------
LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
          "CharTensor", "ByteTensor", "BoolTensor"]
DATA = [([1, 2],), ([1.7, -2.0],), ([[0, 1], [2, 3]],), ((2, 3),), (np.array([1.0, 2.0]),),
        ([],), ()]


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("args", DATA, ids=repr)
def test_legacy_constructors_from_data_as_torch(name, args):
    try:
        theirs = getattr(torch, name)(*args)
    except RuntimeError:   # ByteTensor([-2.0]): overflow
        with pytest.raises(RuntimeError, match=f"{name}: value cannot be converted to type"):
            getattr(nnlab, name)(*args)
        return
    ours = getattr(nnlab, name)(*args)
    assert ours.type() == theirs.type() and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_constructors_from_sizes_give_zeros(name):
    ours, theirs = getattr(nnlab, name)(2, 3), getattr(torch, name)(2, 3)
    assert ours.type() == theirs.type() and tuple(ours.shape) == tuple(theirs.shape) == (2, 3)
    assert not ours.numpy().any()   # torch leaves the memory uninitialised


def test_legacy_constructor_of_a_tensor_and_errors_as_torch():
    x = nnlab.zeros(2)
    assert nnlab.FloatTensor(x) is x
    cases = [((nnlab.zeros(2, dtype=nnlab.float64),), (torch.zeros(2, dtype=torch.float64),),
              TypeError, "FloatTensor: expected a tensor of dtype float32, got float64"),
             ((-1,), (-1,), RuntimeError, "FloatTensor: trying to create a tensor with a "
                                          "negative dimension"),
             (("a",), ("a",), TypeError, "FloatTensor: expected sizes")]
    for ours, theirs, err, match in cases:
        with pytest.raises((TypeError, RuntimeError)):
            torch.FloatTensor(*theirs)
        with pytest.raises(err, match=match):
            nnlab.FloatTensor(*ours)


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_isinstance_of_legacy_types_as_torch(name, dtype):
    ours, theirs = nnlab.zeros(1, dtype=dtype), torch.zeros(1, dtype=torch_dtype(dtype))
    assert isinstance(ours, getattr(nnlab, name)) == isinstance(theirs, getattr(torch, name))
    assert isinstance(ours, nnlab.Tensor)
    assert not isinstance(ours.numpy(), getattr(nnlab, name))


# -- the default dtype ------------------------------------------------------------------------
FACTORIES = {
    "tensor(1.5)": (lambda m: m.tensor(1.5)), "tensor([1, 2])": (lambda m: m.tensor([1, 2])),
    "zeros": (lambda m: m.zeros(2)), "ones": (lambda m: m.ones(2)),
    "rand": (lambda m: m.rand(2)), "randn": (lambda m: m.randn(2)),
    "empty": (lambda m: m.empty(2)), "arange float": (lambda m: m.arange(0.0, 1.0, 0.5)),
    "arange int": (lambda m: m.arange(3)), "linspace": (lambda m: m.linspace(0, 1, 3)),
    "full float": (lambda m: m.full((2,), 1.5)), "eye": (lambda m: m.eye(2)),
    "float32 * float": (lambda m: m.ones(2, dtype=m.float32) * 2.5),
    "FloatTensor": (lambda m: m.FloatTensor([1])),
}


@pytest.mark.parametrize("make", list(FACTORIES.values()), ids=list(FACTORIES))
def test_set_default_dtype_float64_as_torch(make, default_float64):
    assert nnlab.get_default_dtype() == nnlab.float64
    assert torch.get_default_dtype() == torch.float64
    assert make(nnlab).type() == make(torch).type()


@pytest.mark.parametrize("make", list(FACTORIES.values()), ids=list(FACTORIES))
def test_default_dtype_float32_as_torch(make):
    assert nnlab.get_default_dtype() == nnlab.float32
    assert make(nnlab).type() == make(torch).type()


def test_set_default_dtype_refuses_non_floats_as_torch():
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)
    with pytest.raises(TypeError, match="set_default_dtype: expected a floating dtype, got int64"):
        nnlab.set_default_dtype(nnlab.int64)
    assert nnlab.get_default_dtype() == nnlab.float32


# -- finfo, iinfo, constants ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", None, "complex64"])
def test_finfo_as_torch(dtype):
    ours = nnlab.finfo() if dtype is None else nnlab.finfo(getattr(nnlab, dtype))
    theirs = torch.finfo() if dtype is None else torch.finfo(getattr(torch, dtype))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution",
                  "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
def test_iinfo_as_torch(dtype):
    ours, theirs = nnlab.iinfo(getattr(nnlab, dtype)), torch.iinfo(getattr(torch, dtype))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make, err, match", [
    (lambda m: m.finfo(m.int64), TypeError, "finfo: requires a floating point dtype, got int64"),
    (lambda m: m.iinfo(m.float32), TypeError, "iinfo: requires an integer dtype, got float32"),
    (lambda m: m.iinfo(m.bool), TypeError, r"iinfo: requires an integer dtype, got bool"),
])
def test_finfo_iinfo_errors_as_torch(make, err, match):
    with pytest.raises(err):
        make(torch)
    with pytest.raises(err, match=match):
        make(nnlab)


@pytest.mark.parametrize("name", ["inf", "nan", "pi", "e"])
def test_constants_as_torch(name):
    ours, theirs = getattr(nnlab, name), getattr(torch, name)
    assert type(ours) is float and (ours == theirs or math.isnan(ours) and math.isnan(theirs))


# -- queries ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [np.zeros(2), [1.0], 3.0, "x"])
def test_is_tensor_as_torch(value):
    assert nnlab.is_tensor(value) is torch.is_tensor(value) is False
    assert nnlab.is_tensor(nnlab.tensor(value) if not isinstance(value, str) else
                           nnlab.zeros(1)) is True


@pytest.mark.parametrize("dtype", DTYPES)
def test_is_floating_point_and_numel_as_torch(dtype):
    ours, theirs = nnlab.zeros(2, 3, dtype=dtype), torch.zeros(2, 3, dtype=torch_dtype(dtype))
    assert nnlab.is_floating_point(ours) == torch.is_floating_point(theirs)
    assert ours.is_floating_point() == theirs.is_floating_point()
    assert nnlab.numel(ours) == torch.numel(theirs) == 6


@pytest.mark.parametrize("name", ["is_floating_point", "numel"])
def test_queries_refuse_non_tensors_as_torch(name):
    with pytest.raises(TypeError):
        getattr(torch, name)(np.zeros(1))
    with pytest.raises(TypeError, match=f"{name}: expected a Tensor, got ndarray"):
        getattr(nnlab, name)(np.zeros(1))


# -- bfloat16 ---------------------------------------------------------------------------------
def test_bfloat16_can_be_named_but_not_used():
    table = {"float32": nnlab.float32, "bfloat16": nnlab.bfloat16}   # nanoGPT's table
    assert repr(table["bfloat16"]) == "nnlab.bfloat16" and table["bfloat16"].is_floating_point
    assert nnlab.cuda.is_bf16_supported() is False
    for make in (lambda: nnlab.zeros(2, dtype=nnlab.bfloat16),
                 lambda: nnlab.ones(2).to(nnlab.bfloat16),
                 lambda: nnlab.ones(2).to("bfloat16"),
                 lambda: nnlab.set_default_dtype(nnlab.bfloat16)):
        with pytest.raises(TypeError, match="dtype bfloat16 is not supported: NumPy has no "
                                            "bfloat16"):
            make()
