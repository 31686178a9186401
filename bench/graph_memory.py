"""Peak memory and time of the full-batch graph training steps, each side in a fresh
process, and a NeighborLoader epoch on the same graph: `python -m bench.graph_memory
[--workload gcn-100k-1m sage-100k-1m] [--side nnlab torch] [--repeat 3] [--no-loader]
[--train-epoch] [--json PATH]`.

The workloads are bench/workloads/graph.py's (100,000 nodes, 1,000,000 random edges, 128
features, 2 layers, Adam). For each (workload, side) a fresh interpreter sets the step up
(graph, model, optimiser), then measures:

    setup MiB      the resident set after setup (imports, the graph, the weights)
    step 1 MiB     peak resident set during the first step minus the resident set just
                   before it (the kernel's high-water mark VmHWM is reset through
                   /proc/self/clear_refs): the step's extra memory, Adam's state included.
                   The figure to compare the two sides by.
    step 2 MiB     the same during the second step: only what goes beyond the memory the
                   first step left in the allocators (glibc's heap for nnlab, which runs
                   under keep_freed_memory as in `python -m bench`; torch's own caching
                   allocator), so small on both sides
    NumPy MiB      nnlab only: the peak of NumPy's own allocations during one more step
                   (tracemalloc; torch's allocator is invisible to it, so no torch figure)
    process MiB    the whole process's peak resident set (getrusage ru_maxrss), the
                   libraries included (torch and PyG alone take ~250 MiB)

Time: the median of `--repeat` more steps, torch on 2 threads; the two sides run in
different processes at different times, so `python -m bench` (both in one run, steps
alternating) gives the better ratio.

The loader row: nnlab.graph.NeighborLoader(num_neighbors=[10, 10], batch_size=1024,
shuffle) over every node of the same graph: one epoch of sampling alone, and with
`--train-epoch` one more epoch with a SAGEConv(128, 64) -> ReLU -> SAGEConv(64, 16) Adam
step per batch (loss on the batch's seed nodes). PyG's NeighborLoader needs pyg-lib or
torch-sparse; when neither is installed its line says so.
"""
import argparse
import json
import os
import statistics
import sys
import time

from .attention_memory import _reset_peak, _status_kib, run_child, step_seconds, traced_peak

WORKLOADS = ("gcn-100k-1m", "sage-100k-1m")
SIDES = ("nnlab", "torch")
TORCH_THREADS = 2
MiB = 1 << 20


def _rss_bytes():
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def _step_peak(step):
    """(peak extra bytes of one call of `step` over the resident set before it, seconds);
    the extra is None where the peak cannot be reset (not Linux)."""
    import gc
    gc.collect()
    base = _rss_bytes()
    exact = _reset_peak()
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    peak = _status_kib("VmHWM")
    extra = None if not exact or peak is None or base is None else peak * 1024 - base
    return extra, seconds


def child_step(name, side, repeat):
    """Run in the fresh process: the memory and time of one side of one workload."""
    import resource
    if side == "torch":
        import torch
        torch.set_num_threads(TORCH_THREADS)
    else:
        from nnlab.parallel import keep_freed_memory
        keep_freed_memory()
    from .registry import all_workloads
    step = getattr(all_workloads()[name](), f"setup_{side}")()
    setup = _rss_bytes()
    first, first_s = _step_peak(step)
    second, second_s = _step_peak(step)
    traced = traced_peak(step) if side == "nnlab" else None
    times = step_seconds(step, repeat)
    return {"workload": name, "side": side, "setup_bytes": setup, "step1_extra_bytes": first,
            "step2_extra_bytes": second, "traced_bytes": traced,
            "process_peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "time_s": statistics.median(times) if times else second_s, "first_s": first_s,
            "loadavg": os.getloadavg()[0]}


def child_loader(train, batch_size=1024, num_neighbors=(10, 10)):
    """Run in the fresh process: nnlab's NeighborLoader epochs on the 1M-edge graph, and
    whether PyG's can run here."""
    import numpy as np

    import nnlab
    import nnlab.graph.nn as G
    from nnlab.graph import Data
    from nnlab.graph.neighbor_loader import NeighborLoader
    from nnlab.parallel import keep_freed_memory

    from .workloads.graph import GCNRandom, gnn, weights
    keep_freed_memory()
    (x, edge_index, y, _), classes = GCNRandom().graph()
    data = Data(x=nnlab.tensor(x), edge_index=nnlab.tensor(edge_index), y=nnlab.tensor(y))

    def loader():
        return NeighborLoader(data, list(num_neighbors), batch_size=batch_size, shuffle=True,
                              generator=0)

    start = time.perf_counter()
    batches, sampled = 0, 0
    for batch in loader():
        batches += 1
        sampled += batch.num_nodes
    sample_s = time.perf_counter() - start
    result = {"batches": batches, "mean_nodes": sampled / max(batches, 1),
              "sample_epoch_s": sample_s, "train_epoch_s": None, "batch_size": batch_size,
              "num_neighbors": list(num_neighbors), "pyg": _pyg_loader_status(),
              "loadavg": os.getloadavg()[0]}
    if not train:
        return result
    model = gnn(nnlab, G, "SAGEConv", (x.shape[1], 64, classes), "relu")
    model.load_state_dict({k: nnlab.tensor(v) for k, v in
                           weights(np.random.default_rng(0), model).items()})
    optimizer = nnlab.optim.Adam(model.parameters(), lr=0.01)
    cross_entropy = nnlab.nn.functional.cross_entropy
    start = time.perf_counter()
    for batch in loader():
        optimizer.zero_grad(set_to_none=True)
        out = model(batch.x, batch.edge_index)[:batch.batch_size]
        cross_entropy(out, batch.y[:batch.batch_size]).backward()
        optimizer.step()
    return dict(result, train_epoch_s=time.perf_counter() - start,
                loadavg=os.getloadavg()[0])


