"""Optimisers against torch.optim: the same parameters and the same least-squares loss in
both libraries, parameters compared after each of 20 steps; state_dict round trips."""
import numpy as np
import pytest

import nnlab
from nnlab import optim
from nnlab.nn import Parameter
from tests.helpers import requires_torch, torch

STEPS = 20
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-6)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.0)),
    ("AdamW", dict(lr=0.05, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1, eps=1e-3)),
]


def _problem(dtype, seed=0):
    """Initial weight (3, 4), bias (3,) and a batch (x, y) for a least-squares loss."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((3, 4)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    x = rng.standard_normal((16, 4)).astype(dtype)
    y = rng.standard_normal((16, 3)).astype(dtype)
    return w, b, x, y


def _loss(lib, params, x, y):
    w, b = params
    return ((x @ w.T + b - y) ** 2).mean()


class _Run:
    """One library's side: parameters, optimizer, and a step on the least-squares loss."""

    def __init__(self, lib, name, groups, arrays, x, y):
        if lib is nnlab:
            self.params = [Parameter(nnlab.tensor(a.copy())) for a in arrays]
            self.x, self.y = nnlab.tensor(x), nnlab.tensor(y)
            cls = getattr(optim, name)
        else:
            self.params = [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays]
            self.x, self.y = torch.tensor(x), torch.tensor(y)
            cls = getattr(torch.optim, name)
        self.lib = lib
        if isinstance(groups, dict):
            self.opt = cls(self.params, **groups)
        else:
            defaults, per_group = groups
            self.opt = cls([dict(params=[p], **g) for p, g in zip(self.params, per_group)],
                           **defaults)

    def step(self):
        self.opt.zero_grad()
        _loss(self.lib, self.params, self.x, self.y).backward()
        self.opt.step()

    def values(self):
        return [p.detach().numpy().copy() for p in self.params]


def _state_arrays(opt, params):
    return [{k: np.asarray(v.numpy() if hasattr(v, "numpy") else v)
             for k, v in opt.state[p].items()} for p in params]


def _compare_runs(name, groups, dtype, steps=STEPS, state=False):
    """Both libraries' runs, parameters (and with `state`, every state value, key order and
    dtype) compared after each step; returns (ours, theirs)."""
    w, b, x, y = _problem(dtype)
    ours = _Run(nnlab, name, groups, [w, b], x, y)
    theirs = _Run(torch, name, groups, [w, b], x, y)
    for step in range(steps):
        ours.step()
        theirs.step()
        for k, (a, t) in enumerate(zip(ours.values(), theirs.values())):
            assert a.dtype == t.dtype == dtype
            np.testing.assert_allclose(a, t, **TOL[dtype],
                                       err_msg=f"{name}: parameter {k} after step {step + 1}")
        if not state:
            continue
        mine = _state_arrays(ours.opt, ours.params)
        for s, ts in zip(mine, _state_arrays(theirs.opt, theirs.params)):
            assert list(s) == list(ts)
            for key in s:
                assert s[key].dtype == ts[key].dtype, key
                np.testing.assert_allclose(s[key], ts[key], **TOL[dtype],
                                           err_msg=f"{name}: state {key} after step {step + 1}")
    assert not np.allclose(ours.values()[0], w)
    return ours, theirs


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda c: str(c) if isinstance(c, str)
                         else ",".join(f"{k}={v}" for k, v in c.items()) or "defaults")
def test_matches_torch(name, kwargs, dtype):
    _compare_runs(name, kwargs, dtype)


GROUP_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9), [dict(lr=0.1), dict(momentum=0.5, nesterov=True)]),
    ("Adam", dict(lr=0.05), [dict(lr=0.01, amsgrad=True), dict(betas=(0.8, 0.99))]),
    ("AdamW", dict(lr=0.05), [dict(weight_decay=0.5), dict(lr=0.2)]),
    ("RMSprop", dict(lr=0.01), [dict(centered=True), dict(lr=0.02, momentum=0.9)]),
    ("Adagrad", dict(lr=0.1), [dict(lr=0.3, lr_decay=0.01), dict(weight_decay=0.1)]),
]


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,defaults,per_group", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_param_groups_match_torch(name, defaults, per_group, dtype):
    _compare_runs(name, (defaults, per_group), dtype)


