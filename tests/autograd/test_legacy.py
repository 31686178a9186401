"""torch's legacy autograd names and Tensor's memory-layout queries, against torch:
`autograd.Variable`, `inference_mode`, `retains_grad`, `new_zeros` / `new_ones` / `new_full` /
`new_empty` / `new_tensor`, `nelement`, `element_size`, `data_ptr`, `storage_offset`,
`is_contiguous`, `contiguous` and `stride`."""
import numpy as np
import pytest

import nnlab
from nnlab.autograd import Variable
from tests.helpers import requires_torch, torch

pytestmark = requires_torch


def torch_dtype(dtype):
    return getattr(torch, np.dtype(dtype).name)


# -- Variable ---------------------------------------------------------------------------------
@pytest.mark.parametrize("requires_grad", [False, True])
def test_variable_returns_a_tensor_sharing_memory_as_torch(requires_grad):
    t, tt = nnlab.ones(2), torch.ones(2)
    v, tv = Variable(t, requires_grad=requires_grad), torch.autograd.Variable(
        tt, requires_grad=requires_grad)
    assert type(v) is nnlab.Tensor and v is not t
    assert v.requires_grad == tv.requires_grad == requires_grad and not t.requires_grad
    assert v.data_ptr() == t.data_ptr() and tv.data_ptr() == tt.data_ptr()
    assert isinstance(t, Variable) and not isinstance(3, Variable)
    assert isinstance(tt, torch.autograd.Variable)


def test_variable_detaches_and_its_gradient_reaches_it():
    y = nnlab.ones(2, requires_grad=True) * 2
    v = Variable(y)
    assert v.grad_fn is None and not v.requires_grad
    w = Variable(nnlab.tensor([1.0, 2.0]), requires_grad=True)
    (w * w).sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]
    assert Variable().shape == torch.autograd.Variable().shape == (0,)


@pytest.mark.parametrize("ours, theirs, err, match", [
    (lambda: Variable([1.0]), lambda: torch.autograd.Variable([1.0]), TypeError,
     "Variable: data has to be a tensor, but got list"),
    (lambda: Variable(nnlab.ones(2, dtype=nnlab.int64), requires_grad=True),
     lambda: torch.autograd.Variable(torch.ones(2, dtype=torch.int64), requires_grad=True),
     RuntimeError, "only floating point tensors can require gradients"),
], ids=["list", "int"])
def test_variable_errors_as_torch(ours, theirs, err, match):
    with pytest.raises(err):
        theirs()
    with pytest.raises(err, match=match):
        ours()


# -- inference_mode ---------------------------------------------------------------------------
def _modes(m):
    return m.is_grad_enabled(), m.is_inference_mode_enabled()


def _under(m, make, outer):
    """(grad enabled, inference mode, output requires grad) inside `make(m)`, within
    m.no_grad() if `outer`."""
    x = m.ones(2, requires_grad=True)
    with m.no_grad() if outer else m.enable_grad():
        with make(m):
            return (*_modes(m), (x * 2).requires_grad)


@pytest.mark.parametrize("outer", [False, True], ids=["", "in-no_grad"])
@pytest.mark.parametrize("make", [lambda m: m.inference_mode(),
                                  lambda m: m.inference_mode(True),
                                  lambda m: m.inference_mode(False),
                                  lambda m: m.inference_mode(mode=False)],
                         ids=["()", "(True)", "(False)", "(mode=False)"])
def test_inference_mode_as_torch(make, outer):
    assert _under(nnlab, make, outer) == _under(torch, make, outer)
    assert _modes(nnlab) == _modes(torch) == (True, False)   # restored


@pytest.mark.parametrize("decorate", [lambda m: m.inference_mode, lambda m: m.inference_mode(),
                                      lambda m: m.inference_mode(False)],
                         ids=["bare", "()", "(False)"])
def test_inference_mode_as_decorator_as_torch(decorate):
    def run(m):
        @decorate(m)
        def f(x):
            return (x * 2).requires_grad, m.is_inference_mode_enabled()
        return f(m.ones(1, requires_grad=True)), f(m.ones(1, requires_grad=True))
    assert run(nnlab) == run(torch)
    assert _modes(nnlab) == (True, False)


def test_inference_mode_restores_on_error():
    with pytest.raises(KeyError):
        with nnlab.inference_mode():
            raise KeyError
    assert _modes(nnlab) == (True, False)


# -- retains_grad -----------------------------------------------------------------------------
def test_retains_grad_as_torch():
    def run(m):
        w = m.ones(2, requires_grad=True)
        h = w * 2
        before = (w.retains_grad, h.retains_grad, m.ones(1).retains_grad)
        h.retain_grad()
        w.retain_grad()
        h.sum().backward()
        return before, (w.retains_grad, h.retains_grad), h.grad.tolist()
    assert run(nnlab) == run(torch)
    with pytest.raises(AttributeError):
        nnlab.ones(1).retains_grad = True


