"""`nnlab.save(module)` / `nnlab.load`: whole modules round trip without pickle, and only
allowed classes are rebuilt (torch.serialization's safe_globals contract)."""
import io
import json
import pickle
import sys

import numpy as np
import pytest

import nnlab
from nnlab import nn
from nnlab.nn import functional as F
from nnlab.utils import serialization
from nnlab.utils.serialization import (
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)


class Scaled(nn.Module):
    """A user's module: a child, a parameter, a buffer, a tensor attribute, plain config."""

    def __init__(self, n):
        super().__init__()
        self.proj = nn.Linear(n, n)
        self.scale = nn.Parameter(nnlab.full((n,), 2.0))
        self.register_buffer("shift", nnlab.arange(n, dtype=nnlab.float32))
        self.mask = None
        self.config = {"n": n, "name": "scaled", "sizes": (n, 2 * n), "eps": 1e-5,
                       "dtype": nnlab.float32, "flags": [True, None]}

    def forward(self, x):
        return self.proj(x) * self.scale + self.shift


def top_level_activation(x):
    return F.relu(x) * 0.5


@pytest.fixture(autouse=True)
def empty_allowlist():
    clear_safe_globals()
    yield
    clear_safe_globals()


def roundtrip(obj):
    buffer = io.BytesIO()
    nnlab.save(obj, buffer)
    buffer.seek(0)
    return nnlab.load(buffer)


def same(a, b):
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        same(sa[k], sb[k])


def test_sequential_round_trip(tmp_path):
    nnlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(8, 2))
    model(nnlab.randn(5, 3))   # moves BatchNorm's running statistics off their start
    model.eval()
    path = tmp_path / "model.pt"
    nnlab.save(model, path)
    loaded = nnlab.load(path)
    assert type(loaded) is nn.Sequential and type(loaded[1]) is nn.BatchNorm1d
    assert not loaded.training and not loaded[3].training and loaded[3].p == 0.3
    assert_same_state(model, loaded)
    assert isinstance(loaded[0].weight, nn.Parameter) and loaded[0].weight.requires_grad
    x = nnlab.randn(4, 3)
    same(model(x), loaded(x))
    assert repr(loaded) == repr(model)


def test_lstm_model_round_trip_trains_on():
    nnlab.manual_seed(1)
    model = nn.ModuleDict({"emb": nn.Embedding(10, 4), "rnn": nn.LSTM(4, 6, num_layers=2),
                           "out": nn.Linear(6, 10)})
    loaded = roundtrip(model)
    assert_same_state(model, loaded)
    tokens = nnlab.tensor([[1, 2], [3, 4], [5, 6]])

    def run(m):
        out, (h, c) = m["rnn"](m["emb"](tokens))
        return m["out"](out), h, c

    for a, b in zip(run(model), run(loaded)):
        same(a, b)
    run(loaded)[0].sum().backward()   # the rebuilt parameters are leaves that get gradients
    assert all(p.grad is not None for p in loaded.parameters())


def test_transformer_encoder_round_trip():
    nnlab.manual_seed(2)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    model = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
    model.eval()
    loaded = roundtrip(model)
    assert loaded.layers[0].activation is F.relu   # a function of nnlab.nn.functional
    assert_same_state(model, loaded)
    x = nnlab.randn(5, 3, 8)
    mask = nnlab.triu(nnlab.full((5, 5), float("-inf")), diagonal=1)
    same(model(x, mask=mask), loaded(x, mask=mask))


def test_shared_modules_and_tied_weights_stay_shared():
    nnlab.manual_seed(3)
    emb, block = nn.Embedding(5, 4), nn.Linear(4, 4)
    head = nn.Linear(4, 5, bias=False)
    head.weight = emb.weight
    model = nn.Sequential(emb, block, block, head)
    loaded = roundtrip(model)
    assert loaded[1] is loaded[2]
    assert loaded[3].weight is loaded[0].weight
    assert len(list(loaded.parameters())) == len(list(model.parameters()))
    assert list(loaded.state_dict()) == list(model.state_dict())


def test_a_user_module_needs_the_allowlist(tmp_path):
    nnlab.manual_seed(4)
    model = Scaled(3)
    path = tmp_path / "scaled.pt"
    nnlab.save(model, path)
    name = f"{Scaled.__module__}.Scaled"
    expected = (rf"nnlab.load: the file holds a <{name}>, which is not allowed; if you trust "
                r"it, pass it to nnlab.utils.serialization.safe_globals\(\[...\]\)")
    with pytest.raises(pickle.UnpicklingError, match=expected):
        nnlab.load(path)
    with pytest.raises(pickle.UnpicklingError, match=expected):
        nnlab.load(path, weights_only=False)   # does not lift the allowlist
    with safe_globals([Scaled]):
        assert get_safe_globals() == [Scaled]
        loaded = nnlab.load(path)
    assert get_safe_globals() == []
    assert type(loaded) is Scaled
    assert loaded.config == model.config and loaded.mask is None
    assert loaded.config["dtype"] == nnlab.float32
    assert loaded._buffer_names == ["shift"]
    assert_same_state(model, loaded)
    x = nnlab.randn(2, 3)
    same(model(x), loaded(x))


def test_add_safe_globals_lasts_until_cleared(tmp_path):
    path = tmp_path / "scaled.pt"
    nnlab.save({"model": Scaled(2), "epoch": 3}, path)
    add_safe_globals([(Scaled, f"{Scaled.__module__}.Scaled")])
    assert get_safe_globals() == [Scaled]
    ckpt = nnlab.load(path)
    assert type(ckpt["model"]) is Scaled and ckpt["epoch"] == 3
    clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        nnlab.load(path)
    with pytest.raises(TypeError, match="add_safe_globals: expected classes or functions"):
        add_safe_globals([3])


