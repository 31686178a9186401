"""The extra functional surface against torch: activations (mish, hardswish, hardsigmoid,
relu6, selu, celu, logsigmoid, glu, softmin, threshold, tanhshrink, softshrink,
hardshrink, rrelu), normalize / cosine_similarity / pairwise_distance, pixel and channel
shuffles, instance_norm, local_response_norm, embedding_bag and the margin losses: values
and gradients in float64 and float32 (torch's gradient at kinks included), gradcheck +
gradgradcheck, and the random ones (rrelu in training, gumbel_softmax, alpha_dropout) by
their laws."""
import math

import numpy as np
import pytest

import nnlab
import nnlab.nn.functional as F
from tests.helpers import check_grad, check_op, randn, requires_torch, torch

pytestmark = requires_torch

TF = torch and torch.nn.functional

X = randn(3, 4, low=0.1) * 2
X3 = randn(2, 3, 4, seed=1, low=0.1) * 2
IMG = randn(2, 3, 2, 3, seed=2)
KINKS = np.array([-4.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0])
LARGE = np.array([-800.0, -30.0, -1.0, 0.0, 1.0, 30.0, 800.0])


def same(name, *args, **kwargs):
    """A case calling nn.functional.<name> and torch.nn.functional.<name> alike."""
    return (lambda *a: getattr(F, name)(*a, **kwargs),
            lambda *a: getattr(TF, name)(*a, **kwargs)) + args


class Const:
    """A float array passed as a constant (no gradient), in the first argument's dtype."""

    def __init__(self, value):
        self.value = value

    def nnlab(self, like):
        return nnlab.tensor(self.value.astype(like.dtype))

    def torch(self, like):
        return torch.tensor(self.value, dtype=like.dtype)


def constant_target(name, *args, **kwargs):
    """A loss case whose float target (the last argument) takes no gradient."""
    *inputs, target = args
    return (lambda *a: getattr(F, name)(*a[:-1], a[-1].nnlab(a[0]), **kwargs),
            lambda *a: getattr(TF, name)(*a[:-1], a[-1].torch(a[0]), **kwargs),
            *inputs, Const(target))


SIGNS = np.sign(randn(3, 4, seed=3))
LABELS = (randn(3, 4, seed=4) > 0).astype(float)
COUNTS = np.random.default_rng(5).integers(0, 5, (3, 4)).astype(float)
CLASSES = np.array([2, 0, 3])
MULTILABEL = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 0, 0, 0]])
A, P, N = randn(5, 4, seed=6), randn(5, 4, seed=7), randn(5, 4, seed=8)


def losses():
    """(id, nnlab fn, torch fn, args) for every margin loss and reduction."""
    cases = []
    for r in ("mean", "sum", "none"):
        cases += [
            (f"triplet_{r}", *same("triplet_margin_loss", A, P, N, reduction=r)),
            (f"triplet_swap_p1_{r}", *same("triplet_margin_loss", A, P, N, p=1, margin=0.5,
                                           swap=True, reduction=r)),
            (f"triplet_distance_{r}", *same("triplet_margin_with_distance_loss", A, P, N,
                                            reduction=r)),
            (f"hinge_embedding_{r}", *constant_target("hinge_embedding_loss", X, SIGNS,
                                                      margin=0.7, reduction=r)),
            (f"poisson_{r}", *constant_target("poisson_nll_loss", X, COUNTS, reduction=r)),
            (f"poisson_full_{r}", *constant_target("poisson_nll_loss", X, COUNTS, full=True,
                                                   reduction=r)),
            (f"poisson_rate_{r}", *constant_target("poisson_nll_loss", np.abs(X), COUNTS,
                                                   log_input=False, reduction=r)),
            (f"soft_margin_{r}", *constant_target("soft_margin_loss", X, SIGNS, reduction=r)),
            (f"multilabel_soft_{r}", *constant_target("multilabel_soft_margin_loss", X, LABELS,
                                                      reduction=r)),
            (f"multi_margin_{r}", *same("multi_margin_loss", X, CLASSES, reduction=r)),
            (f"multi_margin_p2_{r}", *same("multi_margin_loss", X, CLASSES, p=2, margin=0.6,
                                           reduction=r)),
            (f"multilabel_margin_{r}", *same("multilabel_margin_loss", X, MULTILABEL,
                                             reduction=r)),
        ]
    weight = np.array([0.5, 1.0, 2.0, 1.5])
    cases += [
        ("multilabel_soft_weight",
         lambda x, y, w: F.multilabel_soft_margin_loss(x, y.nnlab(x), w.nnlab(x)),
         lambda x, y, w: TF.multilabel_soft_margin_loss(x, y.torch(x), w.torch(x)),
         X, Const(LABELS), Const(weight)),
        ("multi_margin_weight", lambda x, y, w: F.multi_margin_loss(x, y, weight=w.nnlab(x)),
         lambda x, y, w: TF.multi_margin_loss(x, y, weight=w.torch(x)), X, CLASSES,
         Const(weight)),
        ("multi_margin_1d", *same("multi_margin_loss", X[0], np.array(1))),
        ("multilabel_margin_1d", *same("multilabel_margin_loss", X[1], MULTILABEL[1])),
        ("triplet_1d", *same("triplet_margin_loss", A[0], P[0], N[0])),
    ]
    return cases


