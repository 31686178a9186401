"""Containers (Sequential, ModuleList, ModuleDict) and the shape-only modules (Identity,
Flatten, Unflatten) against torch: the same operations on twin containers give the same
children, names, state_dict keys and repr; the shape modules give the same values and
gradients."""
from collections import OrderedDict

import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
from tests.helpers import check_grad, check_op, randn
from tests.nn.test_module import N, T

torch = pytest.importorskip("torch")


def leaves(lib):
    """Five distinct leaf modules that print alike in nnlab and torch."""
    return [lib.nn.Identity(), lib.nn.Flatten(), lib.nn.Flatten(0, 2), lib.nn.Unflatten(1, (2, 3)),
            (N if lib is nnlab else T)["Lin"](3, 2)]


def state(container):
    """What a container holds: names with their printed children, and its state_dict keys."""
    return ([(k, repr(m)) for k, m in container.named_children()],
            list(container.state_dict()), repr(container))


def build(lib, kind):
    a, b, c, d, e = leaves(lib)
    return {"seq": lambda: lib.nn.Sequential(a, b, c, d, e),
            "named": lambda: lib.nn.Sequential(OrderedDict(a=a, b=b, c=c, d=d, e=e)),
            "list": lambda: lib.nn.ModuleList([a, b, c, d, e]),
            "dict": lambda: lib.nn.ModuleDict(OrderedDict(a=a, b=b, c=c, d=d, e=e))}[kind]()


def same(kind, edit, result=lambda r, lib: None):
    """Apply `edit(container, lib)` to the nnlab and torch twins: same result, same state."""
    out = []
    for lib in (nnlab, torch):
        container = build(lib, kind)
        r = edit(container, lib)
        out.append((result(r, lib), state(container)))
    assert out[0] == out[1]


def kind_of(r, lib):
    """A printable summary of what an operation returned."""
    if isinstance(r, (lib.nn.Sequential, lib.nn.ModuleList)):
        return type(r).__name__, state(r)
    if isinstance(r, lib.nn.Module):
        return repr(r)
    if isinstance(r, (list, tuple)):
        return [kind_of(x, lib) for x in r]
    return r


LIST_EDITS = {  # operations on a Sequential or ModuleList of five leaves
    "index": lambda c, lib: c[1],
    "negative index": lambda c, lib: c[-1],
    "slice": lambda c, lib: c[1:4],
    "step slice": lambda c, lib: c[::-2],
    "empty slice": lambda c, lib: c[3:1],
    "len": lambda c, lib: len(c),
    "iter": lambda c, lib: list(c),
    "append": lambda c, lib: c.append(lib.nn.Flatten(1, 2)) and None,
    "extend": lambda c, lib: c.extend([lib.nn.Flatten(2), lib.nn.Identity()]) and None,
    "insert": lambda c, lib: c.insert(2, lib.nn.Flatten(0)) and None,
    "insert at end": lambda c, lib: c.insert(5, lib.nn.Flatten(0)) and None,
    "setitem": lambda c, lib: c.__setitem__(2, lib.nn.Flatten(0)),
    "setitem negative": lambda c, lib: c.__setitem__(-2, lib.nn.Flatten(0)),
    "delitem": lambda c, lib: c.__delitem__(1),
    "delitem negative": lambda c, lib: c.__delitem__(-1),
    "delitem slice": lambda c, lib: c.__delitem__(slice(0, 4, 2)),
    "parameters": lambda c, lib: [tuple(p.shape) for p in c.parameters()],
}


@pytest.mark.parametrize("kind", ["seq", "list"])
@pytest.mark.parametrize("edit", list(LIST_EDITS))
def test_list_like_containers_match_torch(kind, edit):
    same(kind, LIST_EDITS[edit], kind_of)


@pytest.mark.parametrize("edit", ["index", "negative index", "slice", "len", "iter",
                                  "append", "setitem", "delitem", "delitem slice"])
def test_named_sequential_matches_torch(edit):
    same("named", LIST_EDITS[edit], kind_of)


