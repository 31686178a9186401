"""Diagnostics values on known cases, and the NaN / Inf stop."""
import numpy as np
import pytest

import nnlab
from nnlab import nn, optim, train
from nnlab.autograd import Function
from nnlab.data import DataLoader, TensorDataset
from nnlab.train.diagnostics import (
    Diagnostics,
    activation_stats,
    clamps_to_zero,
    dead_fraction,
    layer_groups,
)
from tests.train.common import tiny_setup


def one_batch_loader(x, y):
    return DataLoader(TensorDataset(nnlab.tensor(x), nnlab.tensor(y)), batch_size=len(x))


def test_activation_stats_and_dead_fraction():
    out = np.array([[1.0, -1.0, 0.0], [3.0, -2.0, 0.0]])
    stats = activation_stats(out)
    assert stats == {"act_mean": pytest.approx(out.mean()), "act_std": pytest.approx(out.std())}
    relu = np.maximum(out, 0)
    assert dead_fraction(relu) == pytest.approx(2 / 3)       # units 1 and 2 always 0
    assert dead_fraction(np.array([[0.0, 6.0], [0.0, 0.0]])) == 0.5
    assert dead_fraction(np.ones((1, 4, 2, 2))) == 0.0


def test_only_activations_that_clamp_to_zero_can_have_dead_units():
    counted = [nn.ReLU(), nn.ReLU(inplace=True), nn.Hardtanh(0.0, 6.0)]   # ReLU6
    not_counted = [nn.Hardtanh(), nn.LeakyReLU(), nn.PReLU(), nn.ELU(), nn.GELU(), nn.SiLU(),
                   nn.Softplus(), nn.Sigmoid(), nn.Tanh(), nn.Linear(2, 2)]
    assert all(clamps_to_zero(m) for m in counted)
    assert not any(clamps_to_zero(m) for m in not_counted)


def diagnose(model, x):
    """The layers part of a diagnostics record of one forward pass of `model` on `x`."""
    diag = Diagnostics(model, every=1)
    diag.begin(1, 1)
    model(nnlab.tensor(x))
    diag.end_forward()
    assert all(not m._forward_hooks for m in model.modules())
    return diag._record["layers"]


def linear(w, b):
    layer = nn.Linear(*np.shape(w)[::-1])
    layer.load_state_dict({"weight": np.array(w, np.float32), "bias": np.array(b, np.float32)})
    return layer


def test_dead_units_are_counted_only_where_a_zero_clamp_follows_and_name_it():
    # pre-activations of layer 0 on x = [[1], [-1]]: unit 0 (w 1, b -5) is <= 0 for both
    # samples (dead), unit 1 (w 1, b 0) is positive for one, unit 2 (w 0, b 0) is 0 for both
    x = [[1.0], [-1.0]]
    first = [[1.0], [1.0], [0.0]], [-5.0, 0.0, 0.0]
    for act, name in [(nn.ReLU(), "ReLU"), (nn.ReLU(inplace=True), "ReLU"),
                      (nn.Hardtanh(0.0, 6.0), "Hardtanh")]:
        model = nn.Sequential(linear(*first), act, linear([[1.0, 1.0, 1.0]], [-1.0]))
        layers = diagnose(model, x)
        assert layers["0"]["dead_fraction"] == pytest.approx(2 / 3)
        assert layers["0"]["dead_activation"] == f"1 ({name})"
        assert "dead_fraction" not in layers["2"] and "dead_activation" not in layers["2"]
        assert list(layers) == ["0", "2"]
    for act in (nn.LeakyReLU(), nn.Tanh(), nn.Hardtanh()):
        layers = diagnose(nn.Sequential(linear(*first), act, linear([[1.0] * 3], [0.0])), x)
        assert not any("dead_fraction" in r for r in layers.values())