CASES = [
    ("mish", *same("mish", X3)),
    ("mish_large", *same("mish", LARGE)),
    ("hardswish", *same("hardswish", X3)),
    ("hardswish_kinks", *same("hardswish", KINKS)),
    ("hardsigmoid", *same("hardsigmoid", X3)),
    ("hardsigmoid_kinks", *same("hardsigmoid", KINKS)),
    ("relu6", *same("relu6", X3 * 3)),
    ("relu6_kinks", *same("relu6", KINKS)),
    ("selu", *same("selu", X3)),
    ("selu_kinks", *same("selu", KINKS)),
    ("celu", *same("celu", X3)),
    ("celu_0.5", *same("celu", X3, alpha=0.5)),
    ("celu_kinks", *same("celu", KINKS, alpha=2.0)),
    ("logsigmoid", *same("logsigmoid", X3)),
    ("logsigmoid_large", *same("logsigmoid", LARGE)),
    ("glu_last", *same("glu", X)),
    ("glu_dim0", *same("glu", randn(4, 3, seed=9), dim=0)),
    ("softmin", *same("softmin", X, dim=1)),
    ("softmin_dim0", *same("softmin", X3, dim=0)),
    ("threshold", *same("threshold", X3, 0.3, -2.0)),
    ("threshold_kinks", *same("threshold", KINKS, 0.5, 20.0)),
    ("tanhshrink", *same("tanhshrink", X3)),
    ("softshrink", *same("softshrink", X3)),
    ("softshrink_kinks", *same("softshrink", KINKS, lambd=1.0)),
    ("hardshrink", *same("hardshrink", X3, lambd=0.8)),
    ("hardshrink_kinks", *same("hardshrink", KINKS, lambd=1.0)),
    ("rrelu_eval", *same("rrelu", X3)),
    ("rrelu_eval_bounds", *same("rrelu", X3, lower=0.1, upper=0.5)),
    ("normalize", *same("normalize", X)),
    ("normalize_p1_dim0", *same("normalize", X3, p=1.0, dim=0)),
    ("normalize_p3", *same("normalize", X3, p=3.0, dim=-1)),
    ("normalize_inf", *same("normalize", X, p=math.inf)),
    ("cosine_similarity", *same("cosine_similarity", X, randn(3, 4, seed=10))),
    ("cosine_similarity_dim", *same("cosine_similarity", X3, randn(2, 3, 4, seed=11), dim=-1)),
    ("cosine_similarity_broadcast", *same("cosine_similarity", X, randn(4, seed=12), dim=-1)),
    ("cosine_similarity_zero", *same("cosine_similarity", np.array([[0.0, 0.0], [1.0, 2.0]]),
                                     np.array([[1.0, 3.0], [0.5, -1.0]]))),
    ("pairwise_distance", *same("pairwise_distance", X, randn(3, 4, seed=13))),
    ("pairwise_distance_p1", *same("pairwise_distance", X, randn(3, 4, seed=13), p=1.0)),
    ("pairwise_distance_p3_keepdim", *same("pairwise_distance", X, randn(3, 4, seed=13),
                                           p=3.0, keepdim=True)),
    ("pairwise_distance_broadcast", *same("pairwise_distance", X, randn(4, seed=14))),
    ("pairwise_distance_1d", *same("pairwise_distance", randn(4, seed=15), randn(4, seed=16))),
    ("pixel_shuffle", *same("pixel_shuffle", randn(2, 8, 3, 2, seed=17), 2)),
    ("pixel_shuffle_3d", *same("pixel_shuffle", randn(9, 2, 3, seed=18), 3)),
    ("pixel_shuffle_5d", *same("pixel_shuffle", randn(2, 2, 4, 2, 3, seed=19), 2)),
    ("pixel_unshuffle", *same("pixel_unshuffle", randn(2, 3, 4, 6, seed=20), 2)),
    ("channel_shuffle", *same("channel_shuffle", randn(2, 6, 3, 2, seed=21), 3)),
    ("instance_norm", *same("instance_norm", IMG)),
    ("instance_norm_affine", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
     lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), IMG, randn(3, seed=22),
     randn(3, seed=23)),
    ("instance_norm_1d", *same("instance_norm", X3, eps=1e-3)),
    ("local_response_norm", *same("local_response_norm", IMG, 2)),
    ("local_response_norm_3d", *same("local_response_norm", X3 * 3, 3, alpha=0.5, beta=0.6,
                                     k=2.0)),
    ("local_response_norm_5d", *same("local_response_norm", randn(1, 5, 2, 1, 2, seed=24), 4,
                                     alpha=0.2)),
] + losses() + [
    (f"embedding_bag_{name}_{mode}", *same("embedding_bag", *args, mode=mode, **kwargs))
    for mode in ("sum", "mean", "max")
    for name, args, kwargs in [
        ("2d", (np.array([[1, 2, 4], [4, 3, 9]]), randn(10, 3, seed=30)), {}),
        ("offsets", (np.array([1, 2, 4, 5, 4, 3, 2, 9]), randn(10, 3, seed=31),
                     np.array([0, 4, 4])), {}),
        ("last_offset_padding", (np.array([1, 2, 4, 5, 4, 3, 2, 9]), randn(10, 3, seed=32),
                                 np.array([0, 2, 5, 8])),
         dict(include_last_offset=True, padding_idx=4)),
    ]
] + [
    ("embedding_bag_per_sample_weights",
     lambda i, w, p: F.embedding_bag(i, w, mode="sum", per_sample_weights=p, padding_idx=2),
     lambda i, w, p: TF.embedding_bag(i, w, mode="sum", per_sample_weights=p, padding_idx=2),
     np.array([[1, 2, 4], [4, 3, 9]]), randn(10, 3, seed=33), randn(2, 3, seed=34)),
]

