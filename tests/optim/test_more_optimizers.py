"""Adadelta, Adamax, NAdam, RAdam, ASGD and Rprop against torch.optim: the same parameters
and least-squares loss in both libraries, parameters and state compared after each of 15
steps; state_dict format and round trips; torch's argument checks."""
import numpy as np
import pytest

import nnlab
from nnlab import optim
from nnlab.nn import Parameter
from tests.helpers import requires_torch, torch
from tests.optim.test_optimizers import TOL, _problem, _Run, _state_arrays
from tests.optim.test_optimizers import _compare_runs as compare_runs

STEPS = 15

CASES = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5)),
    ("Adadelta", dict(weight_decay=0.1, eps=1e-4)),
    ("Adadelta", dict(maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.5, 0.9))),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, eps=1e-3)),
    ("Adamax", dict(lr=0.05, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, momentum_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-4, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9))),   # rho_t passes 5 at step 6
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.5))),   # rho_inf = 3: never rectified
    ("RAdam", dict(lr=0.05, weight_decay=0.1, betas=(0.9, 0.9))),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05, maximize=True, betas=(0.9, 0.9))),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5)),
    ("ASGD", dict(lr=0.05, t0=5)),                # averaging starts at step 6
    ("ASGD", dict(lr=0.05, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=2, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.1, etas=(0.3, 1.5))),
    ("Rprop", dict(lr=0.1, step_sizes=(0.01, 0.2))),
    ("Rprop", dict(lr=0.05, maximize=True)),
]


def _compare_runs(name, groups, dtype, steps=STEPS):
    return compare_runs(name, groups, dtype, steps=steps, state=True)


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda c: str(c) if isinstance(c, str)
                         else ",".join(f"{k}={v}" for k, v in c.items()) or "defaults")
def test_matches_torch(name, kwargs, dtype):
    _compare_runs(name, kwargs, dtype)


GROUP_CASES = [
    ("Adadelta", dict(lr=0.5), [dict(rho=0.5), dict(lr=1.0, weight_decay=0.1)]),
    ("Adamax", dict(lr=0.05), [dict(betas=(0.8, 0.99)), dict(lr=0.01, maximize=True)]),
    ("NAdam", dict(lr=0.05), [dict(momentum_decay=0.1), dict(weight_decay=0.1,
                                                              decoupled_weight_decay=True)]),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9)), [dict(lr=0.01), dict(weight_decay=0.1)]),
    ("ASGD", dict(lr=0.05), [dict(t0=3), dict(lambd=0.1, alpha=1.0)]),
    ("Rprop", dict(lr=0.05), [dict(etas=(0.4, 1.1)), dict(step_sizes=(1e-3, 0.1))]),
]


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,defaults,per_group", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_param_groups_match_torch(name, defaults, per_group, dtype):
    _compare_runs(name, (defaults, per_group), dtype, steps=10)


STATE_CASES = [
    ("Adadelta", dict(weight_decay=0.1)),
    ("Adamax", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, decoupled_weight_decay=True, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9))),
    ("ASGD", dict(lr=0.05, t0=3)),
    ("Rprop", dict(lr=0.05)),
]


@pytest.mark.parametrize("name,kwargs", STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_state_dict_round_trip(name, kwargs):
    w, b, x, y = _problem(np.float32)
    straight = _Run(nnlab, name, kwargs, [w, b], x, y)
    first = _Run(nnlab, name, kwargs, [w, b], x, y)
    for _ in range(8):
        straight.step()
        first.step()
    saved = first.opt.state_dict()
    assert set(saved) == {"state", "param_groups"} and sorted(saved["state"]) == [0, 1]
    before = {k: v.copy() for k, v in saved["state"][0].items()}
    first.step()   # later steps must not change the saved snapshot
    for k, v in before.items():
        np.testing.assert_array_equal(saved["state"][0][k], v)
    resumed = _Run(nnlab, name, kwargs, straight.values(), x, y)
    resumed.opt.load_state_dict(saved)
    for _ in range(8):
        straight.step()
        resumed.step()
    for a, r in zip(straight.values(), resumed.values()):
        np.testing.assert_array_equal(a, r)


@requires_torch
@pytest.mark.parametrize("name,kwargs", STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_state_dict_format_is_torchs(name, kwargs):
    """Same group keys and values, state keys, dtypes and values as torch; torch's state
    dict loads here and the runs go on together (float32 scalars stay float32)."""
    w, b, x, y = _problem(np.float64)
    ours, theirs = _compare_runs(name, kwargs, np.float64, steps=5)
    sd, tsd = ours.opt.state_dict(), theirs.opt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert sd["state"].keys() == tsd["state"].keys()
    for k in sd["state"]:
        assert list(sd["state"][k]) == list(tsd["state"][k])
        for key, v in sd["state"][k].items():
            assert v.dtype == tsd["state"][k][key].numpy().dtype
            np.testing.assert_allclose(v, tsd["state"][k][key].numpy(), **TOL[np.float64])
    loaded = _Run(nnlab, name, kwargs, theirs.values(), x, y)
    loaded.opt.load_state_dict(tsd)
    for _ in range(5):
        loaded.step()
        theirs.step()
    for a, t in zip(loaded.values(), theirs.values()):
        np.testing.assert_allclose(a, t, **TOL[np.float64])
    for s, ts in zip(_state_arrays(loaded.opt, loaded.params),
                     _state_arrays(theirs.opt, theirs.params)):
        assert all(s[key].dtype == ts[key].dtype for key in ts)


@requires_torch
@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_defaults_and_group_keys_are_torchs(name):
    ours = getattr(optim, name)([Parameter(nnlab.tensor(np.ones(2)))])
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))])
    assert ({k: v for k, v in ours.param_groups[0].items() if k != "params"}
            == {k: v for k, v in theirs.param_groups[0].items() if k != "params"})


