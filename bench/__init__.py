"""nnlab against PyTorch on the same workloads, in one process: `python -m bench`.

A workload is a small class registered with `@register` in a module of
`bench/workloads/`; the runner (`bench/run.py`) finds every module there, so adding a
workload is adding a module (or a class to one), never a change to the runner.
"""
import os

# Alternating the two libraries in one process makes each one's idle BLAS / OpenMP threads
# spin on the CPUs while the other one runs: OpenBLAS spins ~0.1 s after each call, which
# halved torch's speed on 2 cores (matmul-1024: 75 ms instead of 35) and, at 2^22 cycles
# (~1.5 ms), still slowed torch's 2 ms MLP step by half. Short spins, set before numpy and
# torch load, keep each side's threads warm between the calls of its own step and out of
# the way of the other's step. Thread counts are not touched; the environment wins.
SPIN_SETTINGS = {"OPENBLAS_THREAD_TIMEOUT": "19",   # 2^19 cycles (~0.2 ms), not 2^28
                 "GOMP_SPINCOUNT": "10000"}          # libgomp (torch): 10k spins, not 300k
for _name, _value in SPIN_SETTINGS.items():
    os.environ.setdefault(_name, _value)

from .registry import Step, Workload, all_workloads, register  # noqa: E402

__all__ = ["Step", "Workload", "all_workloads", "register"]
