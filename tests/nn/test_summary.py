"""nn.utils.summary and count_parameters: shapes and counts in the table, frozen
parameters, shared modules, several inputs, and a model left as it was found."""
import numpy as np

import nnlab
from nnlab import models, nn
from nnlab.nn.utils import count_parameters, summary


class TwoInputs(nn.Module):
    """y = shared(shared(a)) + b: one Linear called twice, two inputs."""

    def __init__(self):
        super().__init__()
        self.shared = nn.Linear(4, 4)
        self.scale = nn.Parameter(nnlab.ones(4))

    def forward(self, a, b):
        return self.shared(self.shared(a)) * self.scale + b


def _row(table, name):
    return next(line for line in table.splitlines() if line.startswith(name + " "))


def test_summary_lists_leaves_with_shapes_and_counts():
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    table = summary(model, (5, 8))
    assert table.splitlines()[0] == "Sequential"
    assert _row(table, "0 (Linear)").split() == ["0", "(Linear)", "[5,", "16]", "144"]
    assert _row(table, "1 (BatchNorm1d)").split() == ["1", "(BatchNorm1d)", "[5,", "16]", "32"]
    assert _row(table, "2 (ReLU)").split() == ["2", "(ReLU)", "[5,", "16]", "--"]
    assert _row(table, "3 (Linear)").split() == ["3", "(Linear)", "[5,", "3]", "51"]
    assert "Total params: 227" in table
    assert "Trainable params: 227" in table and "Non-trainable params: 0" in table


def test_frozen_parameters_are_counted_apart():
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 2))
    model[0].requires_grad_(False)
    assert count_parameters(model) == 42
    assert count_parameters(model, trainable_only=False) == 262
    table = summary(model, (1, 10))
    assert "Total params: 262" in table
    assert "Trainable params: 42" in table and "Non-trainable params: 220" in table


def test_shared_modules_several_inputs_and_own_parameters():
    model = TwoInputs()
    assert count_parameters(model) == 24  # the shared Linear once
    table = summary(model, [(2, 4), (2, 4)])
    shared = [line.split() for line in table.splitlines() if line.startswith("shared ")]
    assert shared == [["shared", "(Linear)", "[2,", "4]", "20"],
                      ["shared", "(Linear)", "[2,", "4]", "(recursive)"]]
    assert _row(table, "(model) (TwoInputs)").split()[-1] == "4"  # its own `scale`
    assert "Total params: 24" in table


def test_summary_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5)).double()
    model[2].eval()
    summary(model, (6, 3))  # a float64 model gets float64 inputs
    assert model.training and model[1].training and not model[2].training
    np.testing.assert_array_equal(model[1].running_mean.numpy(), np.zeros(4))
    assert int(model[1].num_batches_tracked.item()) == 0
    assert all(not h for m in model.modules() for h in [m._forward_hooks])
    assert all(p.grad is None for p in model.parameters())


def test_summary_of_lenet():
    table = summary(models.LeNet5(), (1, 1, 28, 28))
    assert _row(table, "features.0 (Conv2d)").split()[2:] == ["[1,", "6,", "28,", "28]", "156"]
    assert _row(table, "features.2 (MaxPool2d)").split()[2:] == ["[1,", "6,", "14,", "14]",
                                                                 "--"]
    assert _row(table, "features.3 (Conv2d)").split()[-1] == "2,416"
    assert _row(table, "classifier.0 (Linear)").split()[2:] == ["[1,", "120]", "48,120"]
    assert _row(table, "classifier.4 (Linear)").split()[2:] == ["[1,", "10]", "850"]
    assert "Total params: 61,706" in table