def test_float32_stays_float32_and_no_grad_skipped():
    p, q = (Parameter(nnlab.tensor(np.ones(s, np.float32))) for s in ((2, 2), (3,)))
    for name in ("Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"):
        p.grad = None
        opt = getattr(optim, name)([p, q])
        (p.sum() * 2).backward()
        opt.step()
        assert p.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[p].values()), name
        assert q not in opt.state and list(opt.state_dict()["state"]) == [0]
    np.testing.assert_array_equal(q.detach().numpy(), 1.0)


def _param():
    return Parameter(nnlab.tensor(np.ones(2, np.float32)))


@pytest.mark.parametrize("make,match", [
    (lambda p: optim.Adadelta(p, lr=-0.1), r"Adadelta: invalid learning rate lr=-0\.1"),
    (lambda p: optim.Adadelta(p, rho=1.5), r"Adadelta: invalid rho=1\.5"),
    (lambda p: optim.Adadelta(p, eps=-1), r"Adadelta: invalid epsilon eps=-1"),
    (lambda p: optim.Adadelta(p, weight_decay=-1), r"Adadelta: invalid weight_decay=-1"),
    (lambda p: optim.Adamax(p, lr=-1), r"Adamax: invalid learning rate lr=-1"),
    (lambda p: optim.Adamax(p, betas=(1.0, 0.9)), r"Adamax: invalid beta parameter at index 0"),
    (lambda p: optim.Adamax(p, eps=-1e-8), r"Adamax: invalid epsilon"),
    (lambda p: optim.NAdam(p, betas=(0.9, -0.1)), r"NAdam: invalid beta parameter at index 1"),
    (lambda p: optim.NAdam(p, momentum_decay=-1), r"NAdam: invalid momentum_decay=-1"),
    (lambda p: optim.NAdam(p, weight_decay=-1), r"NAdam: invalid weight_decay=-1"),
    (lambda p: optim.RAdam(p, lr=-1e-3), r"RAdam: invalid learning rate"),
    (lambda p: optim.RAdam(p, betas=(0.9, 1.0)), r"RAdam: invalid beta parameter at index 1"),
    (lambda p: optim.ASGD(p, lr=-1), r"ASGD: invalid learning rate lr=-1"),
    (lambda p: optim.ASGD(p, weight_decay=-0.5), r"ASGD: invalid weight_decay=-0\.5"),
    (lambda p: optim.Rprop(p, lr=-1), r"Rprop: invalid learning rate lr=-1"),
    (lambda p: optim.Rprop(p, etas=(1.2, 0.5)), r"Rprop: invalid etas=\(1\.2, 0\.5\)"),
    (lambda p: optim.Rprop(p, etas=(0.5, 1.0)), r"expected 0 < etaminus < 1 < etaplus"),
    (lambda p: optim.Rprop(p, step_sizes=(1.0, 0.1)), r"Rprop: invalid step_sizes"),
])
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make([_param()])


@requires_torch
@pytest.mark.parametrize("make", [
    lambda lib, p: lib.Adadelta(p, rho=1.5), lambda lib, p: lib.Adamax(p, betas=(1.0, 0.9)),
    lambda lib, p: lib.NAdam(p, momentum_decay=-1), lambda lib, p: lib.RAdam(p, eps=-1),
    lambda lib, p: lib.ASGD(p, lr=-1), lambda lib, p: lib.Rprop(p, etas=(0.5, 1.0)),
])
def test_rejects_what_torch_rejects(make):
    with pytest.raises(ValueError):
        make(torch.optim, [torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(ValueError):
        make(optim, [_param()])


@requires_torch
@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop",
                                  "LBFGS"])
def test_signature_is_torchs(name):
    """Argument names, order, kinds (positional or keyword-only) and defaults."""
    import inspect

    def spec(cls):
        return [(p.name, p.kind, p.default)
                for p in inspect.signature(cls.__init__).parameters.values()]
    assert spec(getattr(optim, name)) == spec(getattr(torch.optim, name))
