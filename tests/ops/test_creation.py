"""Factories against torch's: dtypes, shapes and values; memory sharing; seeded draws."""
import numpy as np
import pytest

import nnlab
from tests.helpers import requires_torch, torch


def same_dtype(t, tt):
    return t.dtype == np.dtype(str(tt.dtype).replace("torch.", ""))


def assert_like_torch(t, tt, values=True):
    assert isinstance(t, nnlab.Tensor)
    assert tuple(t.shape) == tuple(tt.shape), f"shape {t.shape} vs torch {tuple(tt.shape)}"
    assert same_dtype(t, tt), f"dtype {t.dtype} vs torch {tt.dtype}"
    if values:
        np.testing.assert_allclose(t.numpy().astype(np.float64), tt.double().numpy(),
                                   rtol=1e-6, atol=1e-7)


# -- from data -------------------------------------------------------------------------
DATA = [3, 3.0, True, -2.5, [1, 2, 3], [1.0, 2.0], [1, 2.5], [[1, 2], [3, 4]], [True, False],
        [[1.5], [2.5]], [], np.array([1.0, 2.0]), np.array([1, 2], dtype=np.int32),
        np.array([[1.0]], dtype=np.float32), np.float64(1.5), np.arange(3, dtype=np.uint8)]


@requires_torch
@pytest.mark.parametrize("data", DATA, ids=[repr(d)[:30] for d in DATA])
def test_tensor_from_data(data):
    assert_like_torch(nnlab.tensor(data), torch.tensor(data))


def test_tensor_scalar_dtypes():
    assert nnlab.tensor(3).dtype == np.int64 and nnlab.tensor(3).shape == ()
    assert nnlab.tensor(3.0).dtype == np.float32
    assert nnlab.tensor(True).dtype == np.bool_


@pytest.mark.parametrize("dtype", [nnlab.float64, "float64", nnlab.int32, nnlab.bool])
def test_tensor_dtype_argument(dtype):
    assert nnlab.tensor([1, 0], dtype=dtype).dtype == nnlab.backend.to_dtype(dtype)


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = nnlab.tensor(a)
    a[0] = 10.0
    assert t.tolist() == [1.0, 2.0]
    u = nnlab.tensor(t)
    t.data[1] = 5.0
    assert u.tolist() == [1.0, 2.0]


def test_tensor_requires_grad():
    t = nnlab.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None


def test_from_numpy_shares_memory():
    a = np.zeros(3, dtype=np.float64)
    t = nnlab.from_numpy(a)
    assert t.dtype == np.float64
    a[1] = 7.0
    assert t.tolist() == [0.0, 7.0, 0.0]
    t.data[2] = 3.0
    assert a[2] == 3.0


def test_from_numpy_rejects_other_types():
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray, got list"):
        nnlab.from_numpy([1.0, 2.0])


def test_as_tensor_shares_when_it_can():
    a = np.ones(3)
    assert np.shares_memory(nnlab.as_tensor(a).data, a)
    assert not np.shares_memory(nnlab.as_tensor(a, dtype=nnlab.float32).data, a)
    t = nnlab.ones(2)
    assert nnlab.as_tensor(t) is t
    assert nnlab.as_tensor([1.0, 2.0]).dtype == np.float32
    assert nnlab.as_tensor(t, dtype=nnlab.float64).dtype == np.float64


# -- filled, ranges --------------------------------------------------------------------
FACTORIES = [
    ("zeros", lambda m: m.zeros(2, 3)),
    ("zeros_tuple", lambda m: m.zeros((2, 3))),
    ("zeros_list", lambda m: m.zeros([4])),
    ("zeros_0d", lambda m: m.zeros(())),
    ("zeros_int", lambda m: m.zeros(2, dtype=m.int64)),
    ("ones", lambda m: m.ones(3, 1)),
    ("ones_f64", lambda m: m.ones(2, 2, dtype=m.float64)),
    ("full_float", lambda m: m.full((2, 3), 1.5)),
    ("full_int", lambda m: m.full((2,), 7)),
    ("full_bool", lambda m: m.full((2,), True)),
    ("full_dtype", lambda m: m.full((2,), 7, dtype=m.float64)),
    ("arange", lambda m: m.arange(5)),
    ("arange_start_end", lambda m: m.arange(2, 9, 3)),
    ("arange_negative_step", lambda m: m.arange(5, 0, -2)),
    ("arange_float", lambda m: m.arange(0.0, 1.0, 0.25)),
    ("arange_float_end", lambda m: m.arange(1, 2.5)),
    ("arange_numpy_int", lambda m: m.arange(np.int64(4))),
    ("arange_dtype", lambda m: m.arange(4, dtype=m.float64)),
    ("linspace", lambda m: m.linspace(0, 1, 5)),
    ("linspace_f64", lambda m: m.linspace(-2.0, 3.0, 7, dtype=m.float64)),
    ("linspace_one", lambda m: m.linspace(2, 3, 1)),
    ("eye", lambda m: m.eye(3)),
    ("eye_rect", lambda m: m.eye(2, 4)),
    ("eye_int", lambda m: m.eye(2, dtype=m.int64)),
]


