"""models.SemiSupervisedVAE (M2) and SemiSupervisedLoss: the bounds against numpy, the
unlabelled bound against a loop over labels, gradcheck, training, clear errors."""
import math

import numpy as np
import pytest

import nnlab
from nnlab import optim
from nnlab.autograd import gradcheck
from nnlab.models import SemiSupervisedLoss, SemiSupervisedVAE

D, H, L, C = 4, 3, 2, 3     # pixels, hidden units, latent dims, classes


def _tiny():
    nnlab.manual_seed(0)
    return SemiSupervisedVAE(D, H, L, C, classifier_hidden=5).double()


def _images(n, seed=0):
    return np.random.default_rng(seed).random((n, D))


def _eps(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def _relu(a):
    return np.maximum(a, 0)


def _numpy_bound(p, x, y, eps):
    """L(x, y) by hand, (N,): -log p(x | y, z) + KL + log C, one z = mu + sigma eps."""
    onehot = np.eye(C)[y]
    h = _relu(x @ p["encoder_x.weight"].T + p["encoder_x.bias"] + onehot @ p["encoder_y.weight"].T)
    mu = h @ p["mu.weight"].T + p["mu.bias"]
    logvar = h @ p["logvar.weight"].T + p["logvar.bias"]
    z = mu + np.exp(logvar / 2) * eps
    g = _relu(z @ p["decoder_z.weight"].T + p["decoder_z.bias"] + onehot @ p["decoder_y.weight"].T)
    logits = g @ p["decoder_out.weight"].T + p["decoder_out.bias"]
    nll = (np.logaddexp(0, logits) - x * logits).sum(1)          # Bernoulli -log p(x | y, z)
    kl = -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).sum(1)
    return nll + kl + math.log(C)


def _numpy_logits(p, x):
    h = _relu(x @ p["classifier.0.weight"].T + p["classifier.0.bias"])
    return h @ p["classifier.3.weight"].T + p["classifier.3.bias"]


def _log_softmax(a):
    a = a - a.max(1, keepdims=True)
    return a - np.log(np.exp(a).sum(1, keepdims=True))


def _params(model):
    return {k: v.numpy() for k, v in model.state_dict().items()}


def test_labelled_and_unlabelled_bounds_equal_a_hand_computation():
    model = _tiny()
    p = _params(model)
    x, y, eps = _images(5), np.array([0, 2, 1, 1, 0]), _eps(5, L)
    got = model.labelled_bound(nnlab.tensor(x), nnlab.tensor(y), eps=nnlab.tensor(eps))
    np.testing.assert_allclose(got.detach().numpy(), _numpy_bound(p, x, y, eps), rtol=1e-12)
    # U(x) = sum_y q(y | x) L(x, y) - H(q(y | x)), each y with its own eps
    eps_u = _eps(5, C, L, seed=2)
    table = np.stack([_numpy_bound(p, x, np.full(5, k), eps_u[:, k]) for k in range(C)], 1)
    log_q = _log_softmax(_numpy_logits(p, x))
    q = np.exp(log_q)
    expected = (q * table).sum(1) + (q * log_q).sum(1)
    got = model.unlabelled_bound(nnlab.tensor(x), eps=nnlab.tensor(eps_u))
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-12)
    assert got.shape == (5,) and (got.detach().numpy() > 0).all()


def test_the_table_over_labels_equals_a_loop_over_labels():
    model = _tiny()
    x, eps = nnlab.tensor(_images(4)), _eps(4, C, L)
    table = model.bound_table(x, eps=nnlab.tensor(eps))
    assert table.shape == (4, C)
    for k in range(C):
        column = model.labelled_bound(x, nnlab.tensor(np.full(4, k)), eps=nnlab.tensor(eps[:, k]))
        np.testing.assert_allclose(table.detach().numpy()[:, k], column.detach().numpy(),
                                   rtol=1e-12)


def test_the_loss_is_labelled_plus_unlabelled_plus_alpha_cross_entropy():
    model = _tiny()
    p = _params(model)
    x_l, y_l, x_u = _images(3, seed=5), np.array([2, 0, 1]), _images(4, seed=6)
    eps_l, eps_u = _eps(3, L, seed=7), _eps(4, C, L, seed=8)
    output = model(nnlab.tensor(x_l), nnlab.tensor(y_l), nnlab.tensor(x_u),
                   eps_l=nnlab.tensor(eps_l), eps_u=nnlab.tensor(eps_u))
    loss, labelled, unlabelled, ce = SemiSupervisedLoss(alpha=2.5).terms(output, nnlab.tensor(y_l))
    log_q_u = _log_softmax(_numpy_logits(p, x_u))
    table = np.stack([_numpy_bound(p, x_u, np.full(4, k), eps_u[:, k]) for k in range(C)], 1)
    u = (np.exp(log_q_u) * (table + log_q_u)).sum(1).mean()
    lab = _numpy_bound(p, x_l, y_l, eps_l).mean()
    cross = -_log_softmax(_numpy_logits(p, x_l))[np.arange(3), y_l].mean()
    np.testing.assert_allclose([labelled.item(), unlabelled.item(), ce.item()], [lab, u, cross],
                               rtol=1e-12)
    np.testing.assert_allclose(loss.item(), lab + u + 2.5 * cross, rtol=1e-12)


