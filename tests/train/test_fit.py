"""fit / Trainer / History / evaluate / metrics on a tiny problem."""
import numpy as np
import pytest

import nnlab
from nnlab import nn, optim, train
from nnlab.data import DataLoader, TensorDataset
from nnlab.train import metrics
from tests.train.common import tiny_loaders, tiny_setup


def test_fit_decreases_the_loss_and_learns():
    model, loss_fn, opt, train_loader, val_loader = tiny_setup()
    history = train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=15)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert history["val_accuracy"][-1] >= 0.9


def test_history_contents():
    model, loss_fn, opt, train_loader, val_loader = tiny_setup()
    history = train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=3,
                        diagnostics_every=2)
    assert len(history) == 3
    assert list(history.last) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy",
                                  "lr", "time", "step"]
    assert history["epoch"] == [1, 2, 3]
    assert history["step"] == [4, 8, 12]                  # 64 samples, batches of 16
    assert history["lr"] == [0.05, 0.05, 0.05]
    assert all(t > 0 for t in history["time"])
    assert all(0 <= a <= 1 for a in history["accuracy"] + history["val_accuracy"])
    assert history.history["epoch"] == [1, 2, 3]
    assert history.best("val_accuracy")["val_accuracy"] == max(history["val_accuracy"])
    assert [s["step"] for s in history.steps] == [1, 3, 5, 7, 9, 11]
    assert "History(3 epochs" in repr(history)


def test_epoch_metrics_are_exact_over_a_smaller_last_batch():
    # 10 samples in batches of 4: the epoch loss is the per-sample mean, as evaluate's
    model, loss_fn, opt, _, _ = tiny_setup(lr=0.0)
    x = nnlab.randn(10, 4)
    y = nnlab.tensor(np.arange(10) % 2)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    history = train.fit(model, loss_fn, opt, loader, loader, epochs=1)
    full = loss_fn(model(x), y).item()
    assert history["loss"][0] == pytest.approx(full, rel=1e-6)
    assert history["val_loss"][0] == pytest.approx(full, rel=1e-6)
    correct = (model(x).argmax(1).numpy() == y.numpy()).sum()
    assert history["val_accuracy"][0] == correct / 10


def test_evaluate_restores_the_mode():
    model, loss_fn, _, _, val_loader = tiny_setup(dropout=0.5)
    model.train()
    first = train.evaluate(model, loss_fn, val_loader)
    assert model.training
    assert train.evaluate(model, loss_fn, val_loader) == first   # eval mode: no dropout
    assert first["samples"] == 32 and set(first) == {"loss", "accuracy", "samples"}


def test_regression_has_no_accuracy_and_multi_input_batches():
    nnlab.manual_seed(0)

    class Sum(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 1), nn.Linear(3, 1)

        def forward(self, x1, x2):
            return self.a(x1) + self.b(x2)

    x1, x2 = nnlab.randn(20, 3), nnlab.randn(20, 3)
    y = x1.sum(1, keepdim=True) - x2.sum(1, keepdim=True)
    model = Sum()
    opt = optim.Adam(model.parameters(), lr=0.05)
    loader = DataLoader(TensorDataset(x1, x2, y), batch_size=5)
    history = train.fit(model, nn.MSELoss(), opt, loader, epochs=20)
    assert "accuracy" not in history.last and "val_loss" not in history.last
    assert history["loss"][-1] < 0.1 * history["loss"][0]


def test_numpy_batches_are_converted():
    model, loss_fn, opt, _, _ = tiny_setup()
    x = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    batches = [(x, np.arange(8) % 2)]
    history = train.fit(model, loss_fn, opt, batches, epochs=1)
    assert history["step"] == [1]


def test_bad_batches_and_empty_loaders_are_clear_errors():
    model, loss_fn, opt, _, _ = tiny_setup()
    with pytest.raises(TypeError, match="a batch must be a tuple"):
        train.fit(model, loss_fn, opt, [nnlab.randn(2, 4)], epochs=1)
    with pytest.raises(ValueError, match="gave no batches"):
        train.fit(model, loss_fn, opt, [], epochs=1)


def test_metrics_accuracy_and_resolve():
    out = nnlab.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert metrics.accuracy(out, nnlab.tensor([1, 0, 0])) == (2.0, 3)
    assert metrics.resolve("auto", out, nnlab.tensor([1, 0, 0])) == {"accuracy":
                                                                     metrics.accuracy}
    assert metrics.resolve("auto", out, nnlab.randn(3, 2)) == {}
    assert metrics.resolve(None) == {}
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        metrics.resolve(["f1"])
    with pytest.raises(ValueError, match="do not match targets of shape"):
        metrics.accuracy(out, nnlab.tensor([1, 0]))


def test_custom_metric_callable():
    def top2(output, target):
        return float(len(target.data)), len(target.data)

    model, loss_fn, opt, train_loader, _ = tiny_loaders_setup()
    history = train.fit(model, loss_fn, opt, train_loader, epochs=1,
                        metrics=["accuracy", top2])
    assert history["top2"] == [1.0]
    assert 0 <= history["accuracy"][0] <= 1


def tiny_loaders_setup():
    model, loss_fn, opt, _, _ = tiny_setup()
    train_loader, val_loader = tiny_loaders()
    return model, loss_fn, opt, train_loader, val_loader
