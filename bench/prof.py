"""Profile one side of a workload: `python -m bench.prof NAME [--side torch] [--steps 20]
[--sort cumtime] [--lines 40]`. Runs the step a few times untimed, then `--steps` times
under cProfile, and prints the top of the profile (where the Python time goes)."""
import argparse
import cProfile
import pstats

from nnlab.parallel import keep_freed_memory

from .registry import all_workloads


def main(argv=None):
    keep_freed_memory()   # as the nnlab command does: each step reuses freed memory
    p = argparse.ArgumentParser(prog="python -m bench.prof", description=__doc__)
    p.add_argument("name", help="a workload name (or a unique part of one)")
    p.add_argument("--side", choices=("nnlab", "torch"), default="nnlab")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--sort", default="cumtime", help="a pstats sort key (default cumtime)")
    p.add_argument("--lines", type=int, default=40)
    p.add_argument("--small", action="store_true")
    args = p.parse_args(argv)
    registry = all_workloads()
    names = [n for n in registry if args.name in n]
    if len(names) != 1:
        p.error(f"{args.name!r} matches {names or 'nothing'}; the workloads are "
                f"{', '.join(registry)}")
    if args.side == "torch":
        import torch
        torch.set_num_threads(2)
    step = getattr(registry[names[0]](small=args.small), f"setup_{args.side}")()
    for _ in range(3):
        step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.steps):
        step()
    profiler.disable()
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)


if __name__ == "__main__":
    main()