def test_the_loss_passes_gradcheck_in_float64():
    model = _tiny()
    x_l, y_l = nnlab.tensor(_images(2, seed=3)), nnlab.tensor(np.array([1, 2]))
    x_u = nnlab.tensor(_images(2, seed=4), requires_grad=True)
    eps_l, eps_u = nnlab.tensor(_eps(2, L, seed=5)), nnlab.tensor(_eps(2, C, L, seed=6))
    loss_fn = SemiSupervisedLoss(alpha=0.7)
    params = tuple(model.parameters())

    def f(x_u, *_):     # the parameters are perturbed in place, so f reads them from model
        return loss_fn(model(x_l, y_l, x_u, eps_l=eps_l, eps_u=eps_u), y_l)

    assert gradcheck(f, (x_u, *params), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_a_few_steps_reduce_the_loss_and_dropout_only_in_training():
    nnlab.manual_seed(0)
    model = SemiSupervisedVAE(16, 8, 2, C, classifier_dropout=0.5)
    rng = np.random.default_rng(0)
    x_l = nnlab.tensor((rng.random((6, 16)) < 0.3).astype(np.float32))
    y_l = nnlab.tensor(np.array([0, 1, 2, 0, 1, 2]))
    x_u = nnlab.tensor((rng.random((12, 16)) < 0.3).astype(np.float32))
    eps_l, eps_u = (nnlab.tensor(e.astype(np.float32)) for e in (_eps(6, 2), _eps(12, C, 2)))
    loss_fn, optimizer = SemiSupervisedLoss(alpha=1.0), optim.Adam(model.parameters(), lr=1e-2)

    def loss():
        model.eval()        # no dropout: the same loss for the same weights
        with nnlab.no_grad():
            return loss_fn(model(x_l, y_l, x_u, eps_l=eps_l, eps_u=eps_u), y_l).item()

    before = loss()
    model.train()
    for _ in range(30):
        optimizer.zero_grad()
        loss_fn(model(x_l, y_l, x_u, eps_l=eps_l, eps_u=eps_u), y_l).backward()
        optimizer.step()
    after = loss()
    assert after < 0.8 * before, (before, after)
    model.eval()
    assert model.classify(x_l).shape == (6, C)
    first, second = (model.classify(x_l).detach().numpy() for _ in range(2))
    np.testing.assert_array_equal(first, second)
    model.train()
    first, second = (model.classify(x_l).detach().numpy() for _ in range(2))
    assert not np.array_equal(first, second)
    assert model.sample(nnlab.tensor(np.array([0, 2]))).shape == (2, 16)


def test_clear_errors_for_bad_input():
    model = _tiny()
    x = nnlab.tensor(_images(3))
    with pytest.raises(ValueError, match=r"SemiSupervisedVAE\(in_features=4\): x must be "
                       r"\(N, 4\).*got shape \(3, 5\)"):
        model.classify(nnlab.tensor(np.zeros((3, 5))))
    with pytest.raises(ValueError, match=r"labels must be integer class indices of shape "
                       r"\(3,\).*got float64 \(3,\)"):
        model.labelled_bound(x, nnlab.tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"labels must be integer class indices of shape "
                       r"\(3,\).*\(2,\)"):
        model.labelled_bound(x, nnlab.tensor(np.array([0, 1])))
    with pytest.raises(ValueError, match=r"num_classes=3\): labels must lie in \[0, 2\], got "
                       r"values from 0 to 3"):
        model.labelled_bound(x, nnlab.tensor(np.array([0, 3, 1])))
    with pytest.raises(ValueError, match=r"eps must be \(3, 3, 2\).*got \(3, 2\)"):
        model.bound_table(x, eps=nnlab.tensor(_eps(3, L)))
    with pytest.raises(ValueError, match="expected a SemiSupervisedVAE's output"):
        SemiSupervisedLoss(1.0)(x, nnlab.tensor(np.array([0, 1, 2])))
