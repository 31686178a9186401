"""Training steps of small MLPs built from modules, with Adam: forward, loss, backward and
the optimiser's update. The same code runs on both sides, with `lib` nnlab or torch."""
import numpy as np

from ..registry import Step, Workload, register


class TrainStep(Step):
    """One training iteration: zero the grads, loss, backward, optimiser step."""

    def __init__(self, model, loss_fn, optimizer, inputs, targets):
        super().__init__(lambda: loss_fn(model(inputs), targets), dict(model.named_parameters()))
        self.optimizer = optimizer

    def __call__(self):
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn()
        loss.backward()
        self.optimizer.step()
        return loss


class MLPTraining(Workload):
    """An MLP of Linear layers with `activation` between them, trained by Adam."""

    sizes = ()
    small_sizes = ()
    batch = 1
    activation = "ReLU"
    classify = True

    def build(self, lib):
        sizes = self.small_sizes if self.small else self.sizes
        rng = self.rng()
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i:
                layers.append(getattr(lib.nn, self.activation)())
            layers.append(lib.nn.Linear(fan_in, fan_out))
        model = lib.nn.Sequential(*layers)
        state = {}
        for name, p in model.named_parameters():   # one set of weights for both sides
            bound = 1 / np.sqrt(sizes[0] if name.startswith("0.") else p.shape[-1])
            state[name] = rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)
        model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        x = lib.tensor(rng.standard_normal((self.batch, sizes[0]), dtype=np.float32))
        if self.classify:
            y = lib.tensor(rng.integers(0, sizes[-1], self.batch))
            loss_fn = lib.nn.CrossEntropyLoss()
        else:
            y = lib.tensor(rng.standard_normal((self.batch, sizes[-1]), dtype=np.float32))
            loss_fn = lib.nn.MSELoss()
        optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
        return TrainStep(model, loss_fn, optimizer, x, y)

    def setup_nnlab(self):
        import nnlab
        return self.build(nnlab)

    def setup_torch(self):
        import torch
        return self.build(torch)


@register
class BigMLP(MLPTraining):
    name = "mlp-784-512-512-10-adam"
    description = "784-512-512-10 ReLU MLP, batch 128, cross-entropy, Adam step"
    target = 0.9
    sizes, small_sizes, batch = (784, 512, 512, 10), (20, 16, 16, 10), 128


@register
class TinyMLP(MLPTraining):
    name = "mlp-2-64-64-1-tanh-adam"
    description = "2-64-64-1 tanh MLP, batch 32, MSE, Adam step (per-op overhead bound)"
    target = 0.8
    sizes, small_sizes, batch = (2, 64, 64, 1), (2, 8, 8, 1), 32
    activation, classify = "Tanh", False