def test_an_activation_fed_by_no_layer_gets_a_record_of_its_own():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = linear([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0])
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.relu(self.fc(x)) - x)      # second call: fed by a sum

    layers = diagnose(Residual(), [[1.0, -2.0], [3.0, -1.0]])
    # relu(fc(x)) = [[1, 0], [3, 0]]; minus x: [[0, 2], [0, 1]]: unit 0 always 0
    assert layers["fc"]["dead_fraction"] == 0.5 and layers["fc"]["dead_activation"] == \
        "relu (ReLU)"
    assert layers["relu"] == {"type": "ReLU", "dead_fraction": 0.5,
                              "dead_activation": "relu (ReLU)"}


def test_step_record_on_a_hand_computed_case():
    # layer 0: Linear(2, 4) whose pre-activations are all negative -> dead fraction 1.0;
    # layer 1: Linear(4, 2), its input is relu(...) = 0, so its weight gradient is zero
    nnlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    w0 = np.array([[0.5, -0.25], [0.1, 0.2], [-0.3, 0.4], [0.2, 0.1]], np.float32)
    model.load_state_dict({"0.weight": w0, "0.bias": np.full(4, -100.0, np.float32),
                           "2.weight": np.ones((2, 4), np.float32) * 0.5,
                           "2.bias": np.array([0.3, -0.2], np.float32)})
    x = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.3]], np.float32)
    y = np.array([0, 1, 1])
    lr = 0.1
    opt = optim.SGD(model.parameters(), lr=lr)
    history = train.fit(model, nn.CrossEntropyLoss(), opt, one_batch_loader(x, y), epochs=1,
                        diagnostics_every=1)
    record = history.steps[0]
    assert record["step"] == 1 and record["epoch"] == 1 and record["lr"] == lr
    assert list(record["layers"]) == ["0", "2"]
    layer0 = record["layers"]["0"]
    pre = x @ w0.T - 100.0
    assert layer0["type"] == "Linear" and layer0["dead_fraction"] == 1.0
    assert layer0["dead_activation"] == "1 (ReLU)"
    assert layer0["act_mean"] == pytest.approx(pre.mean(), rel=1e-6)
    assert layer0["act_std"] == pytest.approx(pre.std(), rel=1e-5)
    assert "dead_fraction" not in record["layers"]["2"]      # the output layer: no ReLU after

    # the logits are the bias alone: softmax(b) - onehot(y), averaged over the batch
    b = np.array([0.3, -0.2])
    p = np.exp(b) / np.exp(b).sum()
    g_bias = (p[None, :] - np.eye(2)[y]).mean(0)
    params = record["params"]
    assert params["2.bias"]["grad_norm"] == pytest.approx(np.linalg.norm(g_bias), rel=1e-6)
    assert params["2.weight"]["grad_norm"] == 0.0 and params["0.weight"]["grad_norm"] == 0.0
    assert params["2.bias"]["layer"] == "2"
    # plain SGD: ||dw|| / ||w|| = lr ||g|| / ||w||
    assert params["2.bias"]["weight_norm"] == pytest.approx(np.linalg.norm(b), rel=1e-6)
    assert params["2.bias"]["update_ratio"] == pytest.approx(
        lr * np.linalg.norm(g_bias) / np.linalg.norm(b), rel=1e-5)
    assert params["0.weight"]["update_ratio"] == 0.0
    assert record["loss"] == pytest.approx(-np.log(p[y]).mean(), rel=1e-6)


def test_diagnostics_schedule_and_hooks_removed():
    model, loss_fn, opt, train_loader, _ = tiny_setup()
    history = train.fit(model, loss_fn, opt, train_loader, epochs=3, diagnostics_every=5)
    assert [s["step"] for s in history.steps] == [1, 6, 11]
    assert all(not m._forward_hooks for m in model.modules())
    history = train.fit(model, loss_fn, opt, train_loader, epochs=1, diagnostics_every=0)
    assert history.steps == []
    with pytest.raises(ValueError, match="every must be a positive number"):
        Diagnostics(model, every=-1)


