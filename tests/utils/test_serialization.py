"""nnlab.save / nnlab.load in nnlab's own format: round trips, atomic writes, clear errors,
and refusal of pickles that would run code (files built here with torch.save)."""
import collections
import io
import os
import pickle
import subprocess
import zipfile

import numpy as np
import pytest

import nnlab
from nnlab import nn, optim
from nnlab.utils.torch_format import UnsafeGlobalError

from ..helpers import requires_torch, torch

DTYPES = [np.float16, np.float32, np.float64, np.complex64, np.complex128, np.int8,
          np.int16, np.int32, np.int64, np.uint8, np.bool_]


def roundtrip(obj, tmp_path, **load_args):
    path = tmp_path / "obj.nnlab"
    nnlab.save(obj, path)
    return nnlab.load(path, **load_args)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_tensor_round_trip_keeps_values_and_dtype(dtype, tmp_path):
    values = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    back = roundtrip(nnlab.tensor(values), tmp_path)
    assert type(back) is nnlab.Tensor and back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back.numpy(), values)
    assert not back.requires_grad


def test_requires_grad_and_parameter_type_round_trip(tmp_path):
    p = nn.Parameter(nnlab.tensor([1.5, -2.0]))
    frozen = nn.Parameter(nnlab.tensor([3.0]), requires_grad=False)
    t = nnlab.tensor([[1.0, 2.0]], requires_grad=True)
    back = roundtrip({"p": p, "frozen": frozen, "t": t, "again": p}, tmp_path)
    assert type(back["p"]) is nn.Parameter and back["p"].requires_grad
    assert type(back["frozen"]) is nn.Parameter and not back["frozen"].requires_grad
    assert type(back["t"]) is nnlab.Tensor and back["t"].requires_grad and back["t"].is_leaf
    assert back["again"] is back["p"]  # one object saved twice comes back one object
    np.testing.assert_array_equal(back["p"].detach().numpy(), [1.5, -2.0])


def test_nested_checkpoint_keeps_key_types_tuples_and_plain_values(tmp_path):
    obj = {
        "model": collections.OrderedDict([("b", nnlab.ones(2)), ("a", nnlab.zeros(1))]),
        "optimizer": {"state": {0: {"step": np.array(3.0, np.float32)}, 1: {}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1],
                                        "foreach": None, "amsgrad": False}]},
        "epoch": 3, "loss": 3.0, "big": 2 ** 70, "name": "ünï", "none": None,
        "specials": [float("nan"), float("inf"), -float("inf")],
        (1, "x"): "a tuple key", 2.5: "a float key", True: "a bool key",
        "__tuple__": "a key spelled as a tag", "c": 1 - 2j, "bytes": b"\x00\xff",
        "set": {1, 2}, "frozen": frozenset({"a"}), "np": np.arange(3, dtype=np.int16),
        "scalar": np.float64(0.25), "dtype": nnlab.float16, "device": nnlab.device("cpu"),
    }
    back = roundtrip(obj, tmp_path)
    assert list(back) == list(obj)
    assert type(back["model"]) is collections.OrderedDict and list(back["model"]) == ["b", "a"]
    state = back["optimizer"]["state"]
    assert list(state) == [0, 1] and state[0]["step"].dtype == np.float32
    assert float(state[0]["step"]) == 3.0
    group = back["optimizer"]["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and type(group["betas"]) is tuple
    assert group["params"] == [0, 1] and group["foreach"] is None and group["amsgrad"] is False
    assert type(back["epoch"]) is int and type(back["loss"]) is float and back["big"] == 2 ** 70
    assert back["name"] == "ünï" and back["none"] is None
    assert np.isnan(back["specials"][0]) and back["specials"][1:] == [np.inf, -np.inf]
    assert back[(1, "x")] == "a tuple key" and back[2.5] == "a float key"
    assert back[True] == "a bool key" and back["__tuple__"] == "a key spelled as a tag"
    assert back["c"] == 1 - 2j and back["bytes"] == b"\x00\xff"
    assert back["set"] == {1, 2} and back["frozen"] == frozenset({"a"})
    np.testing.assert_array_equal(back["np"], [0, 1, 2])
    assert back["np"].dtype == np.int16
    assert back["scalar"] == 0.25 and isinstance(back["scalar"], np.float64)
    assert back["dtype"] == nnlab.float16 and back["device"] == nnlab.device("cpu")


def test_format_is_a_pickle_free_npz(tmp_path):
    path = tmp_path / "x.nnlab"
    nnlab.save({"w": nnlab.ones(2, 3)}, path)
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["__nnlab__", "arrays/0"]
        np.testing.assert_array_equal(z["arrays/0"], np.ones((2, 3), np.float32))
        meta = z["__nnlab__"].tobytes().decode()
    assert meta.startswith('{"format":"nnlab.save","version":1,')


def test_file_objects_and_non_seekable_reads(tmp_path):
    buf = io.BytesIO()
    nnlab.save([nnlab.arange(4), (1, 2)], buf)
    buf.seek(0)
    back = nnlab.load(buf)
    np.testing.assert_array_equal(back[0].numpy(), [0, 1, 2, 3])
    assert back[1] == (1, 2)

    class Stream:  # read() only, as a socket or pipe offers
        def __init__(self, data):
            self.data = data

        def read(self, n=-1):
            return self.data

    assert nnlab.load(Stream(buf.getvalue()))[1] == (1, 2)


def test_module_and_optimizer_state_round_trip_resume_exactly(tmp_path):
    nnlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = nnlab.randn(5, 3)

    def step(m, o):
        o.zero_grad()
        m(x).pow(2).mean().backward()
        o.step()

    step(model, opt)
    nnlab.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1},
               tmp_path / "ckpt.nnlab")
    ckpt = nnlab.load(tmp_path / "ckpt.nnlab")
    model2 = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    model2.load_state_dict(ckpt["model"])
    opt2 = optim.Adam(model2.parameters(), lr=0.01)
    opt2.load_state_dict(ckpt["optimizer"])
    step(model, opt)
    step(model2, opt2)
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert ckpt["epoch"] == 1