@requires_torch
@pytest.mark.parametrize("make", [pytest.param(f, id=i) for i, f in FACTORIES])
def test_factory_like_torch(make):
    assert_like_torch(make(nnlab), make(torch))


@requires_torch
@pytest.mark.parametrize("make", [
    lambda m: m.empty(2, 3), lambda m: m.empty((4,), dtype=m.float64),
    lambda m: m.empty(0, 2)])
def test_empty_shape_and_dtype(make):
    assert_like_torch(make(nnlab), make(torch), values=False)


@pytest.mark.parametrize("factory", [nnlab.zeros, nnlab.ones, nnlab.rand, nnlab.randn,
                                     nnlab.empty])
def test_factory_requires_grad(factory):
    t = factory(2, requires_grad=True)
    assert t.requires_grad and t.is_leaf


LIKE = [
    ("zeros_like", lambda m, x: m.zeros_like(x)),
    ("ones_like", lambda m, x: m.ones_like(x)),
    ("ones_like_dtype", lambda m, x: m.ones_like(x, dtype=m.float32)),
    ("full_like", lambda m, x: m.full_like(x, 2.5)),
    ("full_like_int", lambda m, x: m.full_like(x.long(), 2.5)),  # truncated, as torch
    ("zeros_like_int", lambda m, x: m.zeros_like(x.long())),
]


@requires_torch
@pytest.mark.parametrize("make", [pytest.param(f, id=i) for i, f in LIKE])
def test_like_factories(make):
    x = np.arange(6.0).reshape(2, 3)
    assert_like_torch(make(nnlab, nnlab.tensor(x)), make(torch, torch.tensor(x)))


@requires_torch
@pytest.mark.parametrize("make", [
    lambda m, x: m.empty_like(x), lambda m, x: m.rand_like(x), lambda m, x: m.randn_like(x),
    lambda m, x: m.randint_like(x, 5), lambda m, x: m.randint_like(x, 2, 5),
    lambda m, x: m.rand_like(x, dtype=m.float32)])
def test_random_like_shape_and_dtype(make):
    x = np.zeros((2, 3))
    assert_like_torch(make(nnlab, nnlab.tensor(x)), make(torch, torch.tensor(x)), values=False)


# -- random draws ----------------------------------------------------------------------
DRAWS = [
    ("rand", lambda m: m.rand(3, 4)),
    ("rand_tuple", lambda m: m.rand((5,))),
    ("rand_f64", lambda m: m.rand(2, dtype=m.float64)),
    ("randn", lambda m: m.randn(2, 3)),
    ("randn_f64", lambda m: m.randn(4, dtype=m.float64)),
    ("randint", lambda m: m.randint(10, (3, 2))),
    ("randint_low", lambda m: m.randint(3, 10, (4,))),
    ("randint_size_kw", lambda m: m.randint(0, 4, size=(2,))),
    ("normal_floats", lambda m: m.normal(1.0, 2.0, size=(3,))),
    ("normal_tensors", lambda m: m.normal(m.zeros(2, 3), m.ones(3))),
]


@requires_torch
@pytest.mark.parametrize("make", [pytest.param(f, id=i) for i, f in DRAWS])
def test_draw_shape_and_dtype(make):
    assert_like_torch(make(nnlab), make(torch), values=False)


