"""`Module` against torch.nn.Module: registration, walking, state_dict and loading, modes,
conversions, hooks and printing. Twin modules are written once against either library
(`twins(nnlab)` / `twins(torch)`), so names, orders and values can be compared one to one."""
import copy
import re
from collections import OrderedDict

import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
from tests.helpers import randn

torch = pytest.importorskip("torch")


def twins(lib):
    """Small modules of the same structure built on nnlab or torch (`lib`)."""
    Module, Parameter = lib.nn.Module, lib.nn.Parameter

    class Lin(Module):
        """y = x W^T + b, initialised to zeros (values come through load_state_dict)."""

        def __init__(self, n_in, n_out, bias=True):
            super().__init__()
            self.n_in, self.n_out = n_in, n_out
            self.weight = Parameter(lib.zeros(n_out, n_in, dtype=lib.float64))
            self.bias = Parameter(lib.zeros(n_out, dtype=lib.float64)) if bias else None

        def forward(self, x):
            y = x @ self.weight.T
            return y if self.bias is None else y + self.bias

        def extra_repr(self):
            return f"in_features={self.n_in}, out_features={self.n_out}, " \
                   f"bias={self.bias is not None}"

    class Norm(Module):
        """A parameter and buffers: an int one, and one that is not persistent."""

        def __init__(self, n):
            super().__init__()
            self.scale = Parameter(lib.ones(n, dtype=lib.float64))
            self.register_buffer("running_mean", lib.zeros(n, dtype=lib.float64))
            self.register_buffer("num_batches", lib.zeros((), dtype=lib.int64))
            self.register_buffer("cache", lib.zeros(n, dtype=lib.float64), persistent=False)

        def forward(self, x):
            return (x - self.running_mean) * self.scale

        def extra_repr(self):
            return f"{self.scale.shape[0]}"

    class Block(Module):
        """A submodule, a buffer holder, a ModuleDict, then a parameter."""

        def __init__(self, n):
            super().__init__()
            self.lin = Lin(n, n)
            self.norm = Norm(n)
            self.heads = lib.nn.ModuleDict({"a": Lin(n, n), "b": Lin(n, n, bias=False)})
            self.gain = Parameter(lib.ones(1, dtype=lib.float64))

        def forward(self, x):
            h = self.norm(self.lin(x)).tanh()
            return (self.heads["a"](h) + self.heads["b"](h)) * self.gain + x

    class Net(Module):
        """Sequential (numbered and named), ModuleList, nested blocks, a top parameter."""

        def __init__(self):
            super().__init__()
            self.stem = lib.nn.Sequential(Lin(5, 4), lib.nn.Identity())
            self.blocks = lib.nn.ModuleList([Block(4), Block(4)])
            self.head = lib.nn.Sequential(OrderedDict(
                flat=lib.nn.Flatten(), out=Lin(4, 2)))
            self.scale = Parameter(lib.ones(2, dtype=lib.float64))

        def forward(self, x):
            x = self.stem(x)
            for block in self.blocks:
                x = block(x)
            return self.head(x) * self.scale

    class Tied(Module):
        """One Parameter under two names and one module under two names."""

        def __init__(self):
            super().__init__()
            self.enc = Lin(3, 3)
            self.dec = self.enc
            self.w = Parameter(lib.ones(3, dtype=lib.float64))
            self.w2 = self.w
            self.other = Lin(3, 3)

        def forward(self, x):
            return self.dec(self.enc(x)) * self.w2 + self.other(x)

    class Scale(Module):
        """One tensor input: x * w."""

        def __init__(self):
            super().__init__()
            self.w = Parameter(lib.tensor([1.5, -2.0, 0.5], dtype=lib.float64))

        def forward(self, x):
            return x * self.w

    class Mul(Module):
        """Two tensor inputs and a plain number: x * y * w * k."""

        def __init__(self):
            super().__init__()
            self.w = Parameter(lib.tensor([1.5, -2.0, 0.5], dtype=lib.float64))

        def forward(self, x, y, k=2.0):
            return x * y * self.w * k

    class Pair(Module):
        """Two outputs: x * w and (y * w) ** 2."""

        def __init__(self):
            super().__init__()
            self.w = Parameter(lib.tensor([1.5, -2.0, 0.5], dtype=lib.float64))

        def forward(self, x, y):
            return x * self.w, (y * self.w) ** 2

    return dict(Lin=Lin, Norm=Norm, Block=Block, Net=Net, Tied=Tied, Scale=Scale, Mul=Mul,
                Pair=Pair)


N, T = twins(nnlab), twins(torch)