DICT_EDITS = {
    "getitem": lambda c, lib: c["b"],
    "setitem new": lambda c, lib: c.__setitem__("z", lib.nn.Flatten(0)),
    "setitem existing": lambda c, lib: c.__setitem__("b", lib.nn.Flatten(0)),
    "delitem": lambda c, lib: c.__delitem__("c"),
    "keys": lambda c, lib: list(c.keys()),
    "values": lambda c, lib: list(c.values()),
    "items": lambda c, lib: [(k, repr(v)) for k, v in c.items()],
    "iter": lambda c, lib: list(c),
    "len": lambda c, lib: len(c),
    "contains": lambda c, lib: ("a" in c, "z" in c, "training" in c, "keys" in c),
    "pop": lambda c, lib: c.pop("d"),
    "clear": lambda c, lib: c.clear(),
    "update dict": lambda c, lib: c.update({"b": lib.nn.Flatten(0), "y": lib.nn.Identity()}),
    "update pairs": lambda c, lib: c.update([("y", lib.nn.Identity()), ("a", lib.nn.Flatten())]),
    "update moduledict": lambda c, lib: c.update(lib.nn.ModuleDict({"q": lib.nn.Identity()})),
}


@pytest.mark.parametrize("edit", list(DICT_EDITS))
def test_module_dict_matches_torch(edit):
    same("dict", DICT_EDITS[edit], kind_of)


@pytest.mark.parametrize("kind, action, error, match", [
    ("seq", lambda c: c[5], IndexError, "index 5 is out of range"),
    ("seq", lambda c: c[-6], IndexError, "index -6 is out of range"),
    ("list", lambda c: c[7], IndexError, "index 7 is out of range"),
    ("list", lambda c: c.__setitem__(5, nn.Identity()), IndexError, "out of range"),
    ("list", lambda c: c.append(3), TypeError, "not a Module subclass"),
    ("list", lambda c: c.extend(3), TypeError, "iterable"),
    ("dict", lambda c: c["zz"], KeyError, "zz"),
    ("dict", lambda c: c.__delitem__("training"), KeyError, "training"),
    ("dict", lambda c: c.__setitem__("keys", nn.Identity()), KeyError, "'keys' already exists"),
    ("dict", lambda c: c.__setitem__("a.b", nn.Identity()), KeyError, "contain"),
    ("dict", lambda c: c.update(3), TypeError, "iterable"),
    ("dict", lambda c: c.update([("a", nn.Identity(), 1)]), ValueError, "element #0"),
])
def test_container_errors(kind, action, error, match):
    container = build(nnlab, kind)
    with pytest.raises(error, match=match):
        action(container)
    assert len(container) == 5


def test_training_flag_is_kept_when_a_module_dict_key_is_refused():
    d = nn.ModuleDict()
    with pytest.raises(KeyError):
        d["training"] = nn.Identity()
    assert d.training is True and len(d) == 0


def test_a_module_held_twice_is_applied_and_listed_twice_like_torch():
    for lib in (nnlab, torch):
        calls = []
        leaf = lib.nn.Identity()
        leaf.register_forward_hook(lambda m, a, o, calls=calls: calls.append(1))
        seq = lib.nn.Sequential(leaf, leaf)
        seq(lib.ones(2))
        assert calls == [1, 1] and len(seq) == 2 and len(list(seq.children())) == 1
        assert len(lib.nn.ModuleList([leaf, leaf])) == 2
        assert list(lib.nn.ModuleDict({"a": leaf, "b": leaf}).keys()) == ["a", "b"]
    assert state(nn.Sequential(*[N["Lin"](2, 2)] * 2)) == state(
        torch.nn.Sequential(*[T["Lin"](2, 2)] * 2))


def test_sequential_forward_and_gradients_match_torch():
    nm = nn.Sequential(nn.Flatten(), N["Lin"](6, 4), nn.Identity(), nn.Unflatten(1, (2, 2)),
                       nn.Flatten(0), nn.Unflatten(0, (-1, 4)), N["Lin"](4, 3))
    tm = torch.nn.Sequential(torch.nn.Flatten(), T["Lin"](6, 4), torch.nn.Identity(),
                             torch.nn.Unflatten(1, (2, 2)), torch.nn.Flatten(0),
                             torch.nn.Unflatten(0, (-1, 4)), T["Lin"](4, 3))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
    assert nm.load_state_dict(tm.state_dict()) == ([], [])
    x = randn(5, 2, 3, seed=1)
    check_op(nm, tm, x)
    nm(nnlab.tensor(x)).sum().backward()
    tm(torch.tensor(x)).sum().backward()
    for (k, p), tp in zip(nm.named_parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, err_msg=k)


