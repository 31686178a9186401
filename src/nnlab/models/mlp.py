"""A multilayer perceptron: Linear -> activation (-> Dropout), repeated, then a Linear.

    x (N, in_features)            # images (N, C, H, W) are flattened per sample first
    for each hidden size h:
        x = activation(x @ W.T + b)   # (N, h)
        x = dropout(x)                # when dropout > 0 (training mode only)
    logits = x @ W_out.T + b_out      # (N, out_features)

The layers live in one `nn.Sequential` named `layers`, so the state_dict keys are
`layers.0.weight`, `layers.0.bias`, ... as in the torch model built the same way.
"""
from .. import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


class MLP(nn.Module):
    """in_features -> hidden_sizes[0] -> ... -> hidden_sizes[-1] -> out_features.

    activation: a name from ACTIVATIONS or a Module class, applied after every hidden
    Linear; dropout: the probability of the Dropout after each activation (0: none)."""

    def __init__(self, in_features, hidden_sizes, out_features, activation="relu",
                 dropout=0.0):
        super().__init__()
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise ValueError(f"MLP: unknown activation {activation!r}; expected one of "
                                 f"{sorted(ACTIVATIONS)} or an nn.Module class")
            activation = ACTIVATIONS[activation]
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout probability must be in [0, 1), got {dropout}")
        self.in_features, self.out_features = in_features, out_features
        self.hidden_sizes = tuple(hidden_sizes)
        sizes = (in_features, *self.hidden_sizes)
        blocks = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            blocks += [nn.Linear(fan_in, fan_out), activation()]
            if dropout > 0:
                blocks.append(nn.Dropout(dropout))
        blocks.append(nn.Linear(sizes[-1], out_features))
        self.layers = nn.Sequential(*blocks)

    def forward(self, x):
        if x.ndim > 2:
            x = x.flatten(1)  # (N, C, H, W) -> (N, C*H*W)
        return self.layers(x)  # (N, in_features) -> (N, out_features)
