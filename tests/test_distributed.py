"""Data parallelism in one process: nnlab.distributed's world of one, the DataParallel /
DistributedDataParallel wrappers (torch's `module.` state_dict keys) and DistributedSampler
(torch's index arithmetic)."""
import numpy as np
import pytest

import nnlab
from nnlab import distributed as dist
from nnlab import nn
from nnlab.data import DataLoader, DistributedSampler, TensorDataset
from nnlab.nn.parallel import DataParallel, DistributedDataParallel
from tests.helpers import requires_torch, torch


@pytest.fixture
def world():
    dist.init_process_group(backend="gloo", world_size=1, rank=0)
    yield
    dist.destroy_process_group()


def test_the_world_is_one_process(world):
    assert dist.is_available() and dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "gloo")
    x = nnlab.tensor([1.0, -2.0, 3.0])
    for op in dist.ReduceOp:
        assert dist.all_reduce(x, op=op) is None
    assert dist.reduce(x, dst=0) is None and dist.broadcast(x, src=0) is None
    assert x.tolist() == [1.0, -2.0, 3.0]
    gathered = [nnlab.zeros(3)]
    dist.all_gather(gathered, x)
    assert gathered[0].tolist() == [1.0, -2.0, 3.0]
    out = nnlab.zeros(3)
    dist.scatter(out, [x * 2])
    assert out.tolist() == [2.0, -4.0, 6.0]
    objects = [None]
    dist.all_gather_object(objects, {"loss": 0.5})
    assert objects == [{"loss": 0.5}]
    work = dist.all_reduce(x, async_op=True)
    assert work.wait() and work.is_completed()
    assert dist.barrier() is None
    assert dist.new_group([0]).size() == 1


def test_the_world_before_init_and_after_destroy():
    assert not dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    with pytest.raises(ValueError, match="all_reduce: Default process group has not been "
                                         "initialized"):
        dist.all_reduce(nnlab.ones(2))
    dist.init_process_group()
    assert dist.get_backend() == "gloo"
    with pytest.raises(ValueError, match="initialize the default process group twice"):
        dist.init_process_group()
    dist.destroy_process_group()
    assert not dist.is_initialized()


@pytest.mark.parametrize("kwargs, env", [({"world_size": 2, "rank": 0}, {}),
                                         ({}, {"WORLD_SIZE": "4", "RANK": "1"})])
def test_more_than_one_process_is_refused(kwargs, env, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(NotImplementedError, match="one process for now .* multi-process "
                                                  "training comes with nnlab's MPI backend"):
        dist.init_process_group("gloo", **kwargs)
    assert not dist.is_initialized()


def test_bad_collective_arguments(world):
    with pytest.raises(ValueError, match="broadcast: src=1, but the world is rank 0 of 1"):
        dist.broadcast(nnlab.ones(1), src=1)
    with pytest.raises(ValueError, match="all_gather: tensor_list has 2 tensors"):
        dist.all_gather([nnlab.ones(1), nnlab.ones(1)], nnlab.ones(1))
    with pytest.raises(TypeError, match="all_reduce: expected an nnlab Tensor, got list"):
        dist.all_reduce([1.0])
    with pytest.raises(ValueError, match="unknown backend 'tcp'"):
        dist.destroy_process_group()
        dist.init_process_group("tcp")
    dist.init_process_group()


def mlp():
    return nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))


@requires_torch
def test_data_parallel_keys_and_outputs_as_torch():
    theirs = torch.nn.DataParallel(torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(), torch.nn.Linear(5, 2)))
    ours = nn.DataParallel(mlp())
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state)
    assert list(ours.state_dict())[0] == "module.0.weight"
    ours.load_state_dict(state)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    expected = theirs(torch.tensor(x))
    got = ours(nnlab.tensor(x))
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    got.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.module[0].weight.grad.numpy(),
                               theirs.module[0].weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert ours.device_ids == [] and ours.output_device is None and ours.dim == 0
    assert repr(ours).startswith("DataParallel(\n  (module): Sequential(")


def test_distributed_data_parallel_wraps_one_replica(world):
    model = mlp()
    ddp = DistributedDataParallel(model, device_ids=None, find_unused_parameters=True)
    assert ddp.module is model and ddp.find_unused_parameters
    assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]
    x = nnlab.randn(6, 3)
    model.eval()
    assert np.array_equal(ddp(x).detach().numpy(), model(x).detach().numpy())
    with ddp.no_sync():
        assert not ddp.require_backward_grad_sync
    assert ddp.require_backward_grad_sync
    with ddp.join():
        pass
    stripped = DataParallel(mlp())
    stripped.load_state_dict(ddp.state_dict())
    with pytest.raises(TypeError, match="module must be an nnlab.nn.Module, got function"):
        DistributedDataParallel(lambda x: x)


CASES = [(10, 3, r, d) for r in range(3) for d in (False, True)] + \
        [(9, 3, 1, False), (9, 3, 2, True), (2, 5, 4, False), (2, 5, 0, True),
         (7, 1, 0, False), (1, 4, 3, False), (11, 4, 2, True)]


@requires_torch
@pytest.mark.parametrize("n, replicas, rank, drop_last", CASES)
def test_distributed_sampler_unshuffled_as_torch(n, replicas, rank, drop_last):
    ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
    theirs = torch.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                 drop_last=drop_last)
    assert list(ours) == list(theirs)
    assert (len(ours), ours.num_samples, ours.total_size) == \
           (len(theirs), theirs.num_samples, theirs.total_size)


@requires_torch
@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (2, 5, False),
                                                    (12, 4, False), (11, 4, True)])
def test_distributed_sampler_shuffled_partitions_an_epochs_order(n, replicas, drop_last):
    """torch's stream cannot be reproduced (NumPy's numbers), so: the ranks together take
    total_size indices as torch's do, every index at least once (without drop_last) or none
    twice (with), and each epoch's order is fixed by seed + epoch."""
    def shares(epoch, seed=0):
        samplers = [DistributedSampler(range(n), replicas, r, seed=seed, drop_last=drop_last)
                    for r in range(replicas)]
        for s in samplers:
            s.set_epoch(epoch)
        return [list(s) for s in samplers]

    theirs = torch.utils.data.DistributedSampler(range(n), replicas, 0, drop_last=drop_last)
    taken = [i for share in shares(0) for i in share]
    assert len(taken) == theirs.total_size
    assert set(taken) <= set(range(n))
    if drop_last:
        assert len(set(taken)) == len(taken)
    else:
        assert set(taken) == set(range(n))
    assert all(len(share) == theirs.num_samples for share in shares(0))
    assert shares(0) == shares(0) and shares(1) == shares(1)
    if n > 2:
        assert shares(0) != shares(1) and shares(0) != shares(0, seed=1)


def test_distributed_sampler_in_a_data_loader():
    x = nnlab.arange(10).float().reshape(10, 1)
    sampler = DistributedSampler(TensorDataset(x), shuffle=False)
    assert (sampler.num_replicas, sampler.rank) == (1, 0)
    loader = DataLoader(TensorDataset(x), batch_size=4, sampler=sampler)
    assert [b[0].reshape(-1).tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval "
                                         r"\[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
