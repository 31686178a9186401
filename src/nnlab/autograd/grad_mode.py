"""Grad mode and anomaly mode: the autograd floor's only global switches."""
import contextlib

_enabled = True
_anomaly = False


def is_grad_enabled():
    return _enabled


def _set_enabled(mode):
    global _enabled
    _enabled = bool(mode)


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off: a call, a context manager, or a decorator."""

    def __init__(self, mode):
        self.prev = _enabled
        self.mode = bool(mode)
        _set_enabled(self.mode)  # as a plain call it takes effect at once, like torch's

    def __enter__(self):
        _set_enabled(self.mode)

    def __exit__(self, *exc):
        _set_enabled(self.prev)


class no_grad(contextlib.ContextDecorator):
    """Ops inside record no graph; their outputs do not require grad."""

    def __enter__(self):
        self.prev = _enabled
        _set_enabled(False)

    def __exit__(self, *exc):
        _set_enabled(self.prev)


class enable_grad(contextlib.ContextDecorator):
    """Record the graph even inside `no_grad`."""

    def __enter__(self):
        self.prev = _enabled
        _set_enabled(True)

    def __exit__(self, *exc):
        _set_enabled(self.prev)


def is_anomaly_enabled():
    return _anomaly


class set_detect_anomaly(contextlib.ContextDecorator):
    """Anomaly mode on or off (see `detect_anomaly`)."""

    def __init__(self, mode):
        global _anomaly
        self.prev = _anomaly
        self.mode = bool(mode)
        _anomaly = self.mode

    def __enter__(self):
        global _anomaly
        _anomaly = self.mode

    def __exit__(self, *exc):
        global _anomaly
        _anomaly = self.prev


class detect_anomaly(contextlib.ContextDecorator):
    """The first op whose forward or backward yields NaN/Inf raises, naming the op and
    the line that created it. Slow (it keeps a stack trace per op): for debugging."""

    def __enter__(self):
        global _anomaly
        self.prev = _anomaly
        _anomaly = True

    def __exit__(self, *exc):
        global _anomaly
        _anomaly = self.prev
