"""`nnlab.Generator` and the default generator against torch's: seeds (defaults, wrapping,
errors), `manual_seed` returning the generator, state round trips, and `generator=` in every
random function, the DataLoader, samplers and random_split. The numbers drawn are NumPy's,
so the tests compare behaviour, never values, with torch."""
import numpy as np
import pytest

import nnlab
from nnlab import train
from nnlab.data import (
    DataLoader,
    RandomSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)
from tests.helpers import requires_torch, torch


@pytest.fixture(autouse=True)
def _restore_default_generator():
    state = nnlab.get_rng_state()
    seed = nnlab.initial_seed()
    yield
    nnlab.manual_seed(seed)
    nnlab.set_rng_state(state)


# -- seeds ------------------------------------------------------------------------------------
@requires_torch
def test_a_new_generator_starts_from_torchs_default_seed():
    assert nnlab.Generator().initial_seed() == torch.Generator().initial_seed()
    assert nnlab.Generator().device == "cpu" and nnlab.Generator("cpu").device.type == "cpu"


@requires_torch
@pytest.mark.parametrize("seed", [0, 3, -1, -2 ** 63, 2 ** 64 - 1, np.int64(7)])
def test_manual_seed_returns_the_generator_and_wraps_as_torch(seed):
    g, tg = nnlab.Generator(), torch.Generator()
    assert g.manual_seed(seed) is g
    assert g.initial_seed() == tg.manual_seed(int(seed)).initial_seed()


@requires_torch
@pytest.mark.parametrize("seed, err, match", [
    (2 ** 64, ValueError, "seed 18446744073709551616 is out of range"),
    (1.5, TypeError, "expected an int seed, got float"),
    ("3", TypeError, "expected an int seed, got str"),
])
def test_bad_seeds_are_errors_as_torch(seed, err, match):
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        torch.Generator().manual_seed(seed)
    with pytest.raises(err, match=f"Generator.manual_seed: {match}"):
        nnlab.Generator().manual_seed(seed)


def test_seed_draws_a_fresh_seed_and_uses_it():
    g = nnlab.Generator()
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64 and g.initial_seed() == s
    a = nnlab.rand(4, generator=g).tolist()
    assert nnlab.rand(4, generator=nnlab.Generator().manual_seed(s)).tolist() == a


def test_generators_repeat_and_are_independent_of_the_default():
    g = nnlab.Generator().manual_seed(5)
    a = nnlab.randn(6, generator=g).tolist()
    nnlab.manual_seed(0)
    before = nnlab.get_rng_state()
    g.manual_seed(5)
    assert nnlab.randn(6, generator=g).tolist() == a
    assert nnlab.get_rng_state() == before           # the default stream did not move
    assert nnlab.randn(6, generator=g).tolist() != a  # g's own stream moved on


# -- state ------------------------------------------------------------------------------------
@requires_torch
def test_get_state_is_a_byte_tensor_that_round_trips():
    g = nnlab.Generator().manual_seed(1)
    nnlab.rand(3, generator=g)
    state = g.get_state()
    assert isinstance(state, nnlab.ByteTensor) and state.dtype == np.uint8 and state.ndim == 1
    assert torch.Generator().get_state().dtype == torch.uint8
    a = nnlab.randn(5, generator=g).tolist()
    assert g.set_state(state) is g
    assert nnlab.randn(5, generator=g).tolist() == a
    other = nnlab.Generator().set_state(state.clone())   # a state moves between generators
    assert nnlab.randn(5, generator=other).tolist() == a


@requires_torch
@pytest.mark.parametrize("ours, theirs, err, match", [
    (lambda: nnlab.zeros(3), lambda: torch.zeros(3), TypeError,
     "the RNG state must be a uint8 Tensor"),
    (lambda: nnlab.zeros(3, dtype=nnlab.uint8), lambda: torch.zeros(3, dtype=torch.uint8),
     RuntimeError, "expected a state of 48 bytes, got 3"),
    (lambda: [1, 2], lambda: [1, 2], TypeError, "expected a uint8 Tensor"),
], ids=["float", "size", "list"])
def test_set_state_errors_as_torch(ours, theirs, err, match):
    with pytest.raises(err):
        torch.Generator().set_state(theirs())
    with pytest.raises(err, match=f"Generator.set_state: {match}"):
        nnlab.Generator().set_state(ours())