def test_layer_groups_name_the_root_by_its_class():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(nnlab.ones(3))
            self.inner = nn.Linear(3, 3)

    names = [(name, [p for p, _ in ps]) for name, _, ps in layer_groups(Scale())]
    assert names == [("Scale", ["w"]), ("inner", ["inner.weight", "inner.bias"])]


class InjectNaN(train.Callback):
    """Set one weight to NaN just before step `step`."""

    def __init__(self, step):
        self.step = step

    def on_batch_begin(self, trainer, batch):
        if trainer.step == self.step:
            trainer.model[0].weight._data[0, 0] = np.nan


class Recorder(train.Callback):
    order = 1000

    def __init__(self, path):
        self.path, self.files = path, {}

    def on_epoch_end(self, trainer, epoch, logs):
        self.files[epoch] = self.path.read_bytes()


def test_nan_loss_stops_naming_step_and_layer_and_keeps_the_last_checkpoint(tmp_path):
    model, loss_fn, opt, train_loader, val_loader = tiny_setup()
    recorder = Recorder(tmp_path / "last.npz")
    with pytest.raises(train.NonFiniteError) as info:
        train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=3,
                  callbacks=[InjectNaN(step=6), train.ModelCheckpoint(tmp_path), recorder],
                  run_dir=tmp_path)
    err = info.value
    assert (err.step, err.epoch, err.batch, err.kind, err.layer) == (6, 2, 1, "loss", "0")
    assert err.parameters == ["0.weight"]
    message = str(err)
    assert message.startswith("step 6 (epoch 2, batch 1): the loss is nan")
    assert "first layer with a non-finite output is '0' (Linear)" in message
    assert f"last good checkpoint is {tmp_path / 'last.npz'}" in message
    assert (tmp_path / "last.npz").read_bytes() == recorder.files[1]
    assert train.read_checkpoint(tmp_path / "last.npz").epoch == 1
    last_line = (tmp_path / "metrics.jsonl").read_text().strip().splitlines()[-1]
    assert '"kind": "error"' in last_line and "step 6" in last_line


class PoisonGrad(Function):
    """Identity forward; its backward returns NaN."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy * float("nan")


class Poison(nn.Module):
    def __init__(self):
        super().__init__()
        self.active = False

    def forward(self, x):
        return PoisonGrad.apply(x) if self.active else x


class PoisonAt(train.Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_begin(self, trainer, batch):
        trainer.model[2].active = trainer.step >= self.step


def test_nan_gradient_names_the_first_layer_in_the_backward_pass():
    nnlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), Poison(), nn.Linear(8, 2))
    _, loss_fn, _, train_loader, _ = tiny_setup()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(train.NonFiniteError) as info:
        train.fit(model, loss_fn, opt, train_loader, epochs=2, callbacks=[PoisonAt(3)])
    err = info.value
    assert (err.step, err.kind, err.layer, err.parameters) == (3, "gradient", "0",
                                                                ["0.weight", "0.bias"])
    assert "step 3 (epoch 1, batch 2): non-finite gradient" in str(err)
    assert "'0' (Linear): 0.weight (nan), 0.bias (nan)" in str(err)
    assert np.isfinite(model[0].weight._data).all()         # the step was not taken


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_huge_learning_rate_is_stopped():
    model, loss_fn, _, train_loader, _ = tiny_setup()
    opt = optim.SGD(model.parameters(), lr=1e30)
    with pytest.raises(train.NonFiniteError, match=r"^step \d+ \(epoch \d+, batch \d+\)"):
        train.fit(model, loss_fn, opt, train_loader, epochs=5)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_input_is_reported_as_such():
    model, loss_fn, opt, _, _ = tiny_setup()
    x = np.ones((4, 4), np.float32)
    x[1, 2] = np.inf
    with pytest.raises(train.NonFiniteError, match="the input batch itself has non-finite"):
        train.fit(model, loss_fn, opt, one_batch_loader(x, np.zeros(4, np.int64)))
