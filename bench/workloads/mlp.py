"""A hand-written two-layer MLP with a softmax cross-entropy built from ops, forward +
backward: a small training step where both BLAS and per-op overhead count."""
import numpy as np

from ..registry import Workload, register


def mlp_loss(x, w1, b1, w2, b2, onehot):
    """Cross-entropy of a 2-layer MLP, composed from primitives (no fused loss):
    x (N, in), w1 (hidden, in), b1 (hidden,), w2 (out, hidden), b2 (out,), onehot (N, out)."""
    h = (x @ w1.T + b1).relu()                     # (N, hidden)
    logits = h @ w2.T + b2                         # (N, out)
    logp = logits - logits.logsumexp(1, keepdim=True)
    return -(logp * onehot).sum(1).mean()


@register
class MLP(Workload):
    name = "mlp-784-512-10"
    description = "784-512-10 MLP, batch 128, relu, composed log-softmax NLL; backward"
    target = 1.0

    def arrays(self):
        n, d_in, d_hidden, d_out = (8, 20, 16, 10) if self.small else (128, 784, 512, 10)
        rng = self.rng()

        def uniform(fan_in, *shape):   # torch.nn.Linear's default init range
            bound = 1 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, shape).astype(np.float32)

        leaves = {"w1": uniform(d_in, d_hidden, d_in), "b1": uniform(d_in, d_hidden),
                  "w2": uniform(d_hidden, d_out, d_hidden), "b2": uniform(d_hidden, d_out)}
        labels = rng.integers(0, d_out, n)
        constants = {"x": rng.standard_normal((n, d_in), dtype=np.float32),
                     "onehot": np.eye(d_out, dtype=np.float32)[labels]}
        return leaves, constants

    def loss(self, x, w1, b1, w2, b2, onehot):
        return mlp_loss(x, w1, b1, w2, b2, onehot)
