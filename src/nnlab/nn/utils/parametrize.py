"""Parametrizations (torch.nn.utils.parametrize): a tensor of a module computed from
unconstrained originals by small modules, with torch's layout and state_dict keys.

    register_parametrization(linear, "weight", P())
    linear.weight                                # P()(original), recomputed on each access
    linear.parametrizations.weight.original     # the Parameter that is trained
    state_dict keys: "bias", "parametrizations.weight.original"

A parametrization whose `right_inverse` returns several tensors keeps them as `original0`,
`original1`, ... and its forward takes them all (weight_norm's g and v). Assigning
`linear.weight = value` stores right_inverse(value) in the originals.

As torch does, the module's class is replaced by a subclass made for it,
`Parametrized<Class>`, that holds one property per parametrized tensor; removing the last
parametrization restores the original class.
"""
from contextlib import contextmanager

from ...autograd import grad_mode
from ...autograd.tensor import Tensor
from ..container import ModuleDict, ModuleList
from ..parameter import Parameter

_cache = {"depth": 0, "values": {}}  # `cached()` scopes: parametrized values by (id, name)


@contextmanager
def cached():
    """Within this context each parametrized tensor is computed once and reused."""
    _cache["depth"] += 1
    try:
        yield
    finally:
        _cache["depth"] -= 1
        if not _cache["depth"]:
            _cache["values"].clear()


def _register_tensor(module, name, tensor):
    """Register `tensor` as a parameter (if it is one) or as a buffer named `name`."""
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set_data(target, value):
    """Make `target` hold `value`'s values (its shape too), keeping the same object."""
    target._data = value.detach()._data.astype(target.dtype, copy=True)
    target._version_counter[0] += 1


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor ("0", "1", ... applied in order) and its
    original(s): `original`, or `original0`, `original1`, ... when the first
    parametrization's right_inverse returns a sequence."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        with grad_mode.no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        if self.is_tensor:
            if not unsafe:
                _check_same("right_inverse", original, new)
            _set_data(original, new)  # the same Parameter object: optimisers keep it
            _register_tensor(self, "original", original)
        else:
            if not isinstance(new, (tuple, list)):
                raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of "
                                 f"tensors (list, tuple...). Got {type(new).__name__}")
            self.ntensors = len(new)
            for i, t in enumerate(new):
                value = t.detach().clone()
                if isinstance(original, Parameter):
                    value = Parameter(value, original.requires_grad)
                _register_tensor(self, f"original{i}", value)
        if not unsafe:
            _check_same("forward", original, self())

    def right_inverse(self, value):
        """Store `value` in the originals: the parametrizations' right_inverse in reverse."""
        with grad_mode.no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
                elif module is not self[0] or not self.is_tensor:
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
            if self.is_tensor:
                _set_data(self.original, value)
            else:
                for i, t in enumerate(value):
                    _set_data(getattr(self, f"original{i}"), t)

    def forward(self):
        if self.is_tensor:
            x, rest = self[0](self.original), list(self)[1:]
        else:
            originals = [getattr(self, f"original{i}") for i in range(self.ntensors)]
            x, rest = self[0](*originals), list(self)[1:]
        for module in rest:
            x = module(x)
        return x


def _check_same(where, original, new):
    if not isinstance(new, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(new).__name__} "
                         f"from its {where}.")
    if new.dtype != original.dtype or tuple(new.shape) != tuple(original.shape):
        raise ValueError(f"Registering a parametrization may not change the dtype or the "
                         f"shape of the tensor, unless the `unsafe` flag is enabled: the "
                         f"original has dtype {original.dtype} and shape "
                         f"{tuple(original.shape)}, the parametrization's {where} returns "
                         f"dtype {new.dtype} and shape {tuple(new.shape)}")


def _parametrized_property(name):
    def getter(self):
        parametrization = self.parametrizations[name]
        if not _cache["depth"]:
            return parametrization()
        key = (id(self), name)
        if key not in _cache["values"]:
            _cache["values"][key] = parametrization()
        return _cache["values"][key]

    def setter(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(getter, setter)


def _inject_new_class(module):
    cls = module.__class__
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Parametrize `module.<tensor_name>` (a parameter or a buffer, or an already
    parametrized tensor, whose chain then grows) by the module `parametrization`."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        chain = module.parametrizations[tensor_name]
        if not unsafe:
            current = getattr(module, tensor_name)
            _check_same("forward", current, parametrization(current))
        chain.append(parametrization)
        chain.unsafe |= unsafe
        return module
    original = module.__dict__.get(tensor_name)
    if not isinstance(original, Tensor):
        raise ValueError(f"Module '{type(module).__name__}' does not have a parameter, a "
                         f"buffer, or a parametrized element with name '{tensor_name}'")
    chain = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        _inject_new_class(module)
        module.parametrizations = ModuleDict()
    setattr(type(module), tensor_name, _parametrized_property(tensor_name))
    module.parametrizations[tensor_name] = chain
    return module


def is_parametrized(module, tensor_name=None):
    """Whether `module` has any parametrization (or one for `tensor_name`)."""
    parametrizations = module.__dict__.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo the parametrizations of `tensor_name`: it becomes a plain parameter (or buffer)
    again holding its current parametrized value (leave_parametrized=True) or the
    original's value (False, only for a single original)."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {type(module).__name__} does not have a parametrization on "
                         f"{tensor_name}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with grad_mode.no_grad():
                _set_data(original, getattr(module, tensor_name))
    elif leave_parametrized:
        with grad_mode.no_grad():
            value = getattr(module, tensor_name).detach().clone()
        original = Parameter(value, chain.original0.requires_grad) \
            if isinstance(chain.original0, Parameter) else value
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_tensor(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module):
    """The module's class before any parametrization was registered."""
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)
