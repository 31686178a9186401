"""`Module` against torch.nn.Module: registration, walking and printing, and the twin
modules that the other test_module_*.py files share. Twin modules are written once against
either library (`twins(nnlab)` / `twins(torch)`), so names, orders and values can be compared
one to one."""
from collections import OrderedDict

import numpy as np
import pytest

import nnlab
import nnlab.nn as nn

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