def _pyg_loader_status():
    """'runs' if PyG's NeighborLoader can sample here, else why not."""
    try:
        import warnings

        import torch
        from torch_geometric.data import Data
        from torch_geometric.loader import NeighborLoader
        data = Data(x=torch.zeros(4, 1), edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            next(iter(NeighborLoader(data, [2], batch_size=2)))
        return "runs"
    except Exception as e:  # noqa: BLE001 - reported, not raised
        return f"{type(e).__name__}: {e}"


def _run_child(args, extra):
    return run_child("bench.graph_memory", ["--repeat", str(args.repeat), *extra],
                     args.timeout)


def _mib(value):
    return "-" if value is None else f"{value / MiB:.0f}"


def format_table(rows, loader=None):
    """The step rows as a markdown table, per workload the nnlab/torch ratios, and the
    loader's line."""
    lines = ["| workload | side | step s | setup MiB | step 1 extra MiB | step 2 extra MiB | "
             "NumPy peak MiB | process peak MiB | load |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['workload']} | {r['side']} | {r['error']} |")
            continue
        lines.append(f"| {r['workload']} | {r['side']} | {r['time_s']:.2f} | "
                     f"{_mib(r['setup_bytes'])} | {_mib(r['step1_extra_bytes'])} | "
                     f"{_mib(r['step2_extra_bytes'])} | {_mib(r['traced_bytes'])} | "
                     f"{_mib(r['process_peak_bytes'])} | {r['loadavg']:.1f} |")
    by = {(r["workload"], r["side"]): r for r in rows if "error" not in r}
    notes = []
    for name in dict.fromkeys(r["workload"] for r in rows):
        nn, th = by.get((name, "nnlab")), by.get((name, "torch"))
        if nn and th:
            parts = [f"time {nn['time_s'] / th['time_s']:.2f}"]
            for key, label in (("step1_extra_bytes", "step 1 extra"),
                               ("process_peak_bytes", "process peak")):
                if nn[key] is not None and th[key]:
                    parts.append(f"{label} {nn[key] / th[key]:.2f}")
            notes.append(f"{name} nnlab/torch: " + ", ".join(parts))
    if loader is not None:
        if "error" in loader:
            notes.append(f"NeighborLoader: {loader['error']}")
        else:
            train = loader["train_epoch_s"]
            notes.append(
                f"nnlab NeighborLoader {loader['num_neighbors']}, batch_size "
                f"{loader['batch_size']}: {loader['batches']} batches of "
                f"{loader['mean_nodes']:.0f} nodes on average; one epoch of sampling "
                f"{loader['sample_epoch_s']:.2f} s"
                + ("" if train is None else f", one epoch of SAGE training steps "
                                            f"{train:.2f} s")
                + f" (load {loader['loadavg']:.1f}). PyG's NeighborLoader: {loader['pyg']}")
    return "\n".join(lines + [""] + notes)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.graph_memory",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    p.add_argument("--side", nargs="+", choices=SIDES, default=list(SIDES))
    p.add_argument("--repeat", type=int, default=3, help="timed steps (default 3)")
    p.add_argument("--no-loader", action="store_true", help="skip the NeighborLoader epochs")
    p.add_argument("--train-epoch", action="store_true",
                   help="also time an epoch of SAGE training steps on the loader's batches")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    p.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child == "loader":
        print(json.dumps(child_loader(args.train_epoch)))
        return 0
    if args.child:
        print(json.dumps(child_step(args.workload[0], args.child, args.repeat)))
        return 0
    print(f"graph training steps, 100,000 nodes, 1,000,000 edges, 128 features; "
          f"{os.cpu_count()} CPUs, torch threads {TORCH_THREADS}; each side in a fresh "
          f"process, median of {args.repeat} steps", flush=True)
    rows = []
    for name in args.workload:
        for side in args.side:
            row = _run_child(args, ["--workload", name, "--child", side])
            rows.append(dict({"workload": name, "side": side}, **row))
            print(f"  {name} {side}: done", file=sys.stderr, flush=True)
    loader = None if args.no_loader else _run_child(
        args, ["--child", "loader"] + (["--train-epoch"] if args.train_epoch else []))
    print(format_table(rows, loader))
    if args.json:
        from nnlab.utils.io import atomic_write
        atomic_write(args.json, lambda f: json.dump({"steps": rows, "loader": loader}, f,
                                                    indent=2), mode="w")
    return 0


if __name__ == "__main__":
    sys.exit(main())
