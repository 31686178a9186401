"""Anomaly mode names the layer: each graph node keeps the module scope it was made in."""
import numpy as np
import pytest

import nnlab
from nnlab import autograd, nn
from nnlab.autograd import Function, grad_mode
from nnlab.models import MLP
from nnlab.nn import hooks


class InfGrad(Function):
    """Identity forward; its backward returns gy * inf (Inf where gy > 0)."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy * float("inf")


class NaNInBackwardOps(Function):
    """Identity forward; its backward computes gy * inf * 0 in Tensor ops (a NaN made by
    an op that the backward runs)."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy * float("inf") * 0.0


class Apply(nn.Module):
    """Applies `fn` to its input: a layer made of one custom Function."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn.apply(x)


def mlp_with_nan_weight():
    nnlab.manual_seed(0)
    model = MLP(3, [4], 2)                        # layers: 0 Linear, 1 ReLU, 2 Linear
    model.layers[2].weight._data[0, 0] = np.nan
    return model


def test_a_forward_nan_names_the_op_and_the_layer():
    model = mlp_with_nan_weight()
    with autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            model(nnlab.randn(5, 3))
    assert str(info.value) == ("anomaly: Affine (in layers.2 (Linear)) returned NaN values in "
                               "its forward pass")
    assert grad_mode._scopes == []                 # every scope popped on the way out


def test_a_backward_inf_names_the_layer_that_made_the_node():
    nnlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), Apply(InfGrad))
    with autograd.detect_anomaly():
        loss = model(nnlab.randn(5, 3)).sum()      # d loss / d output = 1: InfGrad gives inf
        with pytest.raises(RuntimeError, match=r"(?s)^anomaly: InfGradBackward \(in 1 "
                                               r"\(Apply\)\) returned NaN or Inf values in "
                                               r"its backward pass.*created at"):
            loss.backward()
    assert grad_mode._scopes == []


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_nan_made_inside_a_backward_names_the_layer_and_the_node():
    nnlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), Apply(NaNInBackwardOps))
    with autograd.detect_anomaly():
        loss = model(nnlab.randn(5, 3)).sum()
        with pytest.raises(RuntimeError, match=r"^anomaly: Mul \(in 1 \(Apply\), during "
                                               r"NaNInBackwardOpsBackward\) returned NaN"):
            loss.backward()


def test_the_root_is_named_by_its_class_and_ops_outside_modules_by_the_op_alone():
    class Root(nn.Module):
        def forward(self, x):
            return x.log()

    x = nnlab.tensor([-1.0, 1.0])
    with np.errstate(invalid="ignore"), autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"^anomaly: Log \(in Root\) returned NaN"):
            Root()(x)
        with pytest.raises(RuntimeError, match=r"^anomaly: Log returned NaN"):
            x.log()


def test_scope_names_nested_shared_and_foreign_modules():
    inner = nn.Linear(2, 2)
    foreign = nn.Linear(2, 2)                      # called by a module that does not own it
    seen = {}

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(inner, nn.ReLU())
            self.again = inner                      # the same module under a second name

        def forward(self, x):
            seen["block"] = grad_mode.current_scope()
            return foreign(self.again(self.body(x)))

    def record(key):
        def hook(module, args):
            seen.setdefault(key, []).append(grad_mode.current_scope())
        return hook

    inner.register_forward_pre_hook(record("inner"))
    foreign.register_forward_pre_hook(record("foreign"))
    model = nn.Sequential(nn.Identity(), Block())
    with autograd.detect_anomaly():
        model(nnlab.ones(1, 2))
    # the name is the one under the module that made the call
    assert seen == {"block": "in 1 (Block)",
                    "inner": ["in 1.body.0 (Linear)", "in 1.again (Linear)"],
                    "foreign": ["in Linear"]}


def test_nodes_keep_their_scope_only_in_anomaly_mode():
    model = nn.Sequential(nn.Linear(2, 2))
    x = nnlab.ones(1, 2)
    with autograd.detect_anomaly():
        y = model(x)
    assert y.grad_fn._scope == "in 0 (Linear)"
    assert not hasattr(model(x).grad_fn, "_scope")


def test_without_anomaly_mode_a_call_without_hooks_skips_the_hook_path(monkeypatch):
    def refuse(*args):
        raise AssertionError("call_with_hooks ran without hooks or anomaly mode")

    monkeypatch.setattr(hooks, "call_with_hooks", refuse)
    nn.Linear(2, 2)(nnlab.ones(1, 2))              # one branch, no scope, no hook path
    assert grad_mode._scopes == []