@pytest.mark.parametrize("bad, match", [
    (lambda x: x, r"obj\['net'\], a callable"),
    (subprocess, r"obj\['net'\], an object of type builtins.module"),
    (np.array([object()]), r"object array"),
])
def test_unsupported_objects_are_clear_errors(bad, match, tmp_path):
    with pytest.raises(TypeError, match=match):
        nnlab.save({"net": bad}, tmp_path / "x.nnlab")
    assert not os.listdir(tmp_path)


def test_a_cycle_is_a_clear_error(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match=r"obj\[0\] contains itself"):
        nnlab.save(loop, tmp_path / "x.nnlab")


def test_a_failing_save_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.nnlab"
    nnlab.save({"w": nnlab.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        nnlab.save({"w": nnlab.zeros(3), "f": print}, path)

    def savez_that_fails(file, **arrays):
        file.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", savez_that_fails)
    with pytest.raises(OSError, match="disk full"):
        nnlab.save({"w": nnlab.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.nnlab"]  # no temporary file left behind
    monkeypatch.undo()
    np.testing.assert_array_equal(nnlab.load(path)["w"].numpy(), [1, 1, 1])


def test_files_that_are_not_checkpoints_are_clear_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a checkpoint\n")
    with pytest.raises(pickle.UnpicklingError,
                       match=r"notes.txt is not a file written by nnlab.save or torch.save: "
                             r"it starts with b'hello"):
        nnlab.load(text)
    other = tmp_path / "arrays.npz"
    np.savez(other, a=np.ones(2))
    with pytest.raises(pickle.UnpicklingError, match="neither an nnlab.save file"):
        nnlab.load(other)
    good = tmp_path / "good.nnlab"
    nnlab.save({"w": nnlab.ones(100)}, good)
    cut = tmp_path / "cut.nnlab"
    cut.write_bytes(good.read_bytes()[:150])
    with pytest.raises(pickle.UnpicklingError, match="cut.nnlab is a damaged"):
        nnlab.load(cut)
    with pytest.raises(TypeError, match="map_location must be"):
        nnlab.load(good, map_location=3)
    with pytest.raises(TypeError, match="f must be a path or a binary file object"):
        nnlab.save({}, 3)


def test_map_location_forms_land_on_the_cpu(tmp_path):
    seen = []
    forms = ["cpu", nnlab.device("cpu"), {"cuda:0": "cpu"},
             lambda array, location: seen.append(location)]
    path = tmp_path / "x.nnlab"
    nnlab.save({"w": nnlab.ones(2)}, path)
    for form in forms:
        assert nnlab.load(path, map_location=form)["w"].device == "cpu"
    assert seen == ["cpu"]


# -- pickles that would run code ---------------------------------------------------------------
class Evil:
    """An object whose unpickling calls `call(*args)`."""

    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


def evil_payloads(marker):
    return {
        "posix.system": Evil(os.system, f"touch {marker}"),
        "builtins.eval": Evil(eval, f"open({str(marker)!r}, 'w').close()"),
        "subprocess.Popen": Evil(subprocess.Popen, ["touch", str(marker)]),
        "builtins.exec": Evil(exec, f"open({str(marker)!r}, 'w').close()"),
    }


@requires_torch
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.parametrize("name", ["posix.system", "builtins.eval", "subprocess.Popen",
                                  "builtins.exec"])
def test_malicious_torch_files_are_refused_and_run_nothing(name, weights_only, legacy,
                                                           tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"weight": torch.ones(2), "extra": evil_payloads(marker)[name]}
    torch.save(payload, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(UnsafeGlobalError, match=rf"refused to load the global '{name}'"):
        nnlab.load(path, weights_only=weights_only)
    assert not marker.exists()


def torch_zip(path, pickled, storages=None):
    """A file in torch's zip layout around the given pickle bytes."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickled)
        z.writestr("archive/byteorder", "little")
        for key, raw in (storages or {}).items():
            z.writestr(f"archive/data/{key}", raw)
        z.writestr("archive/version", "3\n")


def test_setting_state_on_an_admitted_function_is_refused(tmp_path):
    # GLOBAL torch._utils._rebuild_tensor_v2; EMPTY_DICT; BUILD: would mutate the function
    pickled = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n}b."
    torch_zip(tmp_path / "build.pt", pickled)
    with pytest.raises(pickle.UnpicklingError, match="refused to set the state of a function"):
        nnlab.load(tmp_path / "build.pt")


@requires_torch
def test_a_tensor_reaching_outside_its_storage_is_refused(tmp_path):
    storage = torch.ones(2)._typed_storage()

    class Overreach:
        def __reduce__(self):
            return torch._utils._rebuild_tensor_v2, (storage, 0, (100,), (1,), False,
                                                     collections.OrderedDict())

    torch.save({"t": Overreach()}, tmp_path / "over.pt")
    with pytest.raises(pickle.UnpicklingError, match="reaches element 99 of a storage of 2"):
        nnlab.load(tmp_path / "over.pt")
