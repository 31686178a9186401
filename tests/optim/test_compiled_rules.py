"""The compiled Adam pass is its numpy twin bitwise (functional.adam's 13 passes), float32
and float64, over several steps, with L2 and decoupled weight decay; and Adam still
matches torch through it (tests/optim's parity tests run whichever path is taken)."""
import numpy as np
import pytest

from nnlab.optim import compiled
from nnlab.optim import functional as F

pytestmark = pytest.mark.skipif(compiled._kernels() is None, reason="numba is not installed")


def _run(dtype, use_compiled, monkeypatch, **hyper):
    rng = np.random.default_rng(0)
    param = rng.standard_normal(1003).astype(dtype)
    state = {"exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
    with monkeypatch.context() as patch:
        if not use_compiled:
            patch.setattr(compiled, "usable", lambda *arrays: False)
        for t in range(1, 6):
            grad = rng.standard_normal(1003).astype(dtype) * 10.0 ** (t - 3)
            F.adam(param, grad, state, t=t, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8,
                   amsgrad=False, maximize=hyper.get("maximize", False),
                   weight_decay=hyper.get("weight_decay", 0.0),
                   decoupled_weight_decay=hyper.get("decoupled", False))
    return param, state


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hyper", [{}, {"weight_decay": 0.1}, {"weight_decay": 0.1,
                                   "decoupled": True}, {"maximize": True}])
def test_compiled_adam_is_the_numpy_rule_bitwise(dtype, hyper, monkeypatch):
    fast, fast_state = _run(dtype, True, monkeypatch, **hyper)
    slow, slow_state = _run(dtype, False, monkeypatch, **hyper)
    assert fast.dtype == dtype
    np.testing.assert_array_equal(fast, slow)
    for key in slow_state:
        np.testing.assert_array_equal(fast_state[key], slow_state[key])


def test_compiled_rules_take_only_contiguous_numpy_floats_of_one_dtype():
    a = np.zeros(8, np.float32)
    assert compiled.usable(a, a.copy())
    assert not compiled.usable(a, a.astype(np.float64))
    assert not compiled.usable(a[::2], a[::2].copy())
    assert not compiled.usable(np.zeros(8, np.float16), np.zeros(8, np.float16))
