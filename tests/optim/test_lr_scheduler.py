"""Learning-rate schedulers against torch.optim.lr_scheduler: the same lr sequences (to the
last bit) over 40 steps, with an SGD optimizer of two param groups in both libraries."""
import math
import warnings

import numpy as np
import pytest

import nnlab
from nnlab import optim
from nnlab.nn import Parameter
from nnlab.optim import lr_scheduler as nn_sched
from tests.helpers import requires_torch, torch

STEPS = 40
LRS = (0.1, 0.05)


def _optimizer(lib, cls="SGD", **kwargs):
    if lib is nnlab:
        params = [Parameter(nnlab.tensor(np.ones(2, np.float32))) for _ in LRS]
        opt_cls = getattr(optim, cls)
    else:
        params = [torch.nn.Parameter(torch.ones(2)) for _ in LRS]
        opt_cls = getattr(torch.optim, cls)
    return opt_cls([{"params": [p], "lr": lr} for p, lr in zip(params, LRS)], **kwargs)


def _run(lib, make, steps=STEPS, metrics=None, keys=("lr",)):
    """Build optimizer and scheduler, then step both `steps` times; the per-step values of
    group[key] for each key, and get_last_lr()."""
    opt = _optimizer(lib, *make.get("opt", ("SGD",)), **make.get("opt_kwargs", {}))
    sched = make["sched"](lib.optim.lr_scheduler if lib is torch else nn_sched, opt)
    seq = []
    for t in range(steps):
        row = [g[k] for k in keys for g in opt.param_groups]
        seq.append(row + list(sched.get_last_lr()))
        opt.step()
        sched.step(metrics[t]) if metrics is not None else sched.step()
    return np.array(seq, dtype=np.float64)


def _check(make, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _run(torch, make, **kw)
    got = _run(nnlab, make, **kw)
    np.testing.assert_array_equal(got, expected)
    return got


S = lambda fn, **extra: dict(sched=fn, **extra)  # noqa: E731
CASES = {
    "LambdaLR": S(lambda m, o: m.LambdaLR(o, lambda t: 0.95 ** t + 0.01 * t)),
    "LambdaLR-per-group": S(lambda m, o: m.LambdaLR(o, [lambda t: 1 / (t + 1),
                                                        lambda t: 0.9 ** t])),
    "StepLR": S(lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    "StepLR-default-gamma": S(lambda m, o: m.StepLR(o, 3)),
    "MultiStepLR": S(lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3)),
    "ConstantLR": S(lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=6)),
    "ExponentialLR": S(lambda m, o: m.ExponentialLR(o, gamma=0.93)),
    "LinearLR": S(lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9,
                                          total_iters=12)),
    "LinearLR-defaults": S(lambda m, o: m.LinearLR(o)),
    "CosineAnnealingLR": S(lambda m, o: m.CosineAnnealingLR(o, T_max=30)),
    "CosineAnnealingLR-wave": S(lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    "OneCycleLR-sgd": S(lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS),
                        opt_kwargs=dict(momentum=0.9)),
    "OneCycleLR-linear-3phase": S(lambda m, o: m.OneCycleLR(
        o, max_lr=0.8, epochs=4, steps_per_epoch=10, anneal_strategy="linear",
        three_phase=True, pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
        opt_kwargs=dict(momentum=0.9)),
    "OneCycleLR-no-momentum": S(lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=STEPS,
                                                          cycle_momentum=False)),
    "SequentialLR-warmup-cosine": S(lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.01, total_iters=8), m.CosineAnnealingLR(o, 30)],
        milestones=[8])),
    "SequentialLR-three": S(lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.1, total_iters=5), m.ExponentialLR(o, 0.9),
            m.StepLR(o, 4, 0.5)], milestones=[10, 25])),
}


@requires_torch
@pytest.mark.parametrize("name", list(CASES))
def test_lr_sequence_matches_torch(name):
    _check(CASES[name])


@requires_torch
def test_two_chained_schedulers_multiply():
    def make(m, o):
        first = m.StepLR(o, 5, 0.5)
        second = m.ExponentialLR(o, 0.97)
        return _Both(first, second)

    _check(S(make))


class _Both:
    def __init__(self, *scheds):
        self.scheds = scheds

    def step(self):
        for s in self.scheds:
            s.step()

    def get_last_lr(self):
        return self.scheds[-1].get_last_lr()


@requires_torch
@pytest.mark.parametrize("name,opt,key", [("momentum", "SGD", "momentum"),
                                          ("beta1", "Adam", "betas")])
