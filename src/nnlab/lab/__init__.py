"""Floor 8: experiments that reproduce the theory. Each is a function that returns its
numbers as a dict and, given `out=DIR`, writes its plot there; none prints.

    plain_vs_residual   gradient at the first conv at initialisation and training loss
                        after a fixed budget, plain vs residual CNNs of the 6n+2 family
"""
from .plain_vs_residual import plain_vs_residual

__all__ = ["plain_vs_residual"]
