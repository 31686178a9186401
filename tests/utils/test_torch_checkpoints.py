"""nnlab.load of files written by real torch.save (zip and legacy formats): the values, and
the nnlab modules that load them compute what torch's modules compute."""
import argparse
import collections
import math
import pickle
import zipfile

import numpy as np
import pytest

import nnlab
from nnlab import nn, optim
from nnlab.models.gpt import GPT, GPTConfig
from nnlab.utils.torch_format import UnsafeGlobalError

from ..helpers import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch, the test oracle, is not installed")

SMALL_GPT = dict(vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=8, dropout=0.0)


def torch_gpt(config):
    """nanoGPT's model in torch, with nnlab's GPT keys (the test's oracle)."""
    tnn = torch.nn

    class Attention(tnn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = tnn.Linear(config.n_embd, 3 * config.n_embd)
            self.c_proj = tnn.Linear(config.n_embd, config.n_embd)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(C, dim=2)
            q, k, v = (a.view(B, T, config.n_head, C // config.n_head).transpose(1, 2)
                       for a in (q, k, v))
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn = tnn.LayerNorm(config.n_embd), Attention()
            self.ln_2 = tnn.LayerNorm(config.n_embd)
            self.mlp = tnn.ModuleDict(dict(c_fc=tnn.Linear(config.n_embd, 4 * config.n_embd),
                                           c_proj=tnn.Linear(4 * config.n_embd, config.n_embd)))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            mlp = self.mlp
            return x + mlp.c_proj(torch.nn.functional.gelu(mlp.c_fc(self.ln_2(x))))

    class TorchGPT(tnn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = tnn.ModuleDict(dict(
                wte=tnn.Embedding(config.vocab_size, config.n_embd),
                wpe=tnn.Embedding(config.block_size, config.n_embd),
                h=tnn.ModuleList([Block() for _ in range(config.n_layer)]),
                ln_f=tnn.LayerNorm(config.n_embd)))
            self.lm_head = tnn.Linear(config.n_embd, config.vocab_size, bias=False)
            self.lm_head.weight = self.transformer.wte.weight

        def forward(self, idx):
            t = self.transformer
            x = t.wte(idx) + t.wpe(torch.arange(idx.shape[1]))
            for block in t.h:
                x = block(x)
            return self.lm_head(t.ln_f(x))

    return TorchGPT()


def perturb_norms(module):
    """LayerNorm weights and biases away from 1 and 0, so that loading them is tested."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "ln" in name or "norm" in name:
                p.add_(0.1 * torch.randn(p.shape))


CASES = {  # name: (torch module, nnlab module, input shape, output of forward)
    "Linear": (lambda: torch.nn.Linear(5, 3), lambda: nn.Linear(5, 3), (4, 5), None),
    "Conv2d": (lambda: torch.nn.Conv2d(2, 3, 3, padding=1, stride=2),
               lambda: nn.Conv2d(2, 3, 3, padding=1, stride=2), (2, 2, 7, 7), None),
    "LSTM": (lambda: torch.nn.LSTM(4, 5, num_layers=2, batch_first=True),
             lambda: nn.LSTM(4, 5, num_layers=2, batch_first=True), (2, 6, 4),
             lambda out: out[0]),
    "TransformerEncoderLayer": (
        lambda: torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        (2, 5, 8), None),
    "GPT": (lambda: torch_gpt(GPTConfig(**SMALL_GPT)), lambda: GPT(GPTConfig(**SMALL_GPT)),
            "tokens", lambda out: out[0] if isinstance(out, tuple) else out),
}


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("name", list(CASES))
def test_torch_state_dict_loads_and_gives_torchs_outputs(name, legacy, tmp_path):
    make_torch, make_nnlab, shape, output = CASES[name]
    output = output or (lambda out: out)
    torch.manual_seed(0)
    reference = make_torch().eval()
    perturb_norms(reference)
    path = tmp_path / f"{name}.pt"
    torch.save(reference.state_dict(), path, _use_new_zipfile_serialization=not legacy)

    state = nnlab.load(path)
    expected = reference.state_dict()
    assert type(state) is collections.OrderedDict and list(state) == list(expected)
    for key, value in expected.items():
        assert type(state[key]) is nnlab.Tensor and state[key].dtype == np.float32
        np.testing.assert_array_equal(state[key].numpy(), value.numpy(), err_msg=key)

    model = make_nnlab()
    model.load_state_dict(state)
    model.eval()
    rng = np.random.default_rng(1)
    if shape == "tokens":
        x = rng.integers(0, SMALL_GPT["vocab_size"], size=(2, 6))
        ours, theirs = model(nnlab.tensor(x)), reference(torch.tensor(x))
    else:
        x = rng.standard_normal(shape).astype(np.float32)
        ours, theirs = model(nnlab.tensor(x)), reference(torch.tensor(x))
    with torch.no_grad():
        np.testing.assert_allclose(output(ours).detach().numpy(),
                                   output(theirs).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_adam_checkpoint_loads_and_resumes_as_torch(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.01, betas=(0.8, 0.99))
    x = torch.randn(6, 3)

    def torch_step():
        opt.zero_grad()
        net(x).pow(2).mean().backward()
        opt.step()

    torch_step()
    torch_step()
    config = {"lr": 0.01, "betas": (0.8, 0.99), "layers": [3, 4, 2], "name": "mlp"}
    torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
                "config": config}, tmp_path / "ckpt.pt")

    ckpt = nnlab.load(tmp_path / "ckpt.pt")
    assert ckpt["epoch"] == 3 and ckpt["config"] == config
    assert type(ckpt["config"]["betas"]) is tuple
    saved = opt.state_dict()
    assert list(ckpt["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    for index, state in saved["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(ckpt["optimizer"]["state"][index][key].numpy(),
                                          value.numpy())
    group = ckpt["optimizer"]["param_groups"][0]
    assert group == {k: v for k, v in saved["param_groups"][0].items()}

    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    model.load_state_dict(ckpt["model"])
    ours = optim.Adam(model.parameters(), lr=0.5)
    ours.load_state_dict(ckpt["optimizer"])
    ours.zero_grad()
    model(nnlab.tensor(x.numpy())).pow(2).mean().backward()
    ours.step()
    torch_step()
    for a, b in zip(model.parameters(), net.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


DTYPE_CASES = [  # torch dtype, the numpy dtype it loads as
    ("float16", np.float16), ("float32", np.float32), ("float64", np.float64),
    ("int8", np.int8), ("int16", np.int16), ("int32", np.int32), ("int64", np.int64),
    ("uint8", np.uint8), ("bool", np.bool_), ("complex64", np.complex64),
    ("complex128", np.complex128), ("uint16", np.uint16), ("bfloat16", np.float32),
]


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_dtypes_layouts_and_parameters(legacy, tmp_path):
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6) - 7
    tensors = {name: base.to(getattr(torch, name)) for name, _ in DTYPE_CASES
               if not (legacy and name == "uint16")}  # uint16 needs the zip format
    tensors["transposed"] = base.t()
    tensors["strided"] = base[1:, ::2]
    tensors["scalar"] = torch.tensor(2.5)
    tensors["empty"] = torch.zeros(0, 3)
    tensors["param"] = torch.nn.Parameter(base.float())
    tensors["frozen"] = torch.nn.Parameter(base.float(), requires_grad=False)
    tensors["grad"] = base.float().requires_grad_()
    torch.save(tensors, tmp_path / "t.pt", _use_new_zipfile_serialization=not legacy)

    back = nnlab.load(tmp_path / "t.pt")
    for name, dtype in DTYPE_CASES:
        if name in tensors:
            assert back[name].dtype == dtype, name
            expected = tensors[name].float() if name == "bfloat16" else tensors[name]
            np.testing.assert_array_equal(back[name].numpy(), expected.numpy(), err_msg=name)
    for name in ("transposed", "strided", "scalar", "empty"):
        assert back[name].shape == tuple(tensors[name].shape)
        np.testing.assert_array_equal(back[name].numpy(), tensors[name].numpy())
    assert type(back["param"]) is nn.Parameter and back["param"].requires_grad
    assert type(back["frozen"]) is nn.Parameter and not back["frozen"].requires_grad
    assert type(back["grad"]) is nnlab.Tensor and back["grad"].requires_grad


def test_plain_python_values_in_torch_files(tmp_path):
    obj = {"ints": {0: 1, 1: [2, 3]}, "tuple": (1, "a", None), "float": 0.1, "bool": True,
           "bytes": b"\x00\x01", "set": {1, 2}, "complex": 1 + 2j, "size": torch.Size([2, 3]),
           "dtype": torch.float16, "device": torch.device("cpu"), "nan": math.nan}
    torch.save(obj, tmp_path / "plain.pt")
    back = nnlab.load(tmp_path / "plain.pt")
    assert back["ints"] == {0: 1, 1: [2, 3]} and back["tuple"] == (1, "a", None)
    assert back["float"] == 0.1 and back["bool"] is True and back["bytes"] == b"\x00\x01"
    assert back["set"] == {1, 2} and back["complex"] == 1 + 2j and back["size"] == (2, 3)
    assert back["dtype"] == nnlab.float16 and back["device"] == nnlab.device("cpu")
    assert math.isnan(back["nan"])


def test_numpy_values_and_namespaces_need_weights_only_false(tmp_path):
    torch.save({"a": np.arange(3.0), "s": np.float32(2), "args": argparse.Namespace(lr=0.1)},
               tmp_path / "np.pt")
    with pytest.raises(UnsafeGlobalError, match=r"numpy\._core\.multiarray\._reconstruct"):
        nnlab.load(tmp_path / "np.pt")
    back = nnlab.load(tmp_path / "np.pt", weights_only=False)
    np.testing.assert_array_equal(back["a"], [0.0, 1.0, 2.0])
    assert back["s"] == np.float32(2) and back["args"].lr == 0.1


def test_big_endian_files_load(tmp_path):
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3) / 7
    path = tmp_path / "little.pt"
    torch.save({"t": t, "i": torch.tensor([1, -2], dtype=torch.int64)}, path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "big.pt", "w") as dst:
        prefix = src.namelist()[0].split("/")[0]
        for entry in src.namelist():
            raw = src.read(entry)
            if entry.endswith("byteorder"):
                raw = b"big"
            elif "/data/" in entry:
                width = 4 if entry.endswith("/0") else 8
                raw = np.frombuffer(raw, f"<u{width}").astype(f">u{width}").tobytes()
            dst.writestr(entry, raw)
    assert prefix
    back = nnlab.load(tmp_path / "big.pt")
    np.testing.assert_array_equal(back["t"].numpy(), t.numpy())
    np.testing.assert_array_equal(back["i"].numpy(), [1, -2])


def test_gpu_locations_and_map_location(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
    torch.save({"w": torch.ones(2)}, tmp_path / "gpu.pt")
    monkeypatch.undo()
    seen = []
    for form in [None, "cpu", nnlab.device("cpu"), {"cuda:0": "cpu"},
                 lambda array, location: seen.append(location)]:
        back = nnlab.load(tmp_path / "gpu.pt", map_location=form)
        assert back["w"].device == "cpu"
        np.testing.assert_array_equal(back["w"].numpy(), [1, 1])
    assert seen == ["cuda:0"]


def test_damaged_torch_files_are_clear_errors(tmp_path):
    torch.save({"w": torch.ones(4)}, tmp_path / "ok.pt")
    with zipfile.ZipFile(tmp_path / "ok.pt") as src, \
            zipfile.ZipFile(tmp_path / "short.pt", "w") as dst:
        for entry in src.namelist():
            raw = src.read(entry)
            dst.writestr(entry, raw[:8] if "/data/" in entry else raw)
    with pytest.raises(pickle.UnpicklingError, match="has 8 bytes, expected 16"):
        nnlab.load(tmp_path / "short.pt")


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_whole_pickled_module_is_refused_with_advice(legacy, tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "model.pt",
               _use_new_zipfile_serialization=not legacy)
    with pytest.raises(UnsafeGlobalError, match=r"'torch.nn.modules.linear.Linear'.*"
                                                r"save its state_dict\(\) instead"):
        nnlab.load(tmp_path / "model.pt", weights_only=False)


def test_a_truncated_legacy_file_is_a_clear_error(tmp_path):
    torch.save({"w": torch.ones(4)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    raw = (tmp_path / "old.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[:-6])
    with pytest.raises(pickle.UnpicklingError, match="truncated"):
        nnlab.load(tmp_path / "cut.pt")
    (tmp_path / "cut.pt").write_bytes(raw[:60])
    with pytest.raises(pickle.UnpicklingError, match="truncated"):
        nnlab.load(tmp_path / "cut.pt")


def test_a_tensor_with_python_attributes_is_a_clear_error(tmp_path):
    t = torch.ones(2)
    t.note = "hello"
    torch.save({"t": t}, tmp_path / "attr.pt")
    with pytest.raises(pickle.UnpicklingError, match=r"Tensor saved with Python attributes "
                                                     r"\(\{'note': 'hello'\}\)"):
        nnlab.load(tmp_path / "attr.pt")
