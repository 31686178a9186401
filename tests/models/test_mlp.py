"""models.MLP: structure, PyTorch parity through state_dict, errors."""
import numpy as np
import pytest

import nnlab
from nnlab import models
from tests.helpers import requires_torch, torch


@requires_torch
@pytest.mark.parametrize("activation, torch_act", [("relu", "ReLU"), ("tanh", "Tanh"),
                                                   ("gelu", "GELU")])
def test_mlp_matches_the_torch_sequential(activation, torch_act):
    nnlab.manual_seed(0)
    model = models.MLP(6, [5, 4], 3, activation=activation, dropout=0.1).double()
    act = getattr(torch.nn, torch_act)
    twin = torch.nn.Sequential(torch.nn.Linear(6, 5), act(), torch.nn.Dropout(0.1),
                               torch.nn.Linear(5, 4), act(), torch.nn.Dropout(0.1),
                               torch.nn.Linear(4, 3)).double()
    model.load_state_dict({f"layers.{k}": v.detach().numpy()
                           for k, v in twin.state_dict().items()})
    model.eval()
    twin.eval()
    x = np.random.default_rng(0).standard_normal((7, 6))
    out = model(nnlab.tensor(x)).detach().numpy()
    np.testing.assert_allclose(out, twin(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_mlp_layers_and_image_inputs():
    model = models.MLP(16, [8], 2)
    assert list(model.state_dict()) == ["layers.0.weight", "layers.0.bias",
                                        "layers.2.weight", "layers.2.bias"]
    assert model(nnlab.randn(5, 1, 4, 4)).shape == (5, 2)
    assert "Linear(in_features=16, out_features=8, bias=True)" in repr(model)


def test_mlp_errors():
    with pytest.raises(ValueError, match="unknown activation 'swish2'"):
        models.MLP(4, [4], 2, activation="swish2")
    with pytest.raises(ValueError, match=r"dropout probability must be in \[0, 1\)"):
        models.MLP(4, [4], 2, dropout=1.0)
    with pytest.raises(ValueError, match="Linear"):
        models.MLP(4, [4], 2)(nnlab.randn(3, 5))
