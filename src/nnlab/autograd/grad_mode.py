"""Grad mode and anomaly mode: the autograd floor's only global switches (and, while
anomaly mode is on, the stack of module scopes that names the layer of an anomaly)."""
import contextlib

_enabled = True
_anomaly = False


def is_grad_enabled():
    return _enabled


def _set_enabled(mode):
    global _enabled
    _enabled = bool(mode)


class _Switch(contextlib.ContextDecorator):
    """A context manager that also decorates, with or without parentheses (`@no_grad`,
    `@no_grad()`); each decorated call gets a fresh instance, so recursion restores the
    mode it found."""

    def __new__(cls, func=None):
        self = super().__new__(cls)
        return self if func is None else self(func)

    def _recreate_cm(self):
        return type(self)()


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off: a call, a context manager, or a decorator."""

    def __init__(self, mode):
        self.prev = _enabled
        self.mode = bool(mode)
        _set_enabled(self.mode)  # as a plain call it takes effect at once, like torch's

    def __call__(self, func):
        _set_enabled(self.prev)  # as a decorator it acts only while the function runs
        return super().__call__(func)

    def _recreate_cm(self):
        return set_grad_enabled(self.mode)

    def __enter__(self):
        _set_enabled(self.mode)

    def __exit__(self, *exc):
        _set_enabled(self.prev)


class no_grad(_Switch):
    """Ops inside record no graph; their outputs do not require grad."""

    def __enter__(self):
        self.prev = _enabled
        _set_enabled(False)

    def __exit__(self, *exc):
        _set_enabled(self.prev)


class enable_grad(_Switch):
    """Record the graph even inside `no_grad`."""

    def __enter__(self):
        self.prev = _enabled
        _set_enabled(True)

    def __exit__(self, *exc):
        _set_enabled(self.prev)


_inference = False


def is_inference_mode_enabled():
    return _inference


class inference_mode(contextlib.ContextDecorator):
    """Inference mode, as torch's: inside `inference_mode()` (or `inference_mode(True)`) no
    graph is recorded, as under `no_grad`; `inference_mode(False)` records it (even inside
    `no_grad`). A context manager and a decorator (`@inference_mode`, `@inference_mode()`).
    Torch's speed-ups for inference tensors have no counterpart here: it is `no_grad` plus
    `is_inference_mode_enabled()`."""

    def __new__(cls, mode=True):
        if callable(mode):   # @inference_mode without parentheses
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def _recreate_cm(self):
        return type(self)(self.mode)

    def __enter__(self):
        global _inference
        self.prev = (_enabled, _inference)
        _set_enabled(not self.mode)
        _inference = self.mode

    def __exit__(self, *exc):
        global _inference
        _set_enabled(self.prev[0])
        _inference = self.prev[1]


def is_anomaly_enabled():
    return _anomaly


def _set_anomaly(mode):
    global _anomaly
    _anomaly = bool(mode)


class set_detect_anomaly(contextlib.ContextDecorator):
    """Anomaly mode on or off (see `detect_anomaly`)."""

    def __init__(self, mode):
        self.prev = _anomaly
        self.mode = bool(mode)
        _set_anomaly(self.mode)

    def __call__(self, func):
        _set_anomaly(self.prev)
        return super().__call__(func)

    def _recreate_cm(self):
        return set_detect_anomaly(self.mode)

    def __enter__(self):
        _set_anomaly(self.mode)

    def __exit__(self, *exc):
        _set_anomaly(self.prev)


class detect_anomaly(_Switch):
    """The first op whose forward yields NaN, or whose backward yields NaN/Inf, raises,
    naming the op, the module it ran in ('Affine (in layers.2 (Linear))') and the line that
    created it. Slow (it keeps a stack trace per op): for debugging."""

    def __enter__(self):
        self.prev = _anomaly
        _set_anomaly(True)

    def __exit__(self, *exc):
        _set_anomaly(self.prev)


# -- anomaly mode's scopes ------------------------------------------------------------------
# While anomaly mode is on, each Module call pushes (module, qualified name, phrase) here
# (nn/hooks.py), and the engine pushes (None, None, phrase) around a node's backward; every
# graph node made meanwhile keeps the innermost phrase ("in layers.2 (Linear)"), which the
# anomaly error quotes. Nothing is pushed while anomaly mode is off.
_scopes = []


def current_scope():
    """The innermost scope's phrase ('in layers.2 (Linear)'), or None outside every scope."""
    return _scopes[-1][2] if _scopes else None


@contextlib.contextmanager
def anomaly_scope(owner, path, phrase):
    """Push (owner, path, phrase) on the scope stack for the body of the `with`."""
    _scopes.append((owner, path, phrase))
    try:
        yield
    finally:
        _scopes.pop()
