"""The graph benchmarks' helpers: the workloads' random graph and shared weights, and
bench.graph_memory's table (no timing, no large graph)."""
import numpy as np
from bench import all_workloads, graph_memory
from bench.workloads.graph import random_graph

from tests.helpers import requires_torch

MiB = 1 << 20


def test_the_graph_workloads_are_registered_with_their_targets():
    workloads = all_workloads()
    targets = {name: workloads[name].target
               for name in ("gcn-cora", "gat-cora", "gcn-100k-1m", "sage-100k-1m")}
    assert targets == {"gcn-cora": 1.0, "gat-cora": 1.0, "gcn-100k-1m": 1.2,
                       "sage-100k-1m": 1.2}


def test_random_graph_shapes_and_ranges():
    x, edge_index, y = random_graph(np.random.default_rng(0), 30, 120, 8, 16)
    assert x.shape == (30, 8) and x.dtype == np.float32
    assert edge_index.shape == (2, 120) and edge_index.dtype == np.int64
    assert 0 <= edge_index.min() and edge_index.max() < 30
    assert y.shape == (30,) and 0 <= y.min() and y.max() < 16


@requires_torch
def test_both_sides_get_the_same_weights_under_pyg_keys():
    workload = all_workloads()["sage-100k-1m"](small=True)
    nn_step, torch_step = workload.setup_nnlab(), workload.setup_torch()
    assert set(nn_step.leaves) == {"conv1.lin_l.weight", "conv1.lin_l.bias",
                                   "conv1.lin_r.weight", "conv2.lin_l.weight",
                                   "conv2.lin_l.bias", "conv2.lin_r.weight"}
    for key, leaf in nn_step.leaves.items():
        np.testing.assert_array_equal(leaf.detach().numpy(),
                                      torch_step.leaves[key].detach().numpy())


def _row(side, time_s, extra, peak, traced=None):
    return {"workload": "gcn-100k-1m", "side": side, "time_s": time_s, "setup_bytes": 100 * MiB,
            "step1_extra_bytes": 2 * extra, "step2_extra_bytes": extra,
            "traced_bytes": traced, "process_peak_bytes": peak, "loadavg": 1.0}


def test_memory_table_rows_ratios_and_loader_line():
    rows = [_row("nnlab", 1.5, 300 * MiB, 800 * MiB, 250 * MiB),
            _row("torch", 2.0, 600 * MiB, 1000 * MiB),
            {"workload": "sage-100k-1m", "side": "torch", "error": "exit 1: MemoryError"}]
    loader = {"num_neighbors": [10, 10], "batch_size": 1024, "batches": 98,
              "mean_nodes": 51234.4, "sample_epoch_s": 12.5, "train_epoch_s": 40.25,
              "loadavg": 2.0, "pyg": "ImportError: no pyg-lib"}
    table = graph_memory.format_table(rows, loader)
    assert "| gcn-100k-1m | nnlab | 1.50 | 100 | 600 | 300 | 250 | 800 | 1.0 |" in table
    assert "| gcn-100k-1m | torch | 2.00 | 100 | 1200 | 600 | - | 1000 | 1.0 |" in table
    assert "| sage-100k-1m | torch | exit 1: MemoryError |" in table
    assert ("gcn-100k-1m nnlab/torch: time 0.75, step 1 extra 0.50, process peak 0.80"
            in table)
    assert "98 batches of 51234 nodes on average" in table
    assert "sampling 12.50 s" in table and "training steps 40.25 s" in table
    assert "PyG's NeighborLoader: ImportError: no pyg-lib" in table
    without_training = graph_memory.format_table([], dict(loader, train_epoch_s=None))
    assert "sampling 12.50 s (load 2.0)" in without_training
    assert "training" not in without_training
    assert "NeighborLoader: exit 2: boom" in graph_memory.format_table([], {"error":
                                                                           "exit 2: boom"})
