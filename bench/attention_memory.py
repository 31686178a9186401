"""Time and peak memory of attention forward + backward, each run in a fresh process:
`python -m bench.attention_memory [--n 1024 2048 4096 8192] [--impl naive flash torch]
[--repeat 3] [--heads 4] [--head-dim 64] [--causal] [--json PATH]`.

The implementations: nnlab's F.scaled_dot_product_attention on its math path ("naive": the
(N, N) scores as composed ops), nnlab's flash path ("flash": tiles, online softmax), and
torch's F.scaled_dot_product_attention ("torch", its default CPU kernel, on 2 threads as in
`python -m bench`). Inputs q, k, v are (1, heads, N, head_dim) float32 leaves; one step is
sum(out * w).backward() for a fixed random w.

Peak extra memory is the process's peak resident set during the first step minus its
resident set just before it (after the inputs were made): the kernel's high-water mark is
reset through /proc/self/clear_refs, so imports do not count. For nnlab the peak of NumPy's
own allocations (tracemalloc) during one more step is reported too. Time is the median of
`--repeat` steps after that. The load average is printed with each row: on a shared machine
the times mean little when it is above the number of CPUs used.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from . import SPIN_SETTINGS

IMPLS = ("naive", "flash", "torch")
TORCH_THREADS = 2
MiB = 1 << 20


def traced_peak(step):
    """The peak bytes tracemalloc sees during one call of `step` (NumPy's allocations; not
    torch's, whose allocator it cannot see)."""
    import tracemalloc
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def step_seconds(step, repeat):
    """Wall seconds of `repeat` calls of `step`, one per call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def _status_kib(field):
    """A field of /proc/self/status (VmRSS, VmHWM) in KiB, or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak():
    """Reset the peak resident set (VmHWM) to the current one; False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _setup(impl, n, heads, dim, causal):
    """One step of `impl` as a zero-argument callable, its inputs already made."""
    import numpy as np
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((1, heads, n, dim), dtype=np.float32) for _ in range(4)]
    if impl == "torch":
        import torch
        torch.set_num_threads(TORCH_THREADS)
        q, k, v = (torch.tensor(a, requires_grad=True) for a in arrays[:3])
        w = torch.tensor(arrays[3])
        attention = torch.nn.functional.scaled_dot_product_attention
        options = {}
    else:
        import nnlab
        from nnlab.nn import functional as F
        q, k, v = (nnlab.tensor(a, requires_grad=True) for a in arrays[:3])
        w = nnlab.tensor(arrays[3])
        attention = F.scaled_dot_product_attention
        options = {"backend": "flash"} if impl == "flash" else {}

    def step():
        for t in (q, k, v):
            t.grad = None
        (attention(q, k, v, is_causal=causal, **options) * w).sum().backward()
    return step


def child(impl, n, heads, dim, repeat, causal):
    """Run in the fresh process: the measurements of one implementation at one N."""
    import gc
    step = _setup(impl, n, heads, dim, causal)
    gc.collect()
    base = _status_kib("VmRSS")
    exact = _reset_peak()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    step()
    first = time.perf_counter() - wall0
    peak = _status_kib("VmHWM")
    if not exact or peak is None:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    traced = traced_peak(step) if impl != "torch" else None
    times = step_seconds(step, repeat)
    wall = time.perf_counter() - wall0
    return {"impl": impl, "n": n, "heads": heads, "head_dim": dim, "causal": causal,
            "time_s": statistics.median(times) if times else first, "first_s": first,
            "peak_extra_bytes": None if base is None else (peak - base) * 1024,
            "rss_exact": exact, "traced_bytes": traced,
            "cpu_per_wall": (time.process_time() - cpu0) / wall,
            "loadavg": os.getloadavg()[0]}


def run_child(module, arguments, timeout):
    """`python -m module arguments` in a fresh interpreter (the bench's short spin settings,
    from the project root): the JSON of its last output line, or {"error": ...}."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-m", module, *arguments], capture_output=True,
                          text=True, env=dict(os.environ, **SPIN_SETTINGS), cwd=root,
                          timeout=timeout)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"exit {proc.returncode}: {last}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_one(impl, n, args):
    """`child` in a fresh interpreter; its result, or {"impl", "n", "error"}."""
    result = run_child("bench.attention_memory",
                       ["--child", impl, "--n", str(n), "--heads", str(args.heads),
                        "--head-dim", str(args.head_dim), "--repeat", str(args.repeat)]
                       + (["--causal"] if args.causal else []), args.timeout)
    return {"impl": impl, "n": n, **result} if "error" in result else result


def _mib(value):
    return "-" if value is None else f"{value / MiB:.1f}"


def format_table(rows):
    """A markdown table, and per N the ratios the targets are stated in."""
    lines = ["| N | impl | time s | peak extra MiB (RSS) | NumPy peak MiB (traced) | "
             "CPU/wall | load | note |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['n']} | {r['impl']} | - | - | - | - | - | {r['error']} |")
            continue
        lines.append(f"| {r['n']} | {r['impl']} | {r['time_s']:.3f} | "
                     f"{_mib(r['peak_extra_bytes'])} | {_mib(r['traced_bytes'])} | "
                     f"{r['cpu_per_wall']:.2f} | {r['loadavg']:.1f} | |")
    by = {(r["n"], r["impl"]): r for r in rows if "error" not in r}
    notes = []
    for n in sorted({r["n"] for r in rows}):
        naive, flash, torch = (by.get((n, i)) for i in IMPLS)
        parts = []
        if flash and naive and naive["peak_extra_bytes"]:
            share = flash["peak_extra_bytes"] / naive["peak_extra_bytes"]
            parts.append(f"flash/naive peak memory {share:.3f}")
        if flash and torch:
            parts.append(f"flash/torch time {flash['time_s'] / torch['time_s']:.2f}")
        if flash and naive:
            parts.append(f"naive/flash time {naive['time_s'] / flash['time_s']:.2f}")
        if parts:
            notes.append(f"N={n}: " + ", ".join(parts))
    return "\n".join(lines + [""] + notes)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.attention_memory",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, nargs="+", default=[1024, 2048, 4096, 8192])
    p.add_argument("--impl", nargs="+", choices=IMPLS, default=list(IMPLS))
    p.add_argument("--repeat", type=int, default=3, help="timed steps (default 3)")
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--causal", action="store_true")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    p.add_argument("--json", metavar="PATH", help="also write the rows to PATH as JSON")
    p.add_argument("--child", choices=IMPLS, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        print(json.dumps(child(args.child, args.n[0], args.heads, args.head_dim, args.repeat,
                               args.causal)))
        return 0
    print(f"attention fwd + bwd, (1, {args.heads}, N, {args.head_dim}) float32"
          f"{', causal' if args.causal else ''}; {os.cpu_count()} CPUs, torch threads "
          f"{TORCH_THREADS}; median of {args.repeat} steps, each implementation in a fresh "
          "process", flush=True)
    rows = []
    for n in args.n:
        for impl in args.impl:
            rows.append(run_one(impl, n, args))
            print(f"  N={n} {impl}: done", file=sys.stderr, flush=True)
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
