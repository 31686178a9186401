"""`AlphaDropout` and `FeatureAlphaDropout`: dropout for SELU networks (see
functional/alpha_dropout.py), on only in training."""
from . import functional as F
from .dropout import _DropoutNd


class AlphaDropout(_DropoutNd):
    """Alpha dropout of each element in training; the identity in eval."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels of (N, C, *) in training; the identity in eval."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
