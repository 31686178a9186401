"""nnlab.onnx.export: models traced to ONNX and run in onnxruntime give nnlab's outputs
(float32, to 1e-5), with a dynamic batch axis, named initializers, eval mode, in-place ops
and clear errors."""
import io
import subprocess
import sys

import numpy as np
import pytest

import nnlab
from nnlab import nn
from nnlab.autograd.function import Function
from nnlab.models import GPT, MLP, LeNet5, resnet18
from nnlab.models.gpt import GPTConfig
from nnlab.nn import functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

DYNAMIC = {"input": {0: "batch"}, "output": {0: "batch"}}


class LSTMClassifier(nn.Module):
    """nn.LSTM (batch_first) and a Linear on the last step: (B, T, 4) -> (B, 3)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])


class Logits(nn.Module):
    """GPT's logits alone (its forward returns (logits, loss))."""

    def __init__(self):
        super().__init__()
        self.gpt = GPT(GPTConfig(vocab_size=40, block_size=16, n_layer=2, n_head=2,
                                 n_embd=16))

    def forward(self, idx):
        return self.gpt(idx)[0]


def _resnet():
    model = resnet18(num_classes=10)
    rng = np.random.default_rng(1)
    for name, buffer in model.named_buffers():    # running statistics that matter in eval
        if name.endswith("running_mean"):
            buffer.copy_(nnlab.tensor(rng.normal(0, 0.1, buffer.shape).astype(np.float32)))
        elif name.endswith("running_var"):
            buffer.copy_(nnlab.tensor(rng.uniform(0.5, 1.5, buffer.shape).astype(np.float32)))
    return model


# name: (model maker, input shape after the batch axis, input kind)
MODELS = {
    "mlp": (lambda: MLP(10, [16, 16], 3), (10,), "float"),
    "sequential": (lambda: nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2)), (6,),
                   "float"),
    "lenet5": (LeNet5, (1, 28, 28), "float"),
    "resnet18": (_resnet, (3, 32, 32), "float"),
    "lstm": (LSTMClassifier, (5, 4), "float"),
    "gpt": (Logits, (8,), "ids"),
}


def _input(kind, shape, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "ids":
        return rng.integers(0, 40, shape)
    return rng.standard_normal(shape).astype(np.float32)


def _export(model, x, **kwargs):
    buffer = io.BytesIO()
    nnlab.onnx.export(model, nnlab.tensor(x), buffer, **kwargs)
    return buffer.getvalue()


def _expected(model, x):
    model.eval()
    with nnlab.no_grad():
        return model(nnlab.tensor(x)).numpy()


def _run(proto, feeds):
    return ort.InferenceSession(proto, providers=["CPUExecutionProvider"]).run(None, feeds)


@pytest.mark.parametrize("name", list(MODELS))
def test_model_matches_onnxruntime_with_a_dynamic_batch(name):
    make, shape, kind = MODELS[name]
    nnlab.manual_seed(0)
    model = make()
    proto = _export(model, _input(kind, (2,) + shape), dynamic_axes=DYNAMIC)
    onnx.checker.check_model(onnx.load_from_string(proto))
    for batch in (2, 5):   # exported with batch 2, run with 2 and 5
        x = _input(kind, (batch,) + shape, seed=batch)
        got, = _run(proto, {"input": x})
        np.testing.assert_allclose(got, _expected(model, x), rtol=1e-5, atol=1e-5)


class LastOutput(nn.Module):
    """A recurrent layer's output sequence alone."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


class PaddedEmbedding(nn.Module):
    """Embedding with padding_idx, ELU (a where on x > 0), log_softmax (a row-max shift)."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(40, 4, padding_idx=0)
        self.fc = nn.Linear(4, 3)

    def forward(self, idx):
        return F.log_softmax(self.fc(F.elu(self.embed(idx))), -1)


# more layers, each exported with a dynamic batch: name -> (maker, shape after batch, kind)
LAYERS = {
    "lenet5_avg_tanh": (lambda: LeNet5(activation="tanh", pool="avg"), (1, 28, 28), "float"),
    "conv1d_bn_gelu_maxpool_softmax": (lambda: nn.Sequential(
        nn.Conv1d(3, 4, 3, padding=1, stride=2), nn.BatchNorm1d(4),
        nn.GELU(approximate="tanh"), nn.MaxPool1d(2), nn.Flatten(), nn.Softmax(-1)),
        (3, 16), "float"),
    "groupnorm_silu_adaptive_upsample": (lambda: nn.Sequential(
        nn.Conv2d(2, 4, 3), nn.GroupNorm(2, 4), nn.SiLU(), nn.AdaptiveAvgPool2d(3),
        nn.Upsample(scale_factor=2)), (2, 9, 9), "float"),
    "gru_two_layers": (lambda: LastOutput(nn.GRU(4, 6, num_layers=2, batch_first=True)),
                       (5, 4), "float"),
    "lstm_bidirectional": (lambda: LastOutput(nn.LSTM(4, 6, bidirectional=True,
                                                      batch_first=True)), (5, 4), "float"),
    "rnn_relu": (lambda: LastOutput(nn.RNN(4, 6, nonlinearity="relu", batch_first=True)),
                 (5, 4), "float"),
    "transformer_encoder_layer": (lambda: nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.1, batch_first=True), (5, 8), "float"),
    "embedding_padding_elu_log_softmax": (PaddedEmbedding, (6,), "ids"),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layers_match_onnxruntime(name):
    make, shape, kind = LAYERS[name]
    nnlab.manual_seed(0)
    model = make()
    proto = _export(model, _input(kind, (2,) + shape), dynamic_axes=DYNAMIC)
    x = _input(kind, (3,) + shape, seed=3)
    got, = _run(proto, {"input": x})
    np.testing.assert_allclose(got, _expected(model, x), rtol=1e-5, atol=1e-5)


def test_opset_18():
    nnlab.manual_seed(0)
    model = Logits()
    x = _input("ids", (2, 8))
    got, = _run(_export(model, x, opset_version=18), {"input": x})
    np.testing.assert_allclose(got, _expected(model, x), rtol=1e-5, atol=1e-5)


def test_static_export_has_fixed_shapes_and_writes_a_file(tmp_path):
    nnlab.manual_seed(0)
    model = LeNet5()
    x = _input("float", (2, 1, 28, 28))
    path = tmp_path / "lenet.onnx"
    nnlab.onnx.export(model, nnlab.tensor(x), str(path), input_names=["image"],
                      output_names=["logits"])
    proto = onnx.load(str(path))
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert proto.graph.input[0].name == "image" and dims == [2, 1, 28, 28]
    assert proto.graph.output[0].name == "logits"
    assert {n.op_type for n in proto.graph.node} >= {"Conv", "MaxPool", "Relu", "Gemm"}
    got, = _run(path.read_bytes(), {"image": x})
    np.testing.assert_allclose(got, _expected(model, x), rtol=1e-5, atol=1e-5)


def test_dynamic_axes_name_the_graphs_dimensions():
    model = nn.Sequential(nn.Linear(3, 2))
    proto = onnx.load_from_string(_export(model, _input("float", (2, 3)),
                                          dynamic_axes={"input": [0]}))
    def dims(value):
        return [(d.dim_param, d.dim_value) for d in value.type.tensor_type.shape.dim]
    assert dims(proto.graph.input[0]) == [("input_dynamic_axes_1", 0), ("", 3)]
    assert dims(proto.graph.output[0]) == [("input_dynamic_axes_1", 0), ("", 2)]


def test_initializers_carry_state_dict_names_and_tied_weights_appear_once():
    nnlab.manual_seed(0)
    model = Logits()
    proto = onnx.load_from_string(_export(model, _input("ids", (2, 8))))
    names = [i.name for i in proto.graph.initializer]
    state = model.state_dict()
    params = [n for n in names if not n.startswith("const_")]
    assert set(params) <= set(state)
    assert "gpt.transformer.wte.weight" in params and "gpt.lm_head.weight" not in params
    assert "gpt.transformer.h.1.mlp.c_fc.weight" in params
    table = next(i for i in proto.graph.initializer if i.name == "gpt.transformer.wte.weight")
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(table),
                                  state["gpt.transformer.wte.weight"].numpy())


class DropoutNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.bn = nn.BatchNorm1d(4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.bn(self.fc(x)))


def test_export_runs_in_eval_mode_and_restores_the_mode():
    nnlab.manual_seed(0)
    model = DropoutNet()
    model.bn.running_mean.copy_(nnlab.tensor(np.array([0.5, -1.0, 0.25, 2.0], np.float32)))
    model.train()
    x = _input("float", (3, 4))
    proto = _export(model, x)
    assert model.training and model.drop.training
    got, = _run(proto, {"input": x})
    np.testing.assert_allclose(got, _expected(model, x), rtol=1e-5, atol=1e-6)
    model.eval()
    _export(model, x)
    assert not model.training


class InPlace(nn.Module):
    """In-place ops rewrite a tensor's value: the graph must follow the new value."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        y += 1.5
        y.mul_(2)
        y = F.leaky_relu(y, 0.1, inplace=True)
        return y, nn.functional.relu(y - 3, inplace=True).sum(1)


def test_in_place_ops_and_several_outputs():
    nnlab.manual_seed(0)
    model = InPlace()
    x = _input("float", (3, 4))
    proto = _export(model, x, output_names=["y", "total"], dynamic_axes={"input": {0: "n"}})
    model.eval()
    with nnlab.no_grad():
        want = [t.numpy() for t in model(nnlab.tensor(x))]
    got = _run(proto, {"input": x})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


class Twice(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, gy):
        return gy * 2


class Doubler(nn.Module):
    def forward(self, x):
        return Twice.apply(x)


def test_an_op_without_a_mapping_is_named_with_its_layer():
    model = nn.Sequential(nn.Linear(3, 3), Doubler())
    with pytest.raises(NotImplementedError,
                       match=r"onnx.export: no ONNX mapping for Twice \(used in 1 \(Doubler\)\)"):
        _export(model, _input("float", (2, 3)))


def test_a_constant_that_follows_a_dynamic_axis_is_refused():
    nnlab.manual_seed(0)
    with pytest.raises(RuntimeError, match="depends on the size of a dynamic axis"):
        _export(Logits(), _input("ids", (2, 8)), dynamic_axes={"input": {1: "time"}})


class Thresholded(nn.Module):
    def forward(self, x):
        return x * (x > 0.5)     # a comparison: a bool tensor made outside the traced ops


def test_a_value_computed_from_the_input_outside_the_ops_is_refused():
    x = np.tile(np.arange(3, dtype=np.float32), (2, 1))
    with pytest.raises(RuntimeError, match=r"\(in Thresholded\) is computed from the input "
                                           "outside nnlab's traced ops"):
        _export(Thresholded(), x)


def test_missing_onnx_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match="pip install onnx"):
        _export(nn.Linear(2, 2), _input("float", (1, 2)))


def test_importing_nnlab_does_not_import_onnx():
    code = ("import sys, nnlab, nnlab.onnx; "
            "assert 'onnx' not in sys.modules and 'onnxruntime' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
