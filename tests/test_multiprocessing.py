"""nnlab.multiprocessing (torch.multiprocessing): tensors in shared memory that forked
children update in place (Hogwild, as pytorch/examples mnist_hogwild), Module.share_memory,
and the refusal to send a shared tensor to a child that would get a pickled copy."""
import numpy as np
import pytest

import nnlab
import nnlab.multiprocessing as mp
from nnlab import nn, optim, parallel

FORK = mp.get_context("fork")


def _net():
    nnlab.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    return net


def _add_rank(rank, model):
    """Child: add rank + 1 to every parameter in place (an optimiser-like update)."""
    with nnlab.no_grad():
        for p in model.parameters():
            p.add_(rank + 1)


def _sgd_step(rank, model, x, y):
    """Child: one SGD step of MSE on (x, y), as a Hogwild worker does."""
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    optimizer.zero_grad()
    nn.functional.mse_loss(model(x[rank]), y[rank]).backward()
    optimizer.step()


def _run(target, *args, n=2):
    workers = [FORK.Process(target=target, args=(rank, *args)) for rank in range(n)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0] * n


def test_share_memory_keeps_values_and_marks_the_tensors_shared():
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    params = list(net.parameters())
    assert not any(p.is_shared() for p in params)
    assert net.share_memory() is net
    assert all(t.is_shared() for t in net.state_dict().values())   # buffers too
    assert list(net.parameters()) == params                     # the same Parameter objects
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k].numpy())
        assert v.dtype == before[k].dtype
    assert params[0].requires_grad and params[0].grad is None
    t = nnlab.ones(2, 3)
    data = t._data
    assert t.share_memory_() is t and t.share_memory_()._data is t._data is not data  # no-op 2nd
    assert nnlab.tensor(np.ones(0)).share_memory_().is_shared()   # an empty tensor too


def test_forked_children_updates_reach_the_parent():
    """Two children each add (rank + 1) to every parameter: the parent sees + 3."""
    net = _net().share_memory()
    before = [p.detach().clone() for p in net.parameters()]
    _run(_add_rank, net)
    for p, b in zip(net.parameters(), before):
        np.testing.assert_allclose(p.detach().numpy(), b.numpy() + 3, rtol=1e-6)


def test_unshared_model_is_not_changed_by_children():
    net = _net()
    before = [p.detach().clone() for p in net.parameters()]
    _run(_add_rank, net)
    for p, b in zip(net.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), b.numpy())


def test_sgd_steps_in_two_children_one_after_the_other_equal_two_steps_here():
    """Each child builds its own SGD optimiser over the shared parameters and takes one
    step on its batch (a Hogwild worker's loop body); run one after the other, the model
    ends where two steps in this process take it."""
    nnlab.manual_seed(1)
    model = nn.Linear(3, 1).share_memory()
    x = nnlab.randn(2, 8, 3)
    y = nnlab.randn(2, 8, 1)
    expected = nn.Linear(3, 1)
    expected.load_state_dict(model.state_dict())
    for rank in range(2):
        _sgd_step(rank, expected, x, y)
        p = FORK.Process(target=_sgd_step, args=(rank, model, x, y))
        p.start()
        p.join(60)
        assert p.exitcode == 0
    assert model.weight.grad is None    # gradients stay in the children
    for p, q in zip(model.parameters(), expected.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6)


def test_children_of_a_parent_whose_thread_pool_ran_do_not_hang():
    """Large ops run on a thread pool the forked child does not have: it starts its own."""
    before = parallel.get_num_threads()
    parallel.set_num_threads(2)
    try:
        big = nnlab.ones(1024, parallel.PARALLEL_MIN_SIZE // 1024 * 2).share_memory_()
        nnlab.exp(big)                     # the parent's pool is running
        _run(lambda rank, t: t.mul_(2), big, n=1)
    finally:
        parallel.set_num_threads(before)
    assert (big.numpy() == 2).all()


def test_a_shared_tensor_is_refused_for_a_spawned_child():
    net = _net().share_memory()
    for process in (mp.get_context("spawn").Process(target=_add_rank, args=(0, net)),
                    mp.get_context("forkserver").Process(target=_add_rank,
                                                         kwargs={"model": [net]})):
        with pytest.raises(RuntimeError, match=r"Process.start: an argument holds a tensor in "
                                               r"shared memory .* use get_context\('fork'\)"):
            process.start()


def test_the_api_is_pythons():
    import multiprocessing
    for name in ("Queue", "Pool", "Pipe", "Lock", "Event", "Value", "Manager", "cpu_count",
                 "set_start_method", "get_start_method", "current_process"):
        assert getattr(mp, name) is getattr(multiprocessing, name)
    assert issubclass(mp.Process, multiprocessing.Process)
    assert mp.get_context("fork").get_start_method() == "fork"
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    with pytest.raises(ValueError, match="set_sharing_strategy: expected one of"):
        mp.set_sharing_strategy("nope")


def test_a_queue_carries_values_back_from_a_child():
    queue = FORK.Queue()
    t = nnlab.arange(4.0)
    p = FORK.Process(target=lambda q: q.put((t * 2).numpy()), args=(queue,))
    p.start()
    np.testing.assert_array_equal(queue.get(timeout=60), [0.0, 2.0, 4.0, 6.0])
    p.join(60)
