"""Adam's update rule (optim/functional.py `adam`) works in two scratch buffers: bitwise the
plain torch-order formula for every option, at most two parameter-sized temporaries, the
gradient never written."""
import tracemalloc

import numpy as np
import pytest

from nnlab.optim import functional as F

OPTIONS = [dict(), dict(amsgrad=True), dict(weight_decay=0.1), dict(maximize=True),
           dict(weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True)]


def _reference(param, grad, state, *, t, lr, beta1, beta2, eps, weight_decay=0.0,
               amsgrad=False, maximize=False, decoupled_weight_decay=False):
    """torch.optim.Adam's single-tensor step, written out with fresh arrays."""
    g = -grad if maximize else grad
    if decoupled_weight_decay:
        param *= 1 - lr * weight_decay
    elif weight_decay:
        g = g + weight_decay * param
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m += (1 - beta1) * (g - m)                       # lerp_, weight < 0.5
    v *= beta2
    v += (1 - beta2) * g * g                         # addcmul_
    if amsgrad:
        v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
    denom = np.sqrt(v) / (1 - beta2 ** t) ** 0.5 + eps
    param -= lr / (1 - beta1 ** t) * m / denom       # addcdiv_: (value t1) / t2


def _problem(dtype, shape=(7, 13), seed=0):
    rng = np.random.default_rng(seed)
    param = rng.standard_normal(shape).astype(dtype)
    state = {k: np.zeros(shape, dtype) for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")}
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(4)]
    return param, state, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_rule_is_bitwise_the_torch_order_formula(options, dtype):
    hyper = dict(lr=0.05, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, decoupled_weight_decay=False)
    hyper.update(options)
    param, state, grads = _problem(dtype)
    ref_param, ref_state = param.copy(), {k: v.copy() for k, v in state.items()}
    for t, g in enumerate(grads, start=1):
        kept = g.copy()
        F.adam(param, g, state, t=float(t), **hyper)
        _reference(ref_param, g, ref_state, t=float(t), **hyper)
        np.testing.assert_array_equal(g, kept)        # the gradient is never written
        np.testing.assert_array_equal(param, ref_param)
        for key in state:
            np.testing.assert_array_equal(state[key], ref_state[key], err_msg=key)
        assert param.dtype == dtype and all(v.dtype == dtype for v in state.values())


def test_rule_needs_at_most_two_parameter_sized_temporaries():
    param, state, grads = _problem(np.float32, shape=(256, 512))
    hyper = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False, decoupled_weight_decay=False)
    F.adam(param, grads[0], state, t=1.0, **hyper)
    tracemalloc.start()
    try:
        F.adam(param, grads[1], state, t=2.0, **hyper)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 2 * param.nbytes + 4096