NOT_GRADCHECKED = {"mish_large", "logsigmoid_large", "cosine_similarity_zero"} | {
    c[0] for c in CASES if "kinks" in c[0]}


# torch's hardsigmoid backward multiplies by 1/6 held as a float32 constant, so its float64
# gradient is off by ~3e-8 relative; nnlab's is exact in float64.
FLOAT64_RTOL = {"hardsigmoid": 1e-7, "hardsigmoid_kinks": 1e-7}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nn_fn, torch_fn, args, rtol64", [
    pytest.param(c[1], c[2], c[3:], FLOAT64_RTOL.get(c[0]), id=c[0]) for c in CASES])
def test_against_torch(nn_fn, torch_fn, args, rtol64, dtype):
    check_op(nn_fn, torch_fn, *args, dtype=dtype, rtol=rtol64 if dtype == np.float64 else None)


GRADCHECKED = [c for c in CASES if c[0] not in NOT_GRADCHECKED
               and not c[0].endswith(("_sum", "_none"))]


@pytest.mark.parametrize("nn_fn, args", [
    pytest.param(c[1], c[3:], id=c[0]) for c in GRADCHECKED])
def test_gradcheck(nn_fn, args):
    check_grad(nn_fn, *args)


def test_poisson_full_gradient_of_target_is_finite():
    """torch's gradient with respect to a target of 0 is nan (0 log 0 inside a masked
    term); nnlab keeps the masked term's log finite, so it is d/dy (-y x) = -x there."""
    x = nnlab.tensor(X, requires_grad=True)
    y = nnlab.tensor(COUNTS, requires_grad=True)
    F.poisson_nll_loss(x, y, full=True, reduction="sum").backward()
    grad = y.grad.numpy()
    assert np.isfinite(grad).all()
    small = COUNTS <= 1
    np.testing.assert_allclose(grad[small], -X[small])