def test_the_default_generator():
    assert nnlab.manual_seed(4) is nnlab.default_generator
    assert nnlab.initial_seed() == 4 == nnlab.default_generator.initial_seed()
    assert nnlab.default_generator._rng is nnlab.backend.generator()
    a = nnlab.rand(3).tolist()
    nnlab.default_generator.manual_seed(4)
    assert nnlab.rand(3).tolist() == a
    nnlab.backend.manual_seed(9)   # what recipes and labs call: the same generator
    assert nnlab.initial_seed() == 9
    s = nnlab.seed()
    assert nnlab.initial_seed() == s
    state = nnlab.default_generator.get_state()
    b = nnlab.rand(3).tolist()
    nnlab.set_rng_state(state)   # torch's ByteTensor form ...
    assert nnlab.rand(3).tolist() == b
    nnlab.set_rng_state(nnlab.default_generator.get_state())
    dict_state = nnlab.get_rng_state()   # ... and the JSON-able form checkpoints store
    c = nnlab.rand(3).tolist()
    nnlab.set_rng_state(dict_state)
    assert nnlab.rand(3).tolist() == c


@requires_torch
def test_cuda_generators_need_a_gpu():
    if nnlab.cuda.is_available():
        pytest.skip("a GPU is here")
    with pytest.raises(RuntimeError):
        torch.Generator(device="cuda")
    with pytest.raises(RuntimeError, match="Generator\\(device='cuda'\\): no cuda device"):
        nnlab.Generator(device="cuda")


# -- generator= everywhere --------------------------------------------------------------------
DRAWS = {
    "rand": lambda g: nnlab.rand(2, 3, generator=g),
    "randn": lambda g: nnlab.randn((4,), generator=g),
    "randint": lambda g: nnlab.randint(0, 100, (5,), generator=g),
    "normal": lambda g: nnlab.normal(nnlab.zeros(4), 2.0, generator=g),
    "normal-size": lambda g: nnlab.normal(1.0, 2.0, (4,), generator=g),
    "rand_like": lambda g: nnlab.rand_like(nnlab.zeros(3), generator=g),
    "randn_like": lambda g: nnlab.randn_like(nnlab.zeros(3), generator=g),
    "randint_like": lambda g: nnlab.randint_like(nnlab.zeros(3), 10, generator=g),
    "randperm": lambda g: nnlab.randperm(20, generator=g),
    "multinomial": lambda g: nnlab.multinomial(nnlab.ones(20), 5, generator=g),
    "bernoulli": lambda g: nnlab.bernoulli(nnlab.full((20,), 0.5), generator=g),
    "random_split": lambda g: [s.indices for s in random_split(range(20), [0.5, 0.5],
                                                                 generator=g)],
    "RandomSampler": lambda g: list(RandomSampler(range(20), generator=g)),
    "SubsetRandomSampler": lambda g: list(SubsetRandomSampler(list(range(20)), generator=g)),
    "WeightedRandomSampler": lambda g: list(WeightedRandomSampler([1.0] * 20, 8, generator=g)),
    "DataLoader": lambda g: [b[0].tolist() for b in DataLoader(
        TensorDataset(np.arange(20)), batch_size=5, shuffle=True, generator=g)],
}


def _values(x):
    return x.tolist() if isinstance(x, nnlab.Tensor) else x


@pytest.mark.parametrize("draw", list(DRAWS.values()), ids=list(DRAWS))
def test_generator_makes_each_draw_repeatable_and_leaves_the_default_alone(draw):
    nnlab.manual_seed(0)
    before = nnlab.get_rng_state()
    first = _values(draw(nnlab.Generator().manual_seed(7)))
    assert nnlab.get_rng_state() == before
    assert _values(draw(nnlab.Generator().manual_seed(7))) == first
    assert _values(draw(nnlab.Generator().manual_seed(8))) != first
    nnlab.manual_seed(7)   # without generator= the default generator draws
    unseeded = _values(draw(None))
    nnlab.manual_seed(7)
    assert _values(draw(None)) == unseeded


@pytest.mark.parametrize("name", ["rand", "randn", "randperm", "multinomial", "bernoulli"])
def test_a_bad_generator_is_named(name):
    with pytest.raises(TypeError, match=f"{name}: generator must be an nnlab.Generator"):
        DRAWS[name](3)


def test_a_loader_generator_advances_across_epochs_and_checkpoints(tmp_path):
    g = nnlab.Generator().manual_seed(3)
    loader = DataLoader(TensorDataset(np.arange(30)), batch_size=10, shuffle=True, generator=g)
    epoch = [b[0].tolist() for b in loader]
    assert [b[0].tolist() for b in loader] != epoch   # a fresh order each epoch
    model = nnlab.nn.Linear(1, 1)
    path = train.save_checkpoint(tmp_path / "c.npz", model, loader=loader)
    expected = [b[0].tolist() for b in loader]
    g.manual_seed(99)
    train.load_checkpoint(path, model, loader=loader)
    assert [b[0].tolist() for b in loader] == expected
