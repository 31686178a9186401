"""The runner: `python -m bench [--only NAME]... [--repeat N] [--warmup N] [--list]
[--blocks] [--small] [--json PATH]`.

For each workload it sets up both sides, then alternates nnlab step, torch step, ...
(warm-up steps first, untimed), timing each step with `time.perf_counter`, and prints
the median milliseconds per step of each side and the ratio nnlab/torch as a table.
A side that fails (an op not implemented yet, say) gives an error row; the run goes on.
torch runs on TORCH_THREADS threads; NumPy's BLAS keeps its default thread count; idle
threads spin less (see `bench/__init__.py`). Afterwards it says how much of the CPUs
other processes took: on a busy machine the numbers mean little.
"""
import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback

from nnlab.parallel import keep_freed_memory

from . import SPIN_SETTINGS
from .registry import all_workloads

TORCH_THREADS = 2
SIDES = ("nnlab", "torch")
OTHER_CPU_WARNING = 0.05   # a larger share of the CPUs used by others gets a warning


def measure(workload, repeat, warmup, blocks=False):
    """Time `workload` on both sides: alternating step by step (or, with `blocks`, all the
    steps of one side, then all of the other). Returns a result dict: per side the step
    times in ms (or the error that stopped it), and the medians and their ratio."""
    result = {"name": workload.name, "target": workload.target, "times_ms": {}, "errors": {}}
    steps = {}
    for side in SIDES:
        try:
            steps[side] = getattr(workload, f"setup_{side}")()
        except Exception as e:  # noqa: BLE001 - any failure becomes an error row
            result["errors"][side] = _describe(e)
        result["times_ms"][side] = []
    n = warmup + repeat
    order = ([(s, i) for s in SIDES for i in range(n)] if blocks else
             [(s, i) for i in range(n) for s in SIDES])
    for side, i in order:
        if side not in steps:
            continue
        start = time.perf_counter()
        try:
            steps[side]()
        except Exception as e:  # noqa: BLE001
            result["errors"][side] = _describe(e)
            del steps[side]
            continue
        elapsed = time.perf_counter() - start
        if i >= warmup:
            result["times_ms"][side].append(elapsed * 1e3)
    del steps
    gc.collect()
    for side in SIDES:
        times = result["times_ms"][side]
        ok = times and side not in result["errors"]
        result[f"{side}_ms"] = statistics.median(times) if ok else None
    nn, th = result["nnlab_ms"], result["torch_ms"]
    result["ratio"] = nn / th if nn is not None and th else None
    return result


def _describe(error):
    """`Type: message` and the innermost frame, for the error row and the JSON."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" ({os.path.relpath(frame.filename)}:{frame.lineno})" if frame else ""
    return f"{type(error).__name__}: {error}{where}"


def format_table(results):
    """The results as a markdown table (errors in the last column)."""
    rows = [("workload", "nnlab ms", "torch ms", "nnlab/torch", "target", "note")]
    for r in results:
        verdict = ""
        if r["errors"]:
            verdict = "; ".join(f"{side} error: {msg}" for side, msg in r["errors"].items())
        elif r["ratio"] is not None and r["target"] is not None:
            verdict = "ok" if r["ratio"] <= r["target"] else "MISSED"
        rows.append((r["name"], _fmt(r["nnlab_ms"], ".2f"), _fmt(r["torch_ms"], ".2f"),
                     _fmt(r["ratio"], ".2f"), _fmt(r["target"], ".2f", "<= "), verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    right = (False, True, True, True, True)

    def line(cells):
        padded = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)]
        return "| " + " | ".join(padded + [cells[-1]]).rstrip() + " |"

    rule = "| " + " | ".join(("-" * (w - 1) + ":") if r else "-" * w
                             for w, r in zip(widths, right)) + " | ---- |"
    return "\n".join([line(rows[0]), rule] + [line(row) for row in rows[1:]])


def _fmt(value, spec, prefix=""):
    return "-" if value is None else prefix + format(value, spec)


def environment(args):
    import numpy as np
    import torch

    import nnlab
    return {"nnlab": nnlab.__version__, "numpy": np.__version__, "torch": torch.__version__,
            "python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "spin": {k: os.environ.get(k) for k in SPIN_SETTINGS},
            "dtype": "float32", "repeat": args.repeat, "warmup": args.warmup,
            "small": args.small, "blocks": args.blocks,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _cpu_seconds():
    """(CPU seconds used by the whole machine, by this process), or None off Linux: their
    difference over a run is what other processes took from the benchmark."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    busy = sum(fields) - fields[3] - fields[4]   # all but idle and iowait (steal counts)
    own = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), own.user + own.system


