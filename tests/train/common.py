"""A tiny classification problem and its training pieces, shared by the train tests."""
import numpy as np

import nnlab
from nnlab import nn, optim
from nnlab.data import DataLoader, TensorDataset


def tiny_data(n=64, seed=0):
    """x (n, 4) float32, y (n,) int64: the class is whether x0 + x1 > 0."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def tiny_loaders(batch_size=16, generator=0, n=64):
    x, y = tiny_data(n)
    train = TensorDataset(nnlab.tensor(x), nnlab.tensor(y))
    xv, yv = tiny_data(32, seed=1)
    val = TensorDataset(nnlab.tensor(xv), nnlab.tensor(yv))
    gen = np.random.default_rng(generator) if isinstance(generator, int) else generator
    return (DataLoader(train, batch_size=batch_size, shuffle=True, generator=gen),
            DataLoader(val, batch_size=32))


def tiny_model(seed=0, dropout=0.0, hidden=16):
    nnlab.manual_seed(seed)
    layers = [nn.Linear(4, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, 2))
    return nn.Sequential(*layers)


def tiny_setup(seed=0, lr=0.05, dropout=0.0, optimizer="sgd", generator=0):
    model = tiny_model(seed, dropout)
    if optimizer == "sgd":
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    else:
        opt = optim.Adam(model.parameters(), lr=lr)
    train_loader, val_loader = tiny_loaders(generator=generator)
    return model, nn.CrossEntropyLoss(), opt, train_loader, val_loader


def params(model):
    return {k: v._data.copy() for k, v in model.state_dict().items()}