def test_draw_ranges_and_moments():
    nnlab.manual_seed(0)
    u = nnlab.rand(20000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.01
    z = nnlab.randn(20000).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03
    k = nnlab.randint(-2, 3, (20000,)).numpy()
    assert set(np.unique(k)) == {-2, -1, 0, 1, 2}
    n = nnlab.normal(3.0, 0.5, size=(20000,)).numpy()
    assert abs(n.mean() - 3.0) < 0.02 and abs(n.std() - 0.5) < 0.02
    m = nnlab.normal(nnlab.tensor([0.0, 100.0]), 1e-3).numpy()
    np.testing.assert_allclose(m, [0.0, 100.0], atol=0.01)


@pytest.mark.parametrize("draw", [
    lambda: nnlab.rand(5), lambda: nnlab.randn(2, 2), lambda: nnlab.randint(100, (4,)),
    lambda: nnlab.normal(0.0, 1.0, size=(3,)), lambda: nnlab.ones(4).normal_(),
    lambda: nnlab.ones(4).uniform_(-1, 1), lambda: nnlab.randn_like(nnlab.ones(3))])
def test_manual_seed_makes_draws_reproducible(draw):
    nnlab.manual_seed(123)
    first = draw().tolist()
    nnlab.manual_seed(123)
    assert draw().tolist() == first
    nnlab.manual_seed(124)
    assert draw().tolist() != first


def test_rng_state_round_trip():
    nnlab.manual_seed(7)
    state = nnlab.get_rng_state()
    a = nnlab.randn(3).tolist()
    nnlab.set_rng_state(state)
    assert nnlab.randn(3).tolist() == a


def test_normal_takes_the_dtype_of_a_tensor_mean():
    assert nnlab.normal(nnlab.zeros(2, dtype=nnlab.float64), 1.0).dtype == np.float64
    assert nnlab.normal(0.0, nnlab.ones(2)).dtype == np.float32


def test_set_default_dtype_changes_what_floats_become():
    nnlab.set_default_dtype(nnlab.float64)
    try:
        assert nnlab.tensor(3.0).dtype == np.float64 and nnlab.zeros(2).dtype == np.float64
        assert nnlab.arange(0.0, 1.0, 0.5).dtype == np.float64
        assert (nnlab.tensor([1, 2]) / 2).dtype == np.float64
        assert nnlab.get_default_dtype() == np.float64
    finally:
        nnlab.set_default_dtype(nnlab.float32)
    assert nnlab.tensor(3.0).dtype == np.float32
    with pytest.raises(TypeError, match="set_default_dtype: expected a floating dtype, got int64"):
        nnlab.set_default_dtype(nnlab.int64)


def test_randint_bad_arguments():
    with pytest.raises(TypeError, match="randint: expected randint"):
        nnlab.randint(5)


def test_unknown_dtype_name():
    with pytest.raises(TypeError, match="unknown dtype 'float8'"):
        nnlab.zeros(2, dtype="float8")


# -- *_like with dtype and device ---------------------------------------------------------
@requires_torch
@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like",
                                  "randn_like"])
@pytest.mark.parametrize("dtype", ["float64", "float16", None])
def test_like_factories_take_dtype_and_device(name, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(nnlab, dtype)}
    tkwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    ours = getattr(nnlab, name)(nnlab.zeros(2, 3), device="cpu", **kwargs)
    theirs = getattr(torch, name)(torch.zeros(2, 3), device="cpu", **tkwargs)
    assert_like_torch(ours, theirs, values=False)


# -- randperm, multinomial, bernoulli -------------------------------------------------------
@requires_torch
@pytest.mark.parametrize("n, dtype", [(0, None), (1, None), (10, None), (7, "float32"),
                                      (5, "int32")])
def test_randperm_is_a_permutation_as_torch(n, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(nnlab, dtype)}
    ours = nnlab.randperm(n, **kwargs)
    theirs = torch.randperm(n, **({} if dtype is None else {"dtype": getattr(torch, dtype)}))
    assert_like_torch(ours, theirs, values=False)
    assert sorted(ours.tolist()) == list(range(n))


@requires_torch
@pytest.mark.parametrize("ours, theirs, err, match", [
    (lambda: nnlab.randperm(-1), lambda: torch.randperm(-1), RuntimeError,
     "randperm: n must be a non-negative int, got -1"),
    (lambda: nnlab.randperm(3, dtype=nnlab.bool), lambda: torch.randperm(3, dtype=torch.bool),
     TypeError, "randperm: not implemented for dtype bool"),
], ids=["negative", "bool"])
def test_randperm_errors_as_torch(ours, theirs, err, match):
    with pytest.raises((RuntimeError, NotImplementedError)):
        theirs()
    with pytest.raises(err, match=match):
        ours()


MULTINOMIAL = [([1.0, 0.0, 2.0], 2, False), ([1.0, 0.0, 2.0], 5, True),
               ([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], 1, False), ([[1.0, 2.0], [3.0, 4.0]], 3, True),
               ([0.5, 0.5, 0.0, 1.0], 3, False), ([1.0, 0.0, 2.0], 3, False)]


