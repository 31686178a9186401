"""linear, bilinear and embedding (functional and modules) against torch: values and
gradients (inputs and parameters, weights copied through state_dict), state_dict keys,
PyTorch's default initialisation, and the errors that name the layer and the shapes."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab
import nnlab.nn as nn
import nnlab.nn.functional as F
from nnlab.ops.linalg import MatMul
from tests.helpers import (
    TOLERANCES,
    check_grad,
    check_op,
    randn,
    requires_torch,
    to_nnlab,
    to_torch,
    torch,
)

pytestmark = requires_torch

TF = torch and torch.nn.functional
TORCH_DTYPE = {np.float64: "float64", np.float32: "float32"}


def check_module(nn_module, torch_module, *inputs, dtype=np.float64, input_grad=True, seed=0):
    """Copy torch_module's state_dict into nn_module (its keys must be torch's), then
    compare the outputs and the gradients of sum(out * v), for the inputs and for every
    parameter by name."""
    tol = TOLERANCES[np.dtype(dtype).type]
    torch_module = torch_module.to(getattr(torch, TORCH_DTYPE[np.dtype(dtype).type]))
    nn_module.to(dtype)
    state = torch_module.state_dict()
    assert list(nn_module.state_dict()) == list(state)
    nn_module.load_state_dict({k: v.detach().numpy() for k, v in state.items()})
    xs, ts = to_nnlab(inputs, dtype, input_grad), to_torch(inputs, dtype, input_grad)
    out, tout = nn_module(*xs), torch_module(*ts)
    assert tuple(out.shape) == tuple(tout.shape) and out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), **tol)
    v = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    (out * nnlab.tensor(v)).sum().backward()
    (tout * torch.tensor(v)).sum().backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        if isinstance(x, nnlab.Tensor) and x.requires_grad:
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **tol,
                                       err_msg=f"gradient of input {i}")
    tparams = dict(torch_module.named_parameters())
    params = dict(nn_module.named_parameters())
    assert list(params) == list(tparams)
    for name, p in params.items():
        tg = tparams[name].grad
        if tg is None:
            assert p.grad is None or not p.grad.numpy().any(), name
        else:
            np.testing.assert_allclose(p.grad.numpy(), tg.numpy(), **tol,
                                       err_msg=f"gradient of {name}")


def ints(*shape, high=10, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape)


W = randn(5, 4, seed=1)
B = randn(5, seed=2)
W3 = randn(5, 3, 4, seed=3)
TABLE = randn(10, 3, seed=4)
INDEX = np.array([[1, 0, 9, 1], [4, 4, 0, 2]])

# (id, nnlab function, torch function, arguments)
FUNCTIONAL = [
    ("linear_2d", F.linear, TF and TF.linear, randn(3, 4), W, B),
    ("linear_1d", F.linear, TF and TF.linear, randn(4), W, B),
    ("linear_3d", F.linear, TF and TF.linear, randn(2, 3, 4), W, B),
    ("linear_4d", F.linear, TF and TF.linear, randn(2, 1, 3, 4), W, B),
    ("linear_no_bias", F.linear, TF and TF.linear, randn(3, 4), W),
    ("linear_one_row", F.linear, TF and TF.linear, randn(1, 4), W, B),
    ("bilinear_2d", F.bilinear, TF and TF.bilinear, randn(6, 3), randn(6, 4, seed=1), W3, B),
    ("bilinear_3d", F.bilinear, TF and TF.bilinear, randn(2, 3, 3), randn(2, 3, 4, seed=1), W3,
     B),
    ("bilinear_no_bias", F.bilinear, TF and TF.bilinear, randn(6, 3), randn(6, 4, seed=1), W3),
    ("embedding", F.embedding, TF and TF.embedding, INDEX, TABLE),
    ("embedding_1d", F.embedding, TF and TF.embedding, np.array([3, 3, 7]), TABLE),
    ("embedding_0d", F.embedding, TF and TF.embedding, np.array(5), TABLE),
    ("embedding_padding", lambda i, w: F.embedding(i, w, padding_idx=0),
     lambda i, w: TF.embedding(i, w, padding_idx=0), INDEX, TABLE),
    ("embedding_padding_negative", lambda i, w: F.embedding(i, w, padding_idx=-1),
     lambda i, w: TF.embedding(i, w, padding_idx=-1), INDEX, TABLE),
]


def params(cases):
    return [pytest.param(c[1], c[2], c[3:], id=c[0]) for c in cases]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nn_fn, torch_fn, args", params(FUNCTIONAL))
def test_functional_against_torch(nn_fn, torch_fn, args, dtype):
    check_op(nn_fn, torch_fn, *args, dtype=dtype)


@pytest.mark.parametrize("nn_fn, torch_fn, args",
                         params(c for c in FUNCTIONAL if c[0] in {
                             "linear_3d", "linear_no_bias", "bilinear_3d", "embedding"}))
def test_functional_gradcheck(nn_fn, torch_fn, args):
    check_grad(nn_fn, *args)


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=0, max_size=3), st.integers(1, 4),
       st.integers(1, 4))
def test_linear_any_leading_dims(lead, n_in, n_out):
    check_op(F.linear, TF.linear, randn(*lead, n_in), randn(n_out, n_in, seed=1),
             randn(n_out, seed=2))


def _composed_linear(x, w, b):
    """The reference twin of the fused Affine node: MatMul, then add."""
    return MatMul.apply(x, w, False, True) + b


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_affine_equals_composed_twin(dtype):
    args = [nnlab.tensor(a.astype(dtype), requires_grad=True) for a in (randn(6, 4), W, B)]
    twins = [nnlab.tensor(a.detach().numpy(), requires_grad=True) for a in args]
    out, ref = F.linear(*args), _composed_linear(*twins)
    assert out.grad_fn.name() == "AffineBackward"
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    v = nnlab.tensor(randn(6, 5, seed=9).astype(dtype))
    grads = nnlab.autograd.grad([out], args, [v], create_graph=True)
    ref_grads = nnlab.autograd.grad([ref], twins, [v], create_graph=True)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g.detach().numpy(), r.detach().numpy(),
                                   **TOLERANCES[np.dtype(dtype).type])
    # second order: d/dx of sum(dL/dW * u) through both
    u = nnlab.tensor(randn(5, 4, seed=10).astype(dtype))
    g2 = nnlab.autograd.grad([(grads[1] * u).sum()], [args[0]])[0]
    r2 = nnlab.autograd.grad([(ref_grads[1] * u).sum()], [twins[0]])[0]
    np.testing.assert_allclose(g2.numpy(), r2.numpy(), **TOLERANCES[np.dtype(dtype).type])


def test_embedding_padding_row_gets_no_gradient():
    w = nnlab.tensor(TABLE, requires_grad=True)
    F.embedding(nnlab.tensor(INDEX), w, padding_idx=4).sum().backward()
    assert not w.grad.numpy()[4].any()
    np.testing.assert_array_equal(w.grad.numpy()[:, 0], np.bincount(INDEX.ravel(), minlength=10)
                                  * (np.arange(10) != 4))


# -- modules ----------------------------------------------------------------------------
MODULES = [   # (id, nnlab module, torch module, inputs)
    ("linear", lambda: nn.Linear(4, 5), lambda: torch.nn.Linear(4, 5), randn(3, 4)),
    ("linear_3d", lambda: nn.Linear(4, 5), lambda: torch.nn.Linear(4, 5), randn(2, 3, 4)),
    ("linear_no_bias", lambda: nn.Linear(4, 5, bias=False),
     lambda: torch.nn.Linear(4, 5, bias=False), randn(3, 4)),
    ("bilinear", lambda: nn.Bilinear(3, 4, 5), lambda: torch.nn.Bilinear(3, 4, 5),
     randn(6, 3), randn(6, 4, seed=1)),
    ("bilinear_no_bias", lambda: nn.Bilinear(3, 4, 2, bias=False),
     lambda: torch.nn.Bilinear(3, 4, 2, bias=False), randn(2, 6, 3), randn(2, 6, 4, seed=1)),
    ("embedding", lambda: nn.Embedding(10, 3), lambda: torch.nn.Embedding(10, 3), INDEX),
    ("embedding_padding", lambda: nn.Embedding(10, 3, padding_idx=1),
     lambda: torch.nn.Embedding(10, 3, padding_idx=1), INDEX),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make, make_torch, inputs",
                         [pytest.param(c[1], c[2], c[3:], id=c[0]) for c in MODULES])
def test_module_against_torch(make, make_torch, inputs, dtype):
    check_module(make(), make_torch(), *inputs, dtype=dtype)


@pytest.mark.parametrize("module, torch_module", [
    (lambda: nn.Linear(784, 128), lambda: torch.nn.Linear(784, 128)),
    (lambda: nn.Linear(3, 2, bias=False), lambda: torch.nn.Linear(3, 2, bias=False)),
    (lambda: nn.Bilinear(2, 3, 4), lambda: torch.nn.Bilinear(2, 3, 4)),
    (lambda: nn.Bilinear(2, 3, 4, bias=False), lambda: torch.nn.Bilinear(2, 3, 4, bias=False)),
    (lambda: nn.Embedding(10, 3), lambda: torch.nn.Embedding(10, 3)),
    (lambda: nn.Embedding(10, 3, padding_idx=-2), lambda: torch.nn.Embedding(10, 3,
                                                                            padding_idx=-2)),
])
def test_repr_and_state_dict_like_torch(module, torch_module):
    m, t = module(), torch_module()
    assert repr(m) == repr(t)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]


def test_parameter_dtype():
    assert nn.Linear(3, 2).weight.dtype == np.float32
    m = nn.Linear(3, 2, dtype=nnlab.float64)
    assert m.weight.dtype == m.bias.dtype == np.float64
    assert nn.Embedding(4, 2, dtype="float64").weight.dtype == np.float64


# -- default initialisation -----------------------------------------------------------------
def test_linear_init_is_torch_bound():
    nnlab.manual_seed(0)
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (m.weight, m.bias):
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound
        assert np.abs(a).max() > 0.95 * bound
    w = m.weight.detach().numpy()
    assert abs(w.mean()) < 0.01 * bound
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.02)  # U(-b, b): variance b^2 / 3


def test_bilinear_init_is_torch_bound():
    nnlab.manual_seed(0)
    m = nn.Bilinear(50, 20, 30)
    bound = 1 / math.sqrt(50)
    assert bound * 0.95 < np.abs(m.weight.detach().numpy()).max() <= bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound


def test_embedding_init_standard_normal_with_zero_padding_row():
    nnlab.manual_seed(0)
    w = nn.Embedding(1000, 64, padding_idx=3).weight.detach().numpy()
    assert not w[3].any()
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.01
    assert rest.std() == pytest.approx(1.0, rel=0.02)


def test_seeded_init_is_reproducible():
    nnlab.manual_seed(7)
    a = nn.Linear(5, 4).state_dict()
    nnlab.manual_seed(7)
    b = nn.Linear(5, 4).state_dict()
    c = nn.Linear(5, 4).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k].detach().numpy(), b[k].detach().numpy())
        assert not np.array_equal(a[k].detach().numpy(), c[k].detach().numpy())


def test_embedding_module_padding_and_pretrained():
    m = nn.Embedding(5, 2, padding_idx=0)
    m(nnlab.tensor([0, 1, 0, 3])).sum().backward()
    np.testing.assert_array_equal(m.weight.grad.numpy()[:, 0], [0, 1, 0, 1, 0])
    table = nnlab.tensor(TABLE)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(nnlab.tensor([2, 9])).detach().numpy(), TABLE[[2, 9]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    kept = nn.Embedding(10, 3, padding_idx=0, _weight=table)   # a given table is kept as is
    np.testing.assert_array_equal(kept.weight.detach().numpy(), TABLE)


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.Linear(784, 128)(nnlab.ones(32, 100)), ValueError,
     r"^Linear\(in_features=784\): input has 100 features in its last dimension "
     r"\(shape \(32, 100\)\)$"),
    (lambda: nn.Linear(3, 2)(nnlab.ones(())), ValueError,
     r"Linear\(in_features=3\): input has no dimensions \(shape \(\)\)"),
    (lambda: F.linear(nnlab.ones(2, 3), nnlab.ones(4, 5)), ValueError,
     r"linear: input of shape \(2, 3\) does not match weight of shape \(4, 5\): expected 5"),
    (lambda: F.linear(nnlab.ones(2, 3), nnlab.ones(4, 3, 1)), ValueError,
     r"linear: weight must be 2-D"),
    (lambda: F.linear(nnlab.ones(2, 3, dtype=nnlab.float64), nnlab.ones(4, 3)), TypeError,
     r"linear: input is float64 but weight is float32"),
    (lambda: nn.Bilinear(3, 4, 5)(nnlab.ones(2, 3), nnlab.ones(2, 5)), ValueError,
     r"Bilinear\(in1_features=3, in2_features=4\): inputs of shapes \(2, 3\) and \(2, 5\)"),
    (lambda: F.bilinear(nnlab.ones(2, 3), nnlab.ones(3, 4), nnlab.ones(5, 3, 4)), ValueError,
     r"bilinear: input1 of shape \(2, 3\) and input2 of shape \(3, 4\) must have"),
    (lambda: nn.Embedding(10, 3)(nnlab.tensor([1, 12])), IndexError,
     r"^Embedding\(10, 3\): index 12 is out of range \(num_embeddings=10\)$"),
    (lambda: nn.Embedding(10, 3)(nnlab.tensor([-1, 2])), IndexError,
     r"Embedding\(10, 3\): index -1 is out of range"),
    (lambda: F.embedding(nnlab.tensor([0.5]), nnlab.ones(4, 2)), TypeError,
     r"embedding: input must be an integer tensor, got dtype float32"),
    (lambda: nn.Embedding(10, 3, padding_idx=10), ValueError,
     r"Embedding: padding_idx 10 must be within num_embeddings \(10\)"),
    (lambda: nn.Embedding(10, 3, max_norm=1.0), NotImplementedError,
     r"Embedding: max_norm not supported"),
    (lambda: nn.Embedding(10, 3, _weight=nnlab.ones(3, 10)), ValueError,
     r"Embedding: _weight of shape \(3, 10\) does not match \(10, 3\)"),
])
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
