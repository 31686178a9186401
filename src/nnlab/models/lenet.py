"""LeNet-5 (LeCun et al. 1998) for 28x28 digit images, as it is usually trained today.

    x (N, C, 28, 28)
    conv 5x5, 6 channels, padding 2 -> act -> pool 2x2   # (N, 6, 28, 28) -> (N, 6, 14, 14)
    conv 5x5, 16 channels           -> act -> pool 2x2   # (N, 16, 10, 10) -> (N, 16, 5, 5)
    flatten                                              # (N, 400)
    Linear 400 -> 120 -> act -> Linear 120 -> 84 -> act -> Linear 84 -> num_classes

By default act = ReLU and pool = max pooling, which train faster than the paper's choices;
activation="tanh", pool="avg" gives the 1998 flavour (its scaled tanh, trainable
subsampling, partial C3 connections and RBF output layer are not reproduced). The layers
live in two `nn.Sequential`s, so the state_dict keys read `features.0.weight`,
`features.3.weight`, `classifier.0.weight`, ... With the defaults it has 61,706 parameters.
"""
from .. import nn


def _choice(kind, value, table):
    if value not in table:
        raise ValueError(f"LeNet5: unknown {kind} {value!r}; expected one of {sorted(table)}")
    return table[value]


class LeNet5(nn.Module):
    """LeNet-5 for (N, in_channels, 28, 28) inputs, returning (N, num_classes) logits.

    activation: "relu" (default) or "tanh"; pool: "max" (default) or "avg"."""

    def __init__(self, num_classes=10, in_channels=1, activation="relu", pool="max"):
        super().__init__()
        act = _choice("activation", activation, {"relu": nn.ReLU, "tanh": nn.Tanh})
        pool_layer = _choice("pool", pool, {"max": nn.MaxPool2d, "avg": nn.AvgPool2d})
        self.num_classes, self.in_channels = num_classes, in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), act(),
            pool_layer(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), act(),
            pool_layer(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, 28, 28):
            raise ValueError(f"LeNet5: expected input of shape (N, {self.in_channels}, 28, 28), "
                             f"got {tuple(x.shape)}")
        x = self.features(x)  # (N, C, 28, 28) -> (N, 16, 5, 5)
        x = x.flatten(1)  # (N, 16, 5, 5) -> (N, 400)
        return self.classifier(x)  # (N, 400) -> (N, num_classes)
