"""Module.state_dict and load_state_dict against torch: keys, values, dtypes, and the
errors (missing, unexpected, size mismatch) with nothing changed when it raises."""
import re
from collections import OrderedDict

import numpy as np
import pytest

import nnlab
from tests.helpers import randn
from tests.nn.test_module import N, T, pair, randomised

torch = pytest.importorskip("torch")


def test_state_dict_values_are_detached_and_share_memory():
    m = N["Block"](3)
    sd = m.state_dict()
    assert all(not v.requires_grad and type(v) is nnlab.Tensor for v in sd.values())
    assert np.shares_memory(sd["lin.weight"].data, m.lin.weight.data)
    assert m.state_dict(keep_vars=True)["lin.weight"] is m.lin.weight


@pytest.mark.parametrize("convert", [
    lambda t: t.detach().numpy(),
    lambda t: t.detach(),
    lambda t: t.detach().requires_grad_(t.is_floating_point()),
    lambda t: nnlab.tensor(t.detach().numpy()),
])
def test_load_state_dict_from_numpy_torch_and_nnlab(convert):
    tm = randomised(T["Net"](), seed=3)
    nm = N["Net"]()
    params = list(nm.parameters())
    result = nm.load_state_dict({k: convert(v) for k, v in tm.state_dict().items()})
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    assert list(nm.parameters()) == params  # in place: the same Parameter objects
    for k, v in nm.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), tm.state_dict()[k].numpy(), err_msg=k)
    x = randn(3, 5)
    np.testing.assert_allclose(nm(nnlab.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_load_state_dict_casts_to_the_target_dtype_and_bumps_the_version():
    m = N["Lin"](3, 2).float()
    version = m.weight._version
    m.load_state_dict({"weight": randn(2, 3), "bias": [1, 2]})
    assert m.weight.dtype == np.float32 and m.bias.tolist() == [1.0, 2.0]
    assert m.weight._version == version + 1


def _torch_error(module, state_dict, strict=True):
    with pytest.raises(RuntimeError) as info:
        module.load_state_dict(state_dict, strict=strict)
    # torch prints shapes as torch.Size([2, 3]); nnlab as tuples (2, 3)
    return re.sub(r"torch\.Size\(\[([^\]]*)\]\)",
                  lambda m: repr(tuple(int(s) for s in m.group(1).split(",") if s)),
                  str(info.value))


def _nn_error(module, state_dict, strict=True):
    with pytest.raises(RuntimeError) as info:
        module.load_state_dict(state_dict, strict=strict)
    return str(info.value)


BAD_STATES = {  # edits of a complete state_dict: drop keys, add keys, change shapes
    "missing": dict(drop=["blocks.0.lin.bias", "scale"]),
    "unexpected": dict(add={"blocks.1.extra": (2,), "zzz": (1,), "stem.0.foo": (1,),
                            "blocks.0.heads.c.weight": (2,), "blocks.9.w": (1,)}),
    "shape": dict(reshape={"blocks.1.norm.running_mean": (5,), "stem.0.weight": (5, 4)}),
    "all": dict(drop=["head.out.bias"], add={"extra": (1,)}, reshape={"scale": (3, 1)}),
    "0-d": dict(reshape={"blocks.0.norm.num_batches": (2,)}),
}


def _bad(state, drop=(), add=None, reshape=None, lib=torch):
    state = OrderedDict((k, v.clone()) for k, v in state.items() if k not in drop)
    for k, shape in (reshape or {}).items():
        state[k] = lib.zeros(shape, dtype=state[k].dtype)
    for k, shape in (add or {}).items():
        state[k] = lib.zeros(shape)
    return state


@pytest.mark.parametrize("case", list(BAD_STATES))
def test_load_state_dict_errors_match_torch_and_change_nothing(case):
    tm = randomised(T["Net"](), seed=4)
    nm = N["Net"]()
    before = {k: v.numpy().copy() for k, v in nm.state_dict().items()}
    bad = _bad(tm.state_dict(), **BAD_STATES[case])
    expected = _torch_error(T["Net"](), bad)
    assert _nn_error(nm, {k: v.numpy() for k, v in bad.items()}) == expected
    for k, v in nm.state_dict().items():  # atomic: nothing was copied
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)


@pytest.mark.parametrize("case", ["missing", "unexpected"])
def test_load_state_dict_not_strict_returns_missing_and_unexpected(case):
    tm = randomised(T["Net"](), seed=5)
    bad = _bad(tm.state_dict(), **BAD_STATES[case])
    nm, tm2 = N["Net"](), T["Net"]()
    result = nm.load_state_dict({k: v.numpy() for k, v in bad.items()}, strict=False)
    expected = tm2.load_state_dict(bad, strict=False)
    assert result.missing_keys == expected.missing_keys
    assert result.unexpected_keys == expected.unexpected_keys
    for k, v in nm.state_dict().items():  # what was there was loaded
        np.testing.assert_array_equal(v.numpy(), tm2.state_dict()[k].numpy(), err_msg=k)


def test_load_state_dict_not_strict_still_raises_on_shapes():
    tm = randomised(T["Net"](), seed=6)
    bad = _bad(tm.state_dict(), **BAD_STATES["all"])
    expected = _torch_error(T["Net"](), bad, strict=False)
    assert "size mismatch for scale" in expected
    assert _nn_error(N["Net"](), {k: v.numpy() for k, v in bad.items()}, False) == expected


def test_load_state_dict_of_its_own_state_dict():
    nm = pair("Tied")[0]
    before = {k: v.numpy().copy() for k, v in nm.state_dict().items()}
    nm.load_state_dict(nm.state_dict())
    for k, v in nm.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_load_state_dict_bad_value_changes_nothing():
    m = N["Lin"](2, 2)
    with pytest.raises(ValueError):
        m.load_state_dict({"weight": np.ones((2, 2)), "bias": np.array(["a", "b"])})
    np.testing.assert_array_equal(m.weight.detach().numpy(), 0)


def test_load_state_dict_takes_shape_1_into_0_d_like_torch():
    nm, tm = N["Norm"](2), T["Norm"](2)
    state = {"scale": np.ones(2), "running_mean": np.ones(2), "num_batches": np.array([7])}
    nm.load_state_dict(state)
    tm.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    assert nm.num_batches.shape == () and nm.num_batches.item() == tm.num_batches.item() == 7
