"""Module hooks against torch: forward pre / post hooks that replace args and output,
full backward hooks (grad_input, grad_output, replacement), handles."""
import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
from tests.helpers import randn
from tests.nn.test_module import N, pair

torch = pytest.importorskip("torch")


# -- forward hooks ------------------------------------------------------------------------
def test_forward_pre_hook_and_forward_hook_replace_args_and_output():
    nm, tm = pair("Scale")
    calls = []
    for m in (nm, tm):
        h1 = m.register_forward_pre_hook(lambda mod, args: calls.append("pre") or
                                         (args[0] * 2,))
        h2 = m.register_forward_pre_hook(lambda mod, args: args[0] + 1)  # a bare value
        h3 = m.register_forward_hook(lambda mod, args, out: calls.append("post") or out * 3)
        h4 = m.register_forward_hook(lambda mod, args, out: None)  # None keeps the output
        x = randn(3)
        lib = nnlab if m is nm else torch
        out = m(lib.tensor(x))
        np.testing.assert_allclose(out.detach().numpy(), (x * 2 + 1) * m.w.detach().numpy()
                                   * 3)
        for h in (h1, h2, h3, h4):
            h.remove()
        h1.remove()  # twice is harmless
        np.testing.assert_allclose(m(lib.tensor(x)).detach().numpy(),
                                   x * m.w.detach().numpy())
    assert calls == ["pre", "post"] * 2


def test_forward_hook_sees_the_args_after_pre_hooks_and_handle_is_a_context():
    m = nn.Identity()
    seen = []
    m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
    with m.register_forward_hook(lambda mod, args, out: seen.append((args[0], out))):
        assert m(1) == 2
    assert m(1) == 2 and seen == [(2, 2)]


# -- full backward hooks ------------------------------------------------------------------
def _record(store):
    def hook(module, grad_input, grad_output):
        store.append(([None if g is None else g.detach().numpy().copy() for g in grad_input],
                      [None if g is None else g.detach().numpy().copy() for g in grad_output]))
    return hook


def _same_records(a, b):
    assert len(a) == len(b)
    for (gi, go), (tgi, tgo) in zip(a, b):
        for got, want in zip((gi, go), (tgi, tgo)):
            assert len(got) == len(want)
            for g, w in zip(got, want):
                assert (g is None) == (w is None)
                if g is not None:
                    np.testing.assert_allclose(g, w, rtol=1e-12)


BACKWARD_CASES = {  # module, its inputs ("g": requires grad, "c": a constant), which output
    "one input": ("Scale", "g", 0),
    "two inputs": ("Mul", "gg", 0),
    "two inputs, one constant": ("Mul", "gc", 0),
    "a number among the inputs": ("Mul", "gg5", 0),
    "no input requires grad": ("Scale", "c", 0),
    "two outputs": ("Pair", "gg", None),
    "two outputs, one constant": ("Pair", "gc", None),
}


def _inputs(lib, spec):
    out = []
    for i, s in enumerate(spec):
        if s in "gc":
            out.append(lib.tensor(randn(4, 3, seed=10 + i), requires_grad=s == "g"))
        else:
            out.append(float(s))
    return out


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("case", list(BACKWARD_CASES))
def test_full_backward_hook_matches_torch(case):
    name, spec, which = BACKWARD_CASES[case]
    results = []
    for lib, m in zip((nnlab, torch), pair(name)):
        store = []
        m.register_full_backward_hook(_record(store))
        xs = _inputs(lib, spec)
        out = m(*xs)
        outs = out if isinstance(out, tuple) else (out,)
        loss = sum(((o * lib.tensor(randn(*o.shape, seed=20 + k))).sum()
                    for k, o in enumerate(outs) if o.requires_grad), lib.tensor(0.0,
                                                                        dtype=lib.float64))
        loss.backward()
        grads = [x.grad.numpy() if getattr(x, "grad", None) is not None else None
                 for x in xs] + [m.w.grad.numpy()]
        results.append((store, grads))
    (store, grads), (tstore, tgrads) = results
    _same_records(store, tstore)
    assert len(store) == 1
    for g, t in zip(grads, tgrads):
        assert (g is None) == (t is None)
        if g is not None:
            np.testing.assert_allclose(g, t, rtol=1e-12)


@pytest.mark.parametrize("lib", [nnlab, torch], ids=["nnlab", "torch"])
def test_full_backward_hook_without_input_grad_gets_none(lib):
    m = pair("Scale")[0 if lib is nnlab else 1]
    store = []
    m.register_full_backward_hook(_record(store))
    with pytest.warns(UserWarning) if lib is torch else _nothing():
        m(lib.tensor(randn(3))).sum().backward()
    assert store[0][0] == [None] and len(store[0][1]) == 1


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("case", ["one input", "two inputs"])
def test_full_backward_hook_replacing_grad_input_changes_upstream_gradients(case):
    name, spec, _ = BACKWARD_CASES[case]
    grads = []
    for lib, m in zip((nnlab, torch), pair(name)):
        a = lib.tensor(randn(4, 3, seed=3), requires_grad=True)
        rest = _inputs(lib, spec)[1:]
        handle = m.register_full_backward_hook(
            lambda mod, gi, go: tuple(None if g is None else g * 10 + 1 for g in gi))
        m(a.tanh(), *rest).sum().backward()
        grads.append([a.grad.numpy()] + [x.grad.numpy() for x in rest])
        handle.remove()
        a.grad = None
        m(a.tanh(), *[x.detach() for x in rest]).sum().backward()
        grads.append([a.grad.numpy()])
    for g, t in zip(grads[0] + grads[1], grads[2] + grads[3]):
        np.testing.assert_allclose(g, t, rtol=1e-12)
    assert not np.allclose(grads[0][0], grads[1][0])  # the replacement made a difference


def test_full_backward_hook_wrong_number_of_grads_is_a_clear_error():
    m = N["Mul"]()
    m.register_full_backward_hook(lambda mod, gi, go: gi[:1])
    x = nnlab.tensor(randn(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="got 1, but expected 2"):
        m(x, x).sum().backward()


def test_full_backward_hook_under_no_grad_and_removed():
    m = N["Scale"]()
    store = []
    handle = m.register_full_backward_hook(_record(store))
    x = nnlab.tensor(randn(3), requires_grad=True)
    with nnlab.no_grad():
        assert not m(x).requires_grad
    handle.remove()
    m(x).sum().backward()
    assert store == []