def test_one_cycle_cycles_momentum_like_torch(name, opt, key):
    make = S(lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS + 1),
             opt=(opt,), opt_kwargs=dict(momentum=0.9) if opt == "SGD" else {})
    t_opt = _optimizer(torch, opt, **make["opt_kwargs"])
    got_opt = _optimizer(nnlab, opt, **make["opt_kwargs"])
    t_s = make["sched"](torch.optim.lr_scheduler, t_opt)
    n_s = make["sched"](nn_sched, got_opt)
    for _ in range(STEPS):
        t_opt.step()
        got_opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_s.step()
        n_s.step()
        for g, tg in zip(got_opt.param_groups, t_opt.param_groups):
            assert g[key] == tg[key]
    with pytest.raises(ValueError, match="tried to step 42 times"):
        n_s.step()
        n_s.step()


METRICS = [1.0, 0.9, 0.95, 0.93, 0.92, 0.91, 0.9, 0.905, 0.899, 0.95, 0.97, 0.8, 0.8, 0.8,
           0.8, 0.8, 0.79999, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.6, 0.6, 0.6, 0.6, 0.6,
           0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]


@requires_torch
@pytest.mark.parametrize("kwargs", [
    dict(patience=2),
    dict(patience=1, cooldown=2, factor=0.5),
    dict(patience=0, threshold=0.05, threshold_mode="abs", min_lr=[0.02, 0.0]),
    dict(mode="max", patience=1, factor=0.2, min_lr=1e-3),
    dict(mode="max", patience=3, threshold_mode="abs", threshold=0.01, eps=1e-3),
], ids=str)
def test_reduce_on_plateau_matches_torch(kwargs):
    got = _check(S(lambda m, o: m.ReduceLROnPlateau(o, **kwargs)), metrics=METRICS)
    assert len(np.unique(got[:, 0])) > 1


@pytest.mark.parametrize("make,formula", [
    (lambda o: nn_sched.LinearInterpolationLR(o, final_lr=0.001, total_iters=20),
     lambda eta0, t: eta0 + (0.001 - eta0) * min(t, 20) / 20),
    (lambda o: nn_sched.PowerLawLR(o, scale=10, power=-0.5),
     lambda eta0, t: eta0 * (1 + t / 10) ** -0.5),
    (lambda o: nn_sched.ExponentialDecayLR(o, gamma=0.1, scale=15),
     lambda eta0, t: eta0 * 0.1 ** (t / 15)),
], ids=["LinearInterpolationLR", "PowerLawLR", "ExponentialDecayLR"])
def test_cheatsheet_schedules(make, formula):
    opt = _optimizer(nnlab)
    sched = make(opt)
    for t in range(STEPS):
        expected = [formula(eta0, t) for eta0 in LRS]
        np.testing.assert_allclose(sched.get_last_lr(), expected, rtol=1e-14)
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
        opt.step()
        sched.step()


def test_linear_interpolation_ends_at_final_lr():
    opt = _optimizer(nnlab)
    sched = nn_sched.LinearInterpolationLR(opt, final_lr=[0.01, 0.02], total_iters=4)
    for _ in range(6):
        sched.step()
    assert sched.get_last_lr() == [0.01, 0.02]


def test_exponential_decay_with_unit_scale_is_exponential_lr():
    a, b = _optimizer(nnlab), _optimizer(nnlab)
    s1, s2 = nn_sched.ExponentialDecayLR(a, 0.9), nn_sched.ExponentialLR(b, 0.9)
    for _ in range(10):
        s1.step()
        s2.step()
    np.testing.assert_allclose(s1.get_last_lr(), s2.get_last_lr(), rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda m, o: m.StepLR(o, 4, 0.5),
    lambda m, o: m.MultiStepLR(o, [3, 9]),
    lambda m, o: m.CosineAnnealingLR(o, 12),
    lambda m, o: m.OneCycleLR(o, 1.0, total_steps=30),
    lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=4),
                                    m.ExponentialLR(o, 0.9)], [4]),
    lambda m, o: m.ReduceLROnPlateau(o, patience=1),
    lambda m, o: m.PowerLawLR(o, 5.0, -1.0),
    lambda m, o: nn_sched.WarmupCosineLR(o, 4, 15, 0.1),
], ids=["StepLR", "MultiStepLR", "Cosine", "OneCycle", "Sequential", "Plateau", "PowerLaw",
        "WarmupCosine"])
def test_state_dict_resume(make):
    """Save optimizer and scheduler after 10 steps, rebuild both, load, run 10 more:
    the same lrs as one uninterrupted run."""
    def steps(opt, sched, n, start):
        lrs = []
        for t in range(start, start + n):
            opt.step()
            if isinstance(sched, nn_sched.ReduceLROnPlateau):
                sched.step(METRICS[t])
            else:
                sched.step()
            lrs.append(sched.get_last_lr())
        return lrs

    opt = _optimizer(nnlab, momentum=0.9)
    sched = make(nn_sched, opt)
    straight = steps(opt, sched, 20, 0)
    opt = _optimizer(nnlab, momentum=0.9)
    sched = make(nn_sched, opt)
    steps(opt, sched, 10, 0)
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved_sched
    opt = _optimizer(nnlab, momentum=0.9)
    sched = make(nn_sched, opt)
    opt.load_state_dict(saved_opt)
    sched.load_state_dict(saved_sched)
    assert steps(opt, sched, 10, 10) == straight[10:]