def other_cpu_share(before, after, wall):
    """The share of the machine's CPUs that other processes (or the hypervisor) used; None
    when unknown or when the run was too short to tell (the counters tick every 10 ms)."""
    if before is None or after is None or wall < 1.0:
        return None
    other = (after[0] - before[0]) - (after[1] - before[1])
    return max(0.0, other / (wall * (os.cpu_count() or 1)))


def write_json(path, data):
    """Write `data` to `path` atomically: a temporary file beside it, then a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".bench-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", metavar="NAME", default=[],
                   help="run the workloads whose name contains NAME (repeatable)")
    p.add_argument("--repeat", type=int, default=30, metavar="N",
                   help="timed steps per side (default 30)")
    p.add_argument("--warmup", type=int, default=3, metavar="N",
                   help="untimed steps per side first (default 3)")
    p.add_argument("--blocks", action="store_true",
                   help="all steps of nnlab, then all of torch, instead of alternating")
    p.add_argument("--small", action="store_true",
                   help="tiny sizes (a quick check that everything runs; times mean little)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    args = p.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0:
        p.error(f"--repeat must be >= 1 and --warmup >= 0 (got {args.repeat}, {args.warmup})")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    keep_freed_memory()   # as the nnlab command does: each step reuses freed memory
    registry = all_workloads()
    selected = [cls for name, cls in registry.items()
                if not args.only or any(s in name for s in args.only)]
    if args.list:
        for cls in selected:
            target = "-" if cls.target is None else f"<= {cls.target:.2f}"
            print(f"{cls.name:24} target {target:8} {cls.description}")
        return 0
    if not selected:
        print(f"bench: no workload matches --only {args.only}; the workloads are: "
              f"{', '.join(registry)}", file=sys.stderr)
        return 2
    try:
        import torch
    except ImportError:
        print("bench: torch is needed as the reference (pip install torch==2.13.0)",
              file=sys.stderr)
        return 2
    torch.set_num_threads(TORCH_THREADS)
    env = environment(args)
    print(f"nnlab {env['nnlab']} vs torch {env['torch']} (numpy {env['numpy']}), float32, "
          f"{env['cpus']} CPUs, torch threads {env['torch_threads']}, numpy BLAS default "
          f"threads, {' '.join(f'{k}={v}' for k, v in env['spin'].items())}; median of "
          f"{args.repeat} "
          f"{'steps in blocks' if args.blocks else 'alternating steps'} after "
          f"{args.warmup} warm-up{' (--small sizes)' if args.small else ''}\n", flush=True)
    results = []
    cpu_before, start = _cpu_seconds(), time.perf_counter()
    for cls in selected:
        results.append(measure(cls(small=args.small), args.repeat, args.warmup, args.blocks))
    env["other_cpu"] = other_cpu_share(cpu_before, _cpu_seconds(), time.perf_counter() - start)
    print(format_table(results))
    if env["other_cpu"] is not None:
        print(f"\nother processes used {env['other_cpu']:.0%} of the CPUs during the run",
              flush=True)
        if env["other_cpu"] > OTHER_CPU_WARNING:
            print("bench: warning: other processes competed for the CPUs (multi-threaded "
                  "steps suffer most): the times and ratios are unreliable", file=sys.stderr)
    if args.json:
        write_json(args.json, {"environment": env, "results": results})
    return 1 if any(r["errors"] for r in results) else 0