# -- random functions -------------------------------------------------------------------
def test_rrelu_training_draws_slopes_in_range_and_is_its_own_gradient():
    nnlab.manual_seed(0)
    x = nnlab.tensor(randn(200, seed=25, low=0.01), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    xs, ys, g = x.detach().numpy(), y.detach().numpy(), x.grad.numpy()
    slopes = ys[xs < 0] / xs[xs < 0]
    assert (slopes >= 0.1).all() and (slopes <= 0.3).all() and slopes.std() > 0.03
    np.testing.assert_array_equal(ys[xs > 0], xs[xs > 0])
    np.testing.assert_allclose(g[xs < 0], slopes)
    np.testing.assert_array_equal(g[xs > 0], 1.0)


def test_rrelu_bounds_error():
    with pytest.raises(ValueError, match="rrelu: lower bound"):
        F.rrelu(nnlab.tensor(X), 0.5, 0.1)


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_gumbel_softmax_is_softmax_of_gumbel_perturbed_logits(dim):
    logits = nnlab.tensor(X, requires_grad=True)
    nnlab.manual_seed(3)
    y = F.gumbel_softmax(logits, tau=0.5, dim=dim)
    nnlab.manual_seed(3)
    g = -np.log(nnlab.backend.generator().standard_exponential(X.shape))
    expected = TF.softmax((torch.tensor(X) + torch.tensor(g)) / 0.5, dim=dim)
    np.testing.assert_allclose(y.detach().numpy(), expected.numpy(), rtol=1e-12)
    nnlab.manual_seed(3)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True, dim=dim)
    h = hard.detach().numpy()
    np.testing.assert_array_equal(h.sum(dim), 1.0)
    np.testing.assert_array_equal(h.argmax(dim), expected.numpy().argmax(dim))
    v = nnlab.tensor(randn(*X.shape, seed=26))
    (hard * v).sum().backward()
    hard_grad = logits.grad.numpy().copy()
    logits.grad = None
    (y * v).sum().backward()
    np.testing.assert_allclose(hard_grad, logits.grad.numpy(), rtol=1e-12)  # straight-through


def test_alpha_dropout_keeps_mean_and_variance_and_is_off_in_eval():
    nnlab.manual_seed(0)
    x = nnlab.tensor(np.random.default_rng(0).standard_normal(200_000), requires_grad=True)
    assert F.alpha_dropout(x, 0.3) is x                      # training=False by default
    y = F.alpha_dropout(x, 0.3, training=True)
    ys = y.detach().numpy()
    assert abs(ys.mean()) < 0.01 and abs(ys.std() - 1) < 0.01
    y.sum().backward()
    a = 1 / math.sqrt((1.7580993408473766 ** 2 * 0.3 + 1) * 0.7)
    kept = np.isclose(x.grad.numpy(), a)
    assert set(np.unique(x.grad.numpy()).round(12)) == {0.0, round(a, 12)}
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(ys[~kept], a * (-1.7580993408473766 + 1.7580993408473766 * 0.3))


def test_feature_alpha_dropout_drops_whole_channels():
    nnlab.manual_seed(1)
    x = nnlab.ones(4, 6, 5, dtype=nnlab.float64)
    y = F.feature_alpha_dropout(x, 0.5, training=True).numpy()
    assert (y == y[:, :, :1]).all() and len(np.unique(y)) == 2


# -- one_hot ----------------------------------------------------------------------------
@pytest.mark.parametrize("num_classes", [-1, 5])
def test_one_hot_as_torch(num_classes):
    t = np.array([[0, 3], [2, 1]])
    out = F.one_hot(nnlab.tensor(t), num_classes)
    expected = TF.one_hot(torch.tensor(t), num_classes).numpy()
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), expected)


@pytest.mark.parametrize("values, num_classes, match", [
    ([0, -1], -1, "non-negative"),
    ([0, 4], 3, "smaller than num_classes"),
    ([], -1, "empty tensor"),
])
def test_one_hot_errors(values, num_classes, match):
    with pytest.raises(RuntimeError, match=match):
        F.one_hot(nnlab.tensor(values, dtype=nnlab.int64), num_classes)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(nnlab.tensor([0.0, 1.0]))


# -- instance_norm's running statistics -------------------------------------------------
def test_instance_norm_updates_and_uses_running_stats_as_torch():
    mean, var = randn(3, seed=27), np.abs(randn(3, seed=28)) + 0.5
    rm, rv = nnlab.tensor(mean), nnlab.tensor(var)
    trm, trv = torch.tensor(mean), torch.tensor(var)
    out = F.instance_norm(nnlab.tensor(IMG), rm, rv, momentum=0.3)
    tout = TF.instance_norm(torch.tensor(IMG), trm, trv, momentum=0.3)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-12)
    out = F.instance_norm(nnlab.tensor(IMG), rm, rv, use_input_stats=False)
    tout = TF.instance_norm(torch.tensor(IMG), trm, trv, use_input_stats=False)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-10, atol=1e-12)