def test_module_list_of_lists_and_sequential_of_containers_state_dict_like_torch():
    def build_nested(lib, L):
        return lib.nn.Sequential(
            lib.nn.ModuleList([L["Lin"](2, 3), lib.nn.ModuleList([L["Norm"](3)])]),
            lib.nn.ModuleDict({"x": lib.nn.Sequential(L["Lin"](3, 3)), "y": L["Block"](3)}),
            L["Lin"](3, 1, bias=False))

    n, t = build_nested(nnlab, N), build_nested(torch, T)
    assert state(n) == state(t)
    assert [k for k, _ in n.named_modules()] == [k for k, _ in t.named_modules()]


# -- shape-only modules -------------------------------------------------------------------
SHAPE_CASES = [  # (module arguments, input shape)
    ("Identity", (), (2, 3)),
    ("Identity", (54, "unused"), ()),
    ("Flatten", (), (2, 3, 4)),
    ("Flatten", (), (2, 3)),
    ("Flatten", (), (4, 1, 1, 1)),
    ("Flatten", (0, -1), (2, 3, 4)),
    ("Flatten", (1, 2), (2, 3, 4, 5)),
    ("Flatten", (-3, -2), (2, 3, 4, 5)),
    ("Flatten", (2, 2), (2, 3, 4)),
    ("Flatten", (0,), (0, 3)),
    ("Unflatten", (1, (3, 4)), (2, 12)),
    ("Unflatten", (-1, (2, -1)), (2, 3, 8)),
    ("Unflatten", (0, [2, 1, 3]), (6, 5)),
    ("Unflatten", (1, (1,)), (2, 3, 4)[:1] + (1,)),
]


@pytest.mark.parametrize("name, args, shape", SHAPE_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shape_modules_match_torch(name, args, shape, dtype):
    check_op(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), randn(*shape),
             dtype=dtype)


@pytest.mark.parametrize("name, args, shape", [c for c in SHAPE_CASES if 0 not in c[2]])
def test_shape_modules_gradcheck(name, args, shape):
    check_grad(getattr(nn, name)(*args), randn(*shape))


@pytest.mark.parametrize("name, args", [
    ("Identity", ()), ("Identity", (3, "x")), ("Flatten", ()), ("Flatten", (0, 2)),
    ("Unflatten", (1, (3, 4))), ("Unflatten", (-1, [2, 2])),
])
def test_shape_module_repr_matches_torch(name, args):
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


@pytest.mark.parametrize("module, shape, error, match", [
    (nn.Flatten(), (3,), IndexError, "out of range"),
    (nn.Flatten(2, 1), (2, 3, 4), RuntimeError, "start_dim"),
    (nn.Unflatten(2, (3, 4)), (2, 12), IndexError, r"Unflatten\(dim=2.*shape \(2, 12\)"),
    (nn.Unflatten(1, (3, 5)), (2, 12), RuntimeError, r"\(3, 5\) don't multiply up .* \(12\)"),
    (nn.Unflatten(1, (5, -1)), (2, 12), RuntimeError, "don't multiply up"),
])
def test_shape_module_errors(module, shape, error, match):
    with pytest.raises(error, match=match):
        module(nnlab.tensor(randn(*shape)))


def test_unflatten_rejects_a_size_that_is_not_ints():
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 12)


# -- printing -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["seq", "named", "list", "dict"])
def test_container_repr_matches_torch(kind):
    assert repr(build(nnlab, kind)) == repr(build(torch, kind))


@pytest.mark.parametrize("blocks", [
    "", "a", "aaa", "aab", "abb", "abab", "aabba", "abcc",
])
def test_module_list_repr_compresses_runs_like_torch(blocks):
    def build_list(lib, L):
        make = {"a": lambda: L["Lin"](2, 2), "b": lambda: lib.nn.Flatten(),
                "c": lambda: lib.nn.Sequential(L["Lin"](2, 3), lib.nn.Identity())}
        return lib.nn.ModuleList([make[k]() for k in blocks])

    assert repr(build_list(nnlab, N)) == repr(build_list(torch, T))


def test_nested_containers_repr_matches_torch():
    def build_nested(lib, L):
        return lib.nn.Sequential(OrderedDict(
            body=lib.nn.ModuleList([L["Block"](3), L["Block"](3), lib.nn.Identity()]),
            heads=lib.nn.ModuleDict({"cls": lib.nn.Sequential(lib.nn.Flatten(), L["Lin"](3, 2)),
                                     "empty": lib.nn.ModuleList()}),
            out=lib.nn.Unflatten(1, (1, 2))))

    assert repr(build_nested(nnlab, N)) == repr(build_nested(torch, T))