def test_a_user_function_attribute_needs_the_allowlist():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8,
                                       activation=top_level_activation)
    buffer = io.BytesIO()
    nnlab.save(layer, buffer)
    with pytest.raises(pickle.UnpicklingError, match="top_level_activation>, which is not"):
        nnlab.load(io.BytesIO(buffer.getvalue()))
    with safe_globals([top_level_activation]):
        loaded = nnlab.load(io.BytesIO(buffer.getvalue()))
    assert loaded.activation is top_level_activation


@pytest.mark.parametrize("bad, where", [
    (lambda x: x, r"obj\.fn, a callable \(.*<lambda>\)"),
    (print, None),   # builtins.print is found by name: saved, and refused at load
])
def test_function_attributes(bad, where):
    model = nn.Linear(2, 2)
    model.fn = bad
    if where is None:
        with pytest.raises(pickle.UnpicklingError, match=r"<builtins\.print>, which is not"):
            roundtrip(model)
        return
    with pytest.raises(TypeError, match=where):
        nnlab.save(model, io.BytesIO())


def test_unsaveable_attributes_name_their_path():
    def closure_hook(module, args):
        return None

    model = nn.Sequential(nn.Linear(2, 2))
    model[0].register_forward_pre_hook(closure_hook)
    with pytest.raises(TypeError, match=r"obj\.0\._forward_pre_hooks\[\d+\], a callable"):
        nnlab.save(model, io.BytesIO())
    model = nn.Sequential(nn.Linear(2, 2))
    model[0].log = io.StringIO()
    with pytest.raises(TypeError, match=r"obj\.0\.log, an object of type _io\.StringIO"):
        nnlab.save(model, io.BytesIO())


def test_a_class_defined_in_a_function_is_refused_at_save():
    class Local(nn.Module):
        pass

    with pytest.raises(TypeError, match="cannot be found by name"):
        nnlab.save(Local(), io.BytesIO())


def crafted(obj):
    """An nnlab.save file (version 2) whose tree is `obj`."""
    text = json.dumps({"format": "nnlab.save", "version": 2, "object": obj})
    buffer = io.BytesIO()
    np.savez(buffer, __nnlab__=np.frombuffer(text.encode(), np.uint8))
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("node, name", [
    ({"__module__": {"class": ["os", "system"], "state": []}}, "os.system"),
    ({"__module__": {"class": ["builtins", "eval"], "state": []}}, "builtins.eval"),
    ({"__global__": ["builtins", "eval"]}, "builtins.eval"),
    ({"__global__": ["os", "system"]}, "os.system"),
    ({"__module__": {"class": ["nnlab.nn.functional", "relu"], "state": []}},
     "nnlab.nn.functional.relu"),
    ({"__global__": ["nnlab.nn.init", "np.load"]}, "nnlab.nn.init.np.load"),
])
def test_crafted_files_naming_code_are_refused(node, name):
    with pytest.raises(pickle.UnpicklingError, match=rf"<{name}>, which is not allowed"):
        nnlab.load(crafted(node))


def test_a_named_module_is_not_imported_before_the_check(tmp_path, monkeypatch):
    marker = tmp_path / "imported.txt"
    (tmp_path / "nnlab_marker_module.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\nclass Evil:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for node in ({"__module__": {"class": ["nnlab_marker_module", "Evil"], "state": []}},
                 {"__global__": ["nnlab_marker_module", "Evil"]}):
        with pytest.raises(pickle.UnpicklingError, match="nnlab_marker_module.Evil>"):
            nnlab.load(crafted(node))
    assert not marker.exists() and "nnlab_marker_module" not in sys.modules


def test_an_allowlisted_non_module_class_is_not_rebuilt_as_a_module():
    node = {"__module__": {"class": ["builtins", "dict"], "state": []}}
    with safe_globals([dict]), pytest.raises(pickle.UnpicklingError, match="not an nn.Module"):
        nnlab.load(crafted(node))


def test_a_bad_module_reference_is_a_damaged_file():
    with pytest.raises(pickle.UnpicklingError, match="damaged.*names no earlier module"):
        nnlab.load(crafted({"__module_ref__": 0}))


def test_the_file_is_plain_npz_without_pickle():
    model = nn.Sequential(nn.Linear(2, 3), nn.GELU())
    buffer = io.BytesIO()
    nnlab.save(model, buffer)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as z:
        meta = json.loads(z["__nnlab__"].tobytes())
        arrays = {k: z[k] for k in z.files if k != "__nnlab__"}
    assert meta["version"] == 2 and meta["format"] == "nnlab.save"
    root = meta["object"]["__module__"]
    assert root["class"] == ["nnlab.nn.container", "Sequential"]
    assert sorted(a.shape for a in arrays.values()) == [(3,), (3, 2)]
    assert serialization.VERSION == 2


def test_files_without_modules_stay_version_1():
    buffer = io.BytesIO()
    nnlab.save({"w": nnlab.ones(2)}, buffer)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as z:
        assert json.loads(z["__nnlab__"].tobytes())["version"] == 1


def test_a_function_outside_a_module_is_still_refused():
    with pytest.raises(TypeError, match=r"obj\['f'\], a callable"):
        nnlab.save({"f": top_level_activation}, io.BytesIO())


def test_nnlab_models_are_allowed_without_the_allowlist():
    from nnlab.models import LeNet5
    nnlab.manual_seed(5)
    model = LeNet5().eval()
    loaded = roundtrip(model)
    assert type(loaded) is LeNet5
    x = nnlab.randn(2, 1, 28, 28)
    same(model(x), loaded(x))