# -- new_* ------------------------------------------------------------------------------------
NEW = {
    "new_zeros(2)": lambda x: x.new_zeros(2),
    "new_zeros((2, 3))": lambda x: x.new_zeros((2, 3)),
    "new_zeros(2, 3)": lambda x: x.new_zeros(2, 3),
    "new_ones([3])": lambda x: x.new_ones([3]),
    "new_ones(int64)": lambda x: x.new_ones(2, dtype=x_dtype(x, "int64")),
    "new_full": lambda x: x.new_full((2,), 7),
    "new_full(2.7)": lambda x: x.new_full([2, 1], 2.7),
    "new_empty": lambda x: x.new_empty(2, 2),
    "new_tensor": lambda x: x.new_tensor([1.7, -2.0]),
    "new_tensor(float64)": lambda x: x.new_tensor([1, 2], dtype=x_dtype(x, "float64")),
    "new_tensor(requires_grad)": lambda x: x.new_tensor([1.0], requires_grad=True)
    if x.is_floating_point() else x.new_tensor([1]),
    "new_zeros(device)": lambda x: x.new_zeros(1, device="cpu"),
}


def x_dtype(x, name):
    return getattr(torch if isinstance(x, torch.Tensor) else nnlab, name)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("name", list(NEW))
def test_new_factories_as_torch(name, dtype):
    make = NEW[name]
    ours = make(nnlab.ones(2, 3, dtype=dtype))
    theirs = make(torch.ones(2, 3, dtype=torch_dtype(dtype)))
    assert ours.type() == theirs.type() and tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad and ours.device == str(theirs.device)
    if "empty" not in name:   # uninitialised
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


@pytest.mark.parametrize("make, err, match", [
    (lambda x: x.new_full(2, 3.0), TypeError, "new_full: size must be a tuple of ints, got int"),
    (lambda x: x.long().new_zeros(2, requires_grad=True), RuntimeError,
     "only floating point tensors can require gradients"),
])
def test_new_factory_errors_as_torch(make, err, match):
    with pytest.raises(err):
        make(torch.ones(2))
    with pytest.raises(err, match=match):
        make(nnlab.ones(2))


# -- memory layout ----------------------------------------------------------------------------
VIEWS = {
    "x": lambda x: x,
    "x[1]": lambda x: x[1],
    "x[:, 1:, ::2]": lambda x: x[:, 1:, ::2],
    "x[1, 2]": lambda x: x[1, 2],
    "x[0, 0, 0]": lambda x: x[0, 0, 0],
    "x[:, :1]": lambda x: x[:, :1],
    "transpose(0, 2)": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(1, 0, 2),
    "view(6, 4)": lambda x: x.view(6, 4),
    "view(6, 4)[2:]": lambda x: x.view(6, 4)[2:],
    "expand": lambda x: x[:, :, :1].expand(2, 3, 5),
    "t()": lambda x: x[0].t(),
    "contiguous()": lambda x: x.transpose(0, 1).contiguous(),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_layout_queries_as_torch(name):
    make = VIEWS[name]
    x, tx = nnlab.arange(24.0).reshape(2, 3, 4), torch.arange(24.0).reshape(2, 3, 4)
    ours, theirs = make(x), make(tx)
    assert ours.stride() == theirs.stride()
    for d in range(-ours.ndim, ours.ndim):
        assert ours.stride(d) == theirs.stride(d)
    assert ours.storage_offset() == theirs.storage_offset()
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.contiguous().is_contiguous() and theirs.contiguous().is_contiguous()
    assert (ours.contiguous() is ours) == (theirs.contiguous() is theirs)
    assert ours.nelement() == theirs.nelement() == ours.numel()
    if name not in ("x[0, 0, 0]", "contiguous()"):   # copies (in nnlab a scalar is one)
        assert ours.data_ptr() - x.data_ptr() == theirs.data_ptr() - tx.data_ptr()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16",
                                   "int8", "uint8", "bool", "complex64"])
def test_element_size_as_torch(dtype):
    assert nnlab.zeros(1, dtype=dtype).element_size() == torch.zeros(
        1, dtype=torch_dtype(dtype)).element_size()


def test_stride_of_an_out_of_range_dimension_as_torch():
    with pytest.raises(IndexError):
        torch.zeros(2, 3).stride(2)
    with pytest.raises(IndexError, match=r"stride: dimension out of range \(expected to be in "
                                         r"range of \[-2, 1\], but got 2\)"):
        nnlab.zeros(2, 3).stride(2)


def test_data_ptr_is_shared_by_views_and_not_by_copies():
    x = nnlab.zeros(3, 4)
    assert x.data_ptr() == x[0].data_ptr() == x.view(12).data_ptr() == x.detach().data_ptr()
    assert x.clone().data_ptr() != x.data_ptr()
    assert x[1].data_ptr() - x.data_ptr() == 4 * x.element_size()
