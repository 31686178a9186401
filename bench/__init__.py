"""nnlab against PyTorch on the same workloads, in one process: `python -m bench`.

A workload is a small class registered with `@register` in a module of
`bench/workloads/`; the runner (`bench/run.py`) finds every module there, so adding a
workload is adding a module (or a class to one), never a change to the runner.
"""
from .registry import Step, Workload, all_workloads, register

__all__ = ["Step", "Workload", "all_workloads", "register"]
