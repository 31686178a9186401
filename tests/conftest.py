"""Test-wide settings: torch (the oracle) runs single-threaded, because its thread pool on
tiny parity cases costs far more than the arithmetic on a loaded 2-core machine."""
try:
    import torch
except ImportError:  # pragma: no cover - the tests that need torch skip
    torch = None

if torch is not None:
    torch.set_num_threads(1)