@requires_torch
@pytest.mark.parametrize("weights, k, replacement", MULTINOMIAL, ids=str)
def test_multinomial_shape_dtype_and_support_as_torch(weights, k, replacement):
    ours = nnlab.multinomial(nnlab.tensor(weights), k, replacement)
    theirs = torch.multinomial(torch.tensor(weights), k, replacement)
    assert_like_torch(ours, theirs, values=False)
    w = np.asarray(weights).reshape(-1, np.shape(weights)[-1])
    rows = ours.numpy().reshape(len(w), k)
    for row, draws in zip(w, rows):
        allowed = k if replacement else int((row > 0).sum())   # weight 0 only once the
        assert np.all(row[draws[:allowed]] > 0)                # others are used up
        if not replacement:
            assert len(set(draws.tolist())) == k


def test_multinomial_frequencies():
    g = nnlab.Generator().manual_seed(0)
    w = np.array([1.0, 0.0, 3.0, 4.0])
    n = 40000
    counts = np.bincount(nnlab.multinomial(nnlab.tensor(w), n, True, generator=g).numpy(),
                         minlength=4)
    p = w / w.sum()
    assert np.all(np.abs(counts / n - p) < 6 * np.sqrt(p * (1 - p) / n) + 1e-12)
    # without replacement, the first draw follows w; the pair (first, second) follows
    # P(i) * P(j | not i)
    firsts = nnlab.multinomial(nnlab.tensor(np.tile(w, (n, 1))), 2, generator=g).numpy()
    f = np.bincount(firsts[:, 0], minlength=4) / n
    assert np.all(np.abs(f - p) < 6 * np.sqrt(p * (1 - p) / n) + 1e-12)
    q = p[3] * p[2] / (1 - p[3])   # P(first = 3, second = 2)
    got = np.mean((firsts[:, 0] == 3) & (firsts[:, 1] == 2))
    assert abs(got - q) < 6 * np.sqrt(q * (1 - q) / n)


@requires_torch
@pytest.mark.parametrize("weights, k, replacement, match", [
    ([1.0, 0.0, 2.0], 4, False, "cannot sample n_sample > prob_dist.size\\(-1\\) samples"),
    ([1.0, -1.0, 2.0], 1, True, "probability tensor contains either `inf`, `nan` or element"),
    ([1.0, float("nan")], 1, True, "probability tensor contains either `inf`, `nan`"),
    ([0.0, 0.0], 1, True, "invalid multinomial distribution \\(sum of probabilities <= 0\\)"),
    ([[[1.0]]], 1, True, "prob_dist must be 1 or 2 dim"),
    ([1.0, 2.0], 0, True, "cannot sample n_sample <= 0 samples"),
    ([1, 2], 1, True, "only floating-point dtypes are supported"),
])
def test_multinomial_errors_as_torch(weights, k, replacement, match):
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor(weights), k, replacement)
    with pytest.raises(RuntimeError, match=f"multinomial: {match}"):
        nnlab.multinomial(nnlab.tensor(weights), k, replacement)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bernoulli_as_torch(dtype):
    p = [0.0, 1.0, 1.0, 0.0]
    ours = nnlab.bernoulli(nnlab.tensor(p, dtype=getattr(nnlab, dtype)))
    theirs = torch.bernoulli(torch.tensor(p, dtype=getattr(torch, dtype)))
    assert_like_torch(ours, theirs)   # probabilities 0 and 1 fix the values
    assert_like_torch(nnlab.bernoulli(nnlab.zeros(3), 1.0), torch.bernoulli(torch.zeros(3), 1.0))
    g = nnlab.Generator().manual_seed(0)
    draws = nnlab.bernoulli(nnlab.full((40000,), 0.3), generator=g).numpy()
    assert set(np.unique(draws)) == {0.0, 1.0}
    assert abs(draws.mean() - 0.3) < 6 * np.sqrt(0.3 * 0.7 / 40000)


@requires_torch
@pytest.mark.parametrize("ours, theirs, err, match", [
    (lambda: nnlab.bernoulli(nnlab.tensor([0.5, 1.5])),
     lambda: torch.bernoulli(torch.tensor([0.5, 1.5])), RuntimeError,
     "bernoulli: expected 0 <= p <= 1"),
    (lambda: nnlab.bernoulli(nnlab.tensor([0, 1])), lambda: torch.bernoulli(torch.tensor([0, 1])),
     TypeError, "bernoulli: not implemented for dtype int64"),
], ids=["range", "int"])
def test_bernoulli_errors_as_torch(ours, theirs, err, match):
    with pytest.raises((RuntimeError, NotImplementedError)):
        theirs()
    with pytest.raises(err, match=match):
        ours()
