"""Parameter initialisers of torch_geometric.nn.inits, in place, under no_grad.

    glorot(t):  U(-a, a), a = sqrt(6 / (t.shape[-2] + t.shape[-1]))   (any rank >= 2)
    zeros(t):   0
"""
import math

from ...nn import init


def glorot(tensor):
    if tensor is not None:
        a = math.sqrt(6.0 / (tensor.shape[-2] + tensor.shape[-1]))
        init.uniform_(tensor, -a, a)


def zeros(tensor):
    if tensor is not None:
        init.zeros_(tensor)