def test_lambda_state_dict_skips_functions():
    opt = _optimizer(nnlab)
    sched = nn_sched.LambdaLR(opt, lambda t: 0.5 ** t)
    assert sched.state_dict()["lr_lambdas"] == [None, None]


@pytest.mark.parametrize("make,error,match", [
    (lambda o: nn_sched.StepLR(object(), 3), TypeError, "StepLR: object is not an Optimizer"),
    (lambda o: nn_sched.StepLR(o, 3, last_epoch=4), KeyError, "initial_lr"),
    (lambda o: nn_sched.LambdaLR(o, [lambda t: 1.0]), ValueError, "expected 2 lr_lambdas"),
    (lambda o: nn_sched.LinearLR(o, start_factor=0.0), ValueError, "start_factor=0.0"),
    (lambda o: nn_sched.ReduceLROnPlateau(o, factor=1.5), ValueError, "factor=1.5"),
    (lambda o: nn_sched.ReduceLROnPlateau(o, mode="up"), ValueError, "mode='up'"),
    (lambda o: nn_sched.OneCycleLR(o, 1.0), ValueError, "total_steps"),
    (lambda o: nn_sched.OneCycleLR(o, 1.0, total_steps=10, pct_start=2), ValueError,
     "pct_start"),
    (lambda o: nn_sched.OneCycleLR(o, [1.0], total_steps=10), ValueError,
     "one value per param group"),
    (lambda o: nn_sched.SequentialLR(o, [nn_sched.StepLR(o, 2)], [3]), ValueError,
     "one milestone fewer"),
    (lambda o: nn_sched.PowerLawLR(o, scale=0, power=-1), ValueError, "scale=0"),
    (lambda o: nn_sched.ExponentialDecayLR(o, gamma=-0.5), ValueError, "gamma=-0.5"),
    (lambda o: nn_sched.WarmupCosineLR(o, -1, 10), ValueError, "warmup_iters=-1"),
])
def test_invalid_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(_optimizer(nnlab))


def test_sequential_rejects_plateau_and_foreign_optimizer():
    opt, other = _optimizer(nnlab), _optimizer(nnlab)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        nn_sched.SequentialLR(opt, [nn_sched.ReduceLROnPlateau(opt), nn_sched.StepLR(opt, 2)],
                              [3])
    with pytest.raises(ValueError, match="another optimizer"):
        nn_sched.SequentialLR(opt, [nn_sched.StepLR(opt, 2), nn_sched.StepLR(other, 2)], [3])


def test_cosine_reaches_eta_min():
    opt = _optimizer(nnlab)
    sched = nn_sched.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    for _ in range(10):
        sched.step()
    np.testing.assert_allclose(sched.get_last_lr(), [0.001, 0.001], rtol=1e-12)
    assert math.isclose(sched.base_lrs[0], 0.1)


def _recipe_warmup_cosine(warmup, total, min_ratio):
    """The gpt-shakespeare recipe's factor before WarmupCosineLR, kept verbatim."""
    def factor(t):
        if t < warmup:
            return (t + 1) / (warmup + 1)
        s = min(1.0, (t - warmup) / max(1, total - warmup))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * s))
    return factor


@pytest.mark.parametrize("warmup, total, ratio", [(100, 2000, 0.1), (100, 250, 0.1),
                                                  (0, 12, 0.0), (6, 3, 0.5)])
def test_warmup_cosine_is_the_recipe_schedule_to_the_bit(warmup, total, ratio):
    old = _recipe_warmup_cosine(warmup, total, ratio)
    factor = nn_sched.warmup_cosine(warmup, total, ratio)
    opt, ref_opt = _optimizer(nnlab), _optimizer(nnlab)
    sched = nn_sched.WarmupCosineLR(opt, warmup, total, ratio)
    ref = nn_sched.LambdaLR(ref_opt, old)            # the recipe's scheduler until now
    for t in range(total + 20):
        assert factor(t) == old(t)
        assert sched.get_last_lr() == ref.get_last_lr() == [eta0 * old(t) for eta0 in LRS]
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
        for o, s in ((opt, sched), (ref_opt, ref)):
            o.step()
            s.step()


def test_warmup_cosine_values():
    factor = nn_sched.warmup_cosine(100, 2000, 0.1)
    assert [factor(t) for t in (0, 99, 100, 2000, 2500)] == pytest.approx(
        [1 / 101, 100 / 101, 1.0, 0.1, 0.1])
    assert factor(1050) == pytest.approx(0.55)      # half way down the cosine
    opt = _optimizer(nnlab)
    sched = nn_sched.WarmupCosineLR(opt, 100, 2000)  # min_lr_ratio 0.1 by default
    sched.step(2000)                                 # closed form: jump to a step
    assert sched.get_last_lr() == pytest.approx([0.1 * eta0 for eta0 in LRS])