# -- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, match", [
    (lambda: F.glu(nnlab.tensor(randn(3, 5))), RuntimeError, "Halving dimension must be even"),
    (lambda: F.glu(nnlab.tensor(1.0)), RuntimeError, "scalars"),
    (lambda: F.softshrink(nnlab.tensor(X), -1.0), ValueError, "lambd must be greater"),
    (lambda: F.celu(nnlab.tensor(X), 0.0), ValueError, "alpha must not be 0"),
    (lambda: F.pixel_shuffle(nnlab.tensor(randn(5, 2, 2)), 2), RuntimeError,
     "divisible by the square of upscale_factor"),
    (lambda: F.pixel_shuffle(nnlab.tensor(randn(4, 2)), 2), RuntimeError, "at least 3"),
    (lambda: F.pixel_unshuffle(nnlab.tensor(randn(1, 4, 3)), 2), RuntimeError,
     "width to be divisible"),
    (lambda: F.channel_shuffle(nnlab.tensor(randn(1, 5, 2)), 2), RuntimeError,
     "divisible by groups"),
    (lambda: F.instance_norm(nnlab.tensor(randn(2, 3, 1))), ValueError,
     "more than 1 spatial element"),
    (lambda: F.instance_norm(nnlab.tensor(randn(2, 3))), ValueError, "at least one position"),
    (lambda: F.local_response_norm(nnlab.tensor(X), 2), ValueError, "3D or higher"),
    (lambda: F.normalize(nnlab.tensor(X), dim=2), IndexError, "out of range"),
    (lambda: F.cosine_similarity(nnlab.tensor(X), nnlab.tensor(randn(3, 5))), ValueError,
     "do not broadcast"),
    (lambda: F.multi_margin_loss(nnlab.tensor(X), nnlab.tensor(CLASSES), p=3), ValueError,
     "only p == 1 and p == 2"),
    (lambda: F.multi_margin_loss(nnlab.tensor(X), nnlab.tensor([0, 4, 1])), IndexError,
     "target out of range"),
    (lambda: F.multilabel_margin_loss(nnlab.tensor(X), nnlab.tensor(CLASSES)), ValueError,
     "same shape"),
    (lambda: F.triplet_margin_loss(nnlab.tensor(A), nnlab.tensor(P), nnlab.tensor(N[0])),
     RuntimeError, "same number of dimensions"),
    (lambda: F.soft_margin_loss(nnlab.tensor(X), nnlab.tensor(SIGNS), reduction="avg"),
     ValueError, "reduction='avg' is not valid"),
    (lambda: F.alpha_dropout(nnlab.tensor(X), 1.5, True), ValueError, "between 0 and 1"),
    (lambda: F.embedding_bag(nnlab.tensor([[0, 1]]), nnlab.ones(3, 2), nnlab.tensor([0])),
     ValueError, "offsets has to be None"),
    (lambda: F.embedding_bag(nnlab.tensor([0, 1]), nnlab.ones(3, 2), nnlab.tensor([1])),
     ValueError, "offsets.0. has to be 0"),
    (lambda: F.embedding_bag(nnlab.tensor([0, 1]), nnlab.ones(3, 2)), ValueError,
     "offsets has to be a 1D Tensor"),
    (lambda: F.embedding_bag(nnlab.tensor([[0, 1]]), nnlab.ones(3, 2), mode="mean",
                             per_sample_weights=nnlab.ones(1, 2)), NotImplementedError,
     "only supported for mode='sum'"),
    (lambda: F.embedding_bag(nnlab.tensor([[0, 3]]), nnlab.ones(3, 2)), IndexError,
     "out of range"),
    (lambda: F.embedding_bag(nnlab.tensor([[0, 1]]), nnlab.ones(3, 2), mode="min"), ValueError,
     "mode has to be one of"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("name, kwargs", [
    ("mish", {}), ("hardswish", {}), ("hardsigmoid", {}), ("relu6", {}), ("selu", {}),
    ("celu", dict(alpha=0.5)), ("threshold", dict(threshold=0.1, value=-1.0)),
    ("rrelu", {}),
])
def test_inplace_writes_the_result_into_the_input_with_the_same_gradient(name, kwargs):
    x = nnlab.tensor(X3, requires_grad=True)
    expected = getattr(F, name)(x, **kwargs)
    y = x * 1
    out = getattr(F, name)(y, inplace=True, **kwargs)
    assert out is y
    np.testing.assert_array_equal(y.detach().numpy(), expected.detach().numpy())
    (out * nnlab.tensor(X3)).sum().backward()
    grad = x.grad.numpy().copy()
    x.grad = None
    (expected * nnlab.tensor(X3)).sum().backward()
    np.testing.assert_array_equal(grad, x.grad.numpy())
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(F, name)(nnlab.tensor(X3, requires_grad=True), inplace=True, **kwargs)
