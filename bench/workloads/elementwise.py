"""A chain of 20 elementwise ops on 1M float32 elements, forward + backward: measures the
per-op cost of large unary and binary ops (memory passes, temporaries) in the engine."""
import numpy as np

from ..registry import Workload, register


def chain(x):
    """20 elementwise ops; each keeps its input in the op's safe range (exp of a bounded
    value, sqrt and log of values >= 1)."""
    y = x * 0.5           # 1  mul by a scalar
    y = y + 0.25          # 2  add a scalar
    y = y.tanh()          # 3  in (-1, 1)
    y = y * x             # 4  mul of two tensors
    y = y.sigmoid()       # 5  in (0, 1)
    y = y - 0.5           # 6  in (-0.5, 0.5)
    y = y.exp()           # 7  exp of a bounded value
    y = y.sin()           # 8
    y = y + x             # 9  add of two tensors
    y = y.relu()          # 10 >= 0
    y = y + 1.0           # 11 >= 1
    y = y.sqrt()          # 12 >= 1
    y = y.log()           # 13 >= 0
    y = y * y             # 14 square as a product
    y = y.cos()           # 15 in [-1, 1]
    y = y - x             # 16 sub of two tensors
    y = y / 3.0           # 17 div by a scalar
    y = -y                # 18 neg
    y = y.tanh()          # 19
    y = y * 2.0           # 20
    return y


@register
class ElementwiseChain(Workload):
    name = "elementwise-chain"
    description = "20 elementwise ops on 1M float32 elements; loss = y.sum(); backward"
    target = 1.5

    def arrays(self):
        n = 1000 if self.small else 1_000_000
        return {"x": self.rng().standard_normal(n, dtype=np.float32)}, {}

    def loss(self, x):
        return chain(x).sum()