def _make(name, kwargs, arrays, x, y):
    return _Run(nnlab, name, kwargs, arrays, x, y)


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
])
def test_state_dict_round_trip(name, kwargs):
    w, b, x, y = _problem(np.float32)
    straight = _make(name, kwargs, [w, b], x, y)
    first = _make(name, kwargs, [w, b], x, y)
    for _ in range(10):
        straight.step()
        first.step()
    saved = first.opt.state_dict()
    assert set(saved) == {"state", "param_groups"}
    assert sorted(saved["state"]) == [0, 1]
    assert saved["param_groups"][0]["params"] == [0, 1]
    first.step()  # later steps must not change the saved snapshot
    resumed = _make(name, kwargs, straight.values(), x, y)
    resumed.opt.load_state_dict(saved)
    for _ in range(10):
        straight.step()
        resumed.step()
    for a, r in zip(straight.values(), resumed.values()):
        np.testing.assert_array_equal(a, r)


@requires_torch
@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)),
    ("Adagrad", dict(lr=0.1)),
])
def test_state_dict_format_is_torchs(name, kwargs):
    """Same state keys, array shapes and group keys as torch; torch's dict loads here."""
    w, b, x, y = _problem(np.float64)
    ours = _Run(nnlab, name, kwargs, [w, b], x, y)
    theirs = _Run(torch, name, kwargs, [w, b], x, y)
    for _ in range(5):
        ours.step()
        theirs.step()
    sd, tsd = ours.opt.state_dict(), theirs.opt.state_dict()
    assert sd["state"].keys() == tsd["state"].keys()
    for k in sd["state"]:
        assert sd["state"][k].keys() == tsd["state"][k].keys()
        for key, v in sd["state"][k].items():
            np.testing.assert_allclose(v, tsd["state"][k][key].numpy(), rtol=1e-12)
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert set(g) <= set(tg)
        assert all(g[k] == tg[k] for k in g)
    loaded = _Run(nnlab, name, kwargs, theirs.values(), x, y)
    loaded.opt.load_state_dict(tsd)
    for _ in range(5):
        loaded.step()
        theirs.step()
    for a, t in zip(loaded.values(), theirs.values()):
        np.testing.assert_allclose(a, t, rtol=1e-12)


def _param(*shape):
    return Parameter(nnlab.tensor(np.ones(shape, np.float32)))


def test_step_bumps_version_so_stale_backward_errors():
    p = _param(3)
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    loss = (p * p).sum()      # saved the old p
    opt.step()
    assert p._version == 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_float32_stays_float32_and_no_grad_skipped():
    p, q = _param(2, 2), _param(3)
    opt = optim.Adam([p, q], lr=0.1)
    (p.sum() * 2).backward()
    opt.step()
    assert p.dtype == np.float32 and all(v.dtype == np.float32 for v in opt.state[p].values())
    np.testing.assert_allclose(q.detach().numpy(), 1.0)   # no grad: untouched, no state
    assert q not in opt.state and list(opt.state_dict()["state"]) == [0]


def test_zero_grad():
    p = _param(3)
    opt = optim.SGD([p])
    (p * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), 0)
    opt.zero_grad()
    assert p.grad is None


