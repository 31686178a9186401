"""One large matmul, forward + backward for both operands: measures BLAS use (no copies,
no transposed-operand slow paths) in the matmul op and its backward."""
import numpy as np

from ..registry import Workload, register


@register
class Matmul(Workload):
    name = "matmul-1024"
    description = "(a @ b).sum() with a, b 1024x1024 float32; backward to a and b"
    target = 1.05

    def arrays(self):
        n = 32 if self.small else 1024
        rng = self.rng()
        return {"a": rng.standard_normal((n, n), dtype=np.float32),
                "b": rng.standard_normal((n, n), dtype=np.float32)}, {}

    def loss(self, a, b):
        return (a @ b).sum()