def randomised(tnet, seed=0):
    """The torch twin with random parameters and float buffers (deterministic)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for v in tnet.state_dict().values():
            if v.is_floating_point():
                v.copy_(torch.randn(v.shape, generator=gen, dtype=v.dtype))
    return tnet


def pair(name, *args):
    """(nnlab module, torch module) of the same class with the same values."""
    tm = randomised(T[name](*args))
    nm = N[name](*args)
    nm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    return nm, tm


def names(items):
    return [k for k, _ in items]


# -- registration and walking -------------------------------------------------------------
WALKS = [
    lambda m: names(m.named_parameters()),
    lambda m: names(m.named_parameters(prefix="model")),
    lambda m: names(m.named_parameters(recurse=False)),
    lambda m: names(m.named_parameters(remove_duplicate=False)),
    lambda m: names(m.named_buffers()),
    lambda m: names(m.named_buffers(remove_duplicate=False)),
    lambda m: names(m.named_children()),
    lambda m: names(m.named_modules()),
    lambda m: names(m.named_modules(remove_duplicate=False)),
    lambda m: names(m.named_modules(prefix="root")),
    lambda m: [type(c).__name__ for c in m.children()],
    lambda m: [type(c).__name__ for c in m.modules()],
    lambda m: [tuple(p.shape) for p in m.parameters()],
    lambda m: [tuple(b.shape) for b in m.buffers()],
    lambda m: list(m.state_dict()),
    lambda m: list(m.state_dict(prefix="model.")),
]


@pytest.mark.parametrize("model", ["Lin", "Norm", "Block", "Net", "Tied"])
@pytest.mark.parametrize("walk", range(len(WALKS)))
def test_walks_match_torch(model, walk):
    args = {"Lin": (3, 2), "Norm": (3,), "Block": (3,)}.get(model, ())
    assert WALKS[walk](N[model](*args)) == WALKS[walk](T[model](*args))


def test_parameters_in_assignment_order_and_shared_once():
    m = N["Tied"]()
    assert names(m.named_parameters()) == ["w", "enc.weight", "enc.bias", "other.weight",
                                           "other.bias"]  # own first, then each child's
    assert len(list(m.parameters())) == 5
    assert names(m.named_children()) == ["enc", "other"]
    assert list(m.state_dict()) == ["w", "w2", "enc.weight", "enc.bias", "dec.weight",
                                    "dec.bias", "other.weight", "other.bias"]


def test_reassigning_keeps_position_and_none_removes():
    m = N["Lin"](3, 2)
    m.weight = nn.Parameter(nnlab.ones(2, 3))
    assert names(m.named_parameters()) == ["weight", "bias"]
    m.bias = None
    assert names(m.named_parameters()) == ["weight"] and list(m.state_dict()) == ["weight"]
    del m.weight
    assert list(m.parameters()) == []


def test_buffers():
    m = N["Norm"](3)
    assert names(m.named_buffers()) == ["running_mean", "num_batches", "cache"]
    assert "cache" not in m.state_dict() and "running_mean" in m.state_dict()
    assert all(not b.requires_grad for b in m.buffers())
    assert names(m.named_parameters()) == ["scale"]
    m.running_mean = nnlab.ones(3)           # a buffer stays a buffer when reassigned
    assert "running_mean" in m.state_dict()
    m.register_buffer("cache", nnlab.ones(3))  # persistent again
    assert list(m.state_dict()) == ["scale", "running_mean", "num_batches", "cache"]
    m.register_buffer("running_mean", None)   # None: kept out, as torch
    assert names(m.named_buffers()) == ["num_batches", "cache"]
    del m.cache
    assert names(m.named_buffers()) == ["num_batches"]


def test_registration_methods():
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(nnlab.ones(2)))
    m.register_parameter("b", None)
    m.add_module("sub", nn.Identity())
    m.register_module("sub2", nn.Identity())
    m.register_buffer("buf", nnlab.zeros(2))
    assert names(m.named_parameters()) == ["w"]
    assert names(m.named_children()) == ["sub", "sub2"]
    assert list(m.state_dict()) == ["w", "buf"]
    assert m.get_submodule("sub") is m.sub and m.get_submodule("") is m


@pytest.mark.parametrize("action, error, match", [
    (lambda m: m.register_buffer("a.b", nnlab.zeros(1)), KeyError, 'contain "\\."'),
    (lambda m: m.register_buffer("", nnlab.zeros(1)), KeyError, "empty string"),
    (lambda m: m.register_buffer("w", nnlab.zeros(1)), KeyError, "'w' already exists"),
    (lambda m: m.register_buffer("x", np.zeros(1)), TypeError, "buffer 'x'"),
    (lambda m: m.register_parameter("x", nnlab.zeros(1)), TypeError, "parameter 'x'"),
    (lambda m: m.register_parameter("cfg", nn.Parameter(nnlab.zeros(1))), KeyError,
     "'cfg' already exists"),
    (lambda m: m.add_module("sub.x", nn.Identity()), KeyError, 'contain "\\."'),
    (lambda m: m.add_module("forward", nn.Identity()), KeyError, "'forward' already exists"),
    (lambda m: m.add_module("x", 3), TypeError, "int is not a Module subclass"),
    (lambda m: setattr(m, "w", nnlab.zeros(1)), TypeError,
     "cannot assign 'Tensor' as parameter 'w'"),
    (lambda m: setattr(m, "sub", 3), TypeError, "cannot assign 'int' as child module 'sub'"),
    (lambda m: setattr(m, "buf", 3), TypeError, "cannot assign 'int' as buffer 'buf'"),
    (lambda m: m.train("yes"), ValueError, "boolean"),
    (lambda m: m.to(nnlab.int64), TypeError, "floating point"),
])
def test_registration_errors(action, error, match):
    m = nn.Module()
    m.w = nn.Parameter(nnlab.zeros(1))
    m.sub = nn.Identity()
    m.register_buffer("buf", nnlab.zeros(1))
    m.cfg = 3
    with pytest.raises(error, match=match):
        action(m)


@pytest.mark.parametrize("value", [nn.Parameter(nnlab.ones(1)), nn.Identity()])
def test_assigning_before_init_is_a_clear_error(value):
    class Early(nn.Module):
        def __init__(self):
            self.x = value
            super().__init__()

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\).*super"):
        Early()


def test_buffer_before_init_is_a_clear_error():
    m = nn.Module.__new__(nn.Module)
    with pytest.raises(AttributeError, match="before Module.__init__"):
        m.register_buffer("b", nnlab.zeros(1))


def test_assigning_parameter_or_module_over_buffer_makes_it_that_kind():
    m = N["Norm"](2)
    m.running_mean = nn.Parameter(nnlab.zeros(2))
    assert names(m.named_parameters()) == ["scale", "running_mean"]
    assert names(m.named_buffers()) == ["num_batches", "cache"]


# -- parameters ---------------------------------------------------------------------------
def test_parameter():
    p = nn.Parameter(nnlab.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, nnlab.Tensor)
    assert not nn.Parameter(nnlab.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    t = nnlab.zeros(3)
    assert np.shares_memory(nn.Parameter(t).data, t.data)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(nnlab.zeros(2, dtype=nnlab.int64))


@pytest.mark.parametrize("data, kwargs", [
    ([1.0, 2.0], {}), ([[1.0, 2.0], [3.0, 4.0]], {"dtype": "float64"}), ([0.5], {}),
    (None, {}),
])
@pytest.mark.parametrize("requires_grad", [True, False])
def test_parameter_repr_matches_torch(data, kwargs, requires_grad):
    if data is None:
        n, t = nn.Parameter(), torch.nn.Parameter()
    else:
        n = nn.Parameter(nnlab.tensor(data, **kwargs), requires_grad=requires_grad)
        t = torch.nn.Parameter(torch.tensor(data, dtype=getattr(torch, kwargs.get(
            "dtype", "float32"))), requires_grad=requires_grad)
    assert repr(n) == repr(t).replace("torch.", "nnlab.")


def test_deepcopy_keeps_kinds_and_values():
    m = pair("Block", 3)[0]
    c = copy.deepcopy(m)
    assert all(type(p) is nn.Parameter and p.requires_grad for p in c.parameters())
    assert list(c.state_dict()) == list(m.state_dict())
    for (k, a), b in zip(m.state_dict().items(), c.state_dict().values()):
        assert not np.shares_memory(a.data, b.data), k
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# -- forward and gradients through a nested structure -------------------------------------
def test_nested_forward_and_gradients_match_torch():
    nm, tm = pair("Net")
    x = randn(6, 5, seed=1)
    out, tout = nm(nnlab.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10)
    (out ** 2).sum().backward()
    (tout ** 2).sum().backward()
    tgrads = dict(tm.named_parameters())
    for name, p in nm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_tied_parameters_accumulate_like_torch():
    nm, tm = pair("Tied")
    x = randn(4, 3, seed=2)
    nm(nnlab.tensor(x)).sum().backward()
    tm(torch.tensor(x)).sum().backward()
    for (name, p), tp in zip(nm.named_parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, err_msg=name)


# -- modes, zero_grad, apply, to ----------------------------------------------------------
def test_train_eval_recurse_and_return_self():
    m = N["Net"]()
    assert m.eval() is m
    assert [mod.training for mod in m.modules()] == [False] * len(list(m.modules()))
    assert m.train() is m and all(mod.training for mod in m.modules())
    assert m.train(False) is m and not m.blocks[1].norm.training


def test_train_calls_each_childs_own_train():
    class Frozen(nn.Module):
        def train(self, mode=True):
            return super().train(False)

    m = nn.Sequential(nn.Identity(), Frozen())
    m.train()
    assert m.training and m[0].training and not m[1].training


def test_requires_grad_():
    m = N["Block"](2)
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    m = N["Block"](3)
    m(nnlab.tensor(randn(2, 3))).sum().backward()
    grads = {k: p.grad for k, p in m.named_parameters()}
    m.zero_grad(set_to_none=set_to_none)
    for k, p in m.named_parameters():
        if set_to_none:
            assert p.grad is None
        else:
            assert p.grad is grads[k] and not p.grad.data.any() and not p.grad.requires_grad
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_zero_grad_false_detaches_a_graph_of_the_gradient():
    m = N["Scale"]()
    x = nnlab.tensor(randn(3), requires_grad=True)
    (m(x) ** 2).sum().backward(create_graph=True)
    assert m.w.grad.requires_grad
    m.zero_grad(set_to_none=False)
    assert not m.w.grad.requires_grad and m.w.grad.grad_fn is None
    np.testing.assert_array_equal(m.w.grad.numpy(), 0)


def test_apply_visits_children_first_like_torch():
    seen, tseen = [], []
    assert N["Net"]().apply(lambda m: seen.append(type(m).__name__)) is not None
    T["Net"]().apply(lambda m: tseen.append(type(m).__name__))
    assert seen == tseen


def test_to_dtype_keeps_parameter_identity_and_converts_floating_only():
    m = N["Block"](3)
    m(nnlab.tensor(randn(2, 3))).sum().backward()
    params = {k: p for k, p in m.named_parameters()}
    grads = {k: p.grad for k, p in m.named_parameters()}
    assert m.to(nnlab.float32) is m
    for k, p in m.named_parameters():
        assert p is params[k] and p.dtype == np.float32 and p.requires_grad
        assert p.grad is grads[k] and p.grad.dtype == np.float32
    dtypes = {k: b.dtype for k, b in m.named_buffers()}
    assert dtypes == {"norm.running_mean": np.float32, "norm.num_batches": np.int64,
                      "norm.cache": np.float32}
    y = m(nnlab.tensor(randn(2, 3).astype(np.float32)))
    assert y.dtype == np.float32
    y.sum().backward()
    assert m.double() is m and {p.dtype for p in m.parameters()} == {np.dtype(np.float64)}
    assert m.float() is m and {p.dtype for p in m.parameters()} == {np.dtype(np.float32)}
    m.to("float64")
    assert m.lin.weight.dtype == np.float64
    m.to(nnlab.zeros(1, dtype=nnlab.float32))
    assert m.lin.weight.dtype == np.float32


def test_an_optimiser_made_before_to_keeps_updating_the_parameters():
    from nnlab.optim import SGD

    m = N["Lin"](3, 2).float()
    opt = SGD(m.parameters(), lr=0.5)
    m.double()
    m(nnlab.tensor(np.ones((4, 3)))).sum().backward()
    opt.step()
    assert m.weight.dtype == np.float64
    np.testing.assert_array_equal(m.weight.detach().numpy(), -2.0)
    np.testing.assert_array_equal(m.bias.detach().numpy(), -2.0)


def test_to_same_dtype_and_cpu_change_nothing():
    m = N["Lin"](3, 2)
    data = m.weight.data
    assert m.to(nnlab.float64) is m and m.cpu() is m and m.to("cpu") is m
    assert m.weight.data is data


# -- state_dict and load_state_dict -------------------------------------------------------
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


# -- printing -----------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["Lin", "Norm", "Block", "Net", "Tied"])
def test_repr_matches_torch(model):
    args = {"Lin": (3, 2), "Norm": (3,), "Block": (3,)}.get(model, ())
    assert repr(N[model](*args)) == repr(T[model](*args))


@pytest.mark.parametrize("extra", ["", "one line", "two\nlines"])
@pytest.mark.parametrize("with_child", [False, True])
def test_repr_extra_lines_and_children_like_torch(extra, with_child):
    def build(lib):
        class Thing(lib.nn.Module):
            def __init__(self):
                super().__init__()
                if with_child:
                    self.sub = lib.nn.Flatten(0, 1)

            def extra_repr(self):
                return extra

        return Thing()

    assert repr(build(nnlab)) == repr(build(torch))