def test_closure_returns_loss():
    p = _param(3)
    opt = optim.SGD([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with nnlab.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 3.0
    np.testing.assert_allclose(p.detach().numpy(), 0.0)


def test_add_param_group_and_named_params():
    p, q = _param(2), _param(3)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": q, "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["momentum"] == 0.9
    named = optim.Adam([("a", p), ("b", q)])
    assert named.param_groups[0]["param_names"] == ["a", "b"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]
    assert "Parameter Group 1" in repr(opt) and "lr: 0.01" in repr(opt)


@pytest.mark.parametrize("make,match", [
    (lambda p: optim.SGD(p, lr=-0.1), r"SGD: invalid learning rate lr=-0\.1"),
    (lambda p: optim.SGD(p, momentum=-1), r"SGD: invalid momentum=-1"),
    (lambda p: optim.SGD(p, nesterov=True), r"SGD: nesterov=True requires momentum > 0"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True),
     r"dampening == 0 \(got momentum=0\.9, dampening=0\.1\)"),
    (lambda p: optim.Adam(p, lr=-1.0), r"Adam: invalid learning rate lr=-1\.0"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"Adam: invalid beta parameter at index 0"),
    (lambda p: optim.AdamW(p, betas=(0.9, -0.1)), r"AdamW: invalid beta parameter at index 1"),
    (lambda p: optim.Adam(p, eps=-1e-8), r"Adam: invalid epsilon"),
    (lambda p: optim.AdamW(p, weight_decay=-1), r"AdamW: invalid weight_decay=-1"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), r"RMSprop: invalid alpha=-0\.5"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), r"Adagrad: invalid lr_decay=-1"),
    (lambda p: optim.SGD([]), "empty parameter list"),
    (lambda p: optim.SGD(p + p), "same parameter twice"),
    (lambda p: optim.SGD([{"params": p}, {"params": p}]), "more than one parameter group"),
    (lambda p: optim.SGD([p[0] * 2]), "non-leaf"),
])
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make([_param(2)])


def test_type_errors():
    p = _param(2)
    with pytest.raises(TypeError, match="got a Tensor"):
        optim.SGD(p)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD({p})
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([p, 3])


def test_load_state_dict_mismatch():
    opt = optim.Adam([_param(2)])
    with pytest.raises(ValueError, match="1 parameters in the state dict, 2 in this"):
        optim.Adam([_param(2), _param(3)]).load_state_dict(opt.state_dict())
    two = optim.SGD([{"params": [_param(1)]}, {"params": [_param(1)]}])
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer has 1"):
        optim.SGD([_param(1)]).load_state_dict(two.state_dict())


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, maximize=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adadelta", dict(weight_decay=0.1)),
    ("Adamax", dict(lr=0.05, maximize=True)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.5))),
    ("ASGD", dict(lr=0.05, t0=1)),
    ("Rprop", dict(lr=0.05)),
])
def test_large_parameters_in_pieces_equal_one_call(name, kwargs, threads):
    """A parameter above 2 * PIECE elements is updated in pieces (on threads): the result
    is bitwise that of the rule on the whole array (here: small copies driven alike)."""
    from nnlab.optim import optimizer as base
    rng = np.random.default_rng(1)
    shape = (3, base.PIECE + 77)
    w = rng.standard_normal(shape).astype(np.float32)
    big, ref = Parameter(nnlab.tensor(w.copy())), Parameter(nnlab.tensor(w.copy()))
    opt_big, opt_ref = getattr(optim, name)([big], **kwargs), getattr(optim, name)([ref], **kwargs)
    before = nnlab.get_num_threads()
    nnlab.set_num_threads(threads)
    try:
        for _ in range(3):
            g = rng.standard_normal(shape).astype(np.float32)
            big.grad, ref.grad = nnlab.tensor(g), nnlab.tensor(g.copy())
            opt_big.step()
            piece, base.PIECE = base.PIECE, 1 << 30   # the reference: one call
            try:
                opt_ref.step()
            finally:
                base.PIECE = piece
    finally:
        nnlab.set_num_threads(before)
    np.testing.assert_array_equal(big.detach().numpy(), ref.detach().numpy())
    for key, value in opt_ref.state[ref].items():
        np.testing.assert_array_equal(opt_big.state[big][key], value)
