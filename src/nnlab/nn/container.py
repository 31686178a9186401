"""Containers: `Sequential`, `ModuleList`, `ModuleDict`, and the shape-only modules
`Identity`, `Flatten`, `Unflatten`. Children are attributes named "0", "1", ... so that
state_dict keys read `layers.0.weight` as in PyTorch."""
import math
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..ops import flatten, reshape
from .module import Module, _indent


class _ModuleSequence(Module):
    """The list behaviour that Sequential and ModuleList share: children in order, indexed
    by int or slice, deleting renumbers them "0", "1", ... as torch does."""

    def _from_children(self, children):
        """A new container of this type holding the (name, module) pairs `children`."""
        raise NotImplementedError

    def _abs_index(self, index):
        """An int index as a non-negative int, IndexError when out of range."""
        size = len(self)
        index = operator.index(index)
        if not -size <= index < size:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range "
                             f"(length {size})")
        return index % size

    def _renumber(self, modules):
        """Replace the children by `modules`, named "0", "1", ... in order."""
        for name, _ in self._own_modules():
            delattr(self, name)
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __getitem__(self, index):
        children = self._own_modules()
        if isinstance(index, slice):
            return self._from_children(children[index])
        return children[self._abs_index(index)][1]

    def __setitem__(self, index, module):
        self.add_module(self._own_modules()[self._abs_index(index)][0], module)

    def __delitem__(self, index):
        modules = list(self)
        del modules[index if isinstance(index, slice) else self._abs_index(index)]
        self._renumber(modules)

    def __len__(self):
        return len(self._own_modules())

    def __iter__(self):
        return iter([m for _, m in self._own_modules()])

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if not isinstance(modules, Iterable):
            raise TypeError(f"{type(self).__name__}.extend should be called with an "
                            f"iterable, but got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self)
        modules.insert(index, module)
        self._renumber(modules)


class Sequential(_ModuleSequence):
    """Modules applied in order: Sequential(a, b)(x) = b(a(x)). Sequential(OrderedDict)
    names the children by the dict's keys."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def _from_children(self, children):
        return type(self)(OrderedDict(children))

    def forward(self, input):
        for module in self:
            input = module(input)
        return input

    def insert(self, index, module):
        super().insert(index, module)
        return self


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the parent module finds."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _from_children(self, children):
        return type(self)([m for _, m in children])

    def __repr__(self):
        """As torch: a run of children with the same repr prints once, `(0-2): 3 x ...`."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return f"{type(self).__name__}()"
        runs = []  # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [_indent(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}")
                 for a, b, r in runs]
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters the parent module finds."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return dict(self._own_modules())[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        if key not in self:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self):
        return len(self._own_modules())

    def __iter__(self):
        return iter(self.keys())

    def __contains__(self, key):
        return key in self.keys()

    def keys(self):
        return dict(self._own_modules()).keys()

    def values(self):
        return dict(self._own_modules()).values()

    def items(self):
        return dict(self._own_modules()).items()

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def clear(self):
        for key in list(self.keys()):
            del self[key]

    def update(self, modules):
        """Add modules from a mapping or an iterable of (key, module) pairs."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = modules.items()
        elif isinstance(modules, Iterable):
            pairs = []
            for i, pair in enumerate(modules):
                if not isinstance(pair, Iterable) or len(pair := tuple(pair)) != 2:
                    raise ValueError(f"ModuleDict.update: element #{i} of the iterable "
                                     "should be a (key, module) pair")
                pairs.append(pair)
        else:
            raise TypeError("ModuleDict.update should be called with an iterable of "
                            f"key/value pairs, but got {type(modules).__name__}")
        for key, module in pairs:
            self[key] = module


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flattens dims start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dimension `dim` into `unflattened_size`: (N, 12) -> (N, 3, 4); one entry of
    `unflattened_size` may be -1 (inferred)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(
                isinstance(s, int) for s in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{unflattened_size!r}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        if not -input.ndim <= self.dim < input.ndim:
            raise IndexError(f"{self!r}: dim {self.dim} is out of range for an input of shape "
                             f"{tuple(input.shape)}")
        dim = self.dim % input.ndim
        sizes, n = tuple(self.unflattened_size), input.shape[dim]
        known = math.prod(s for s in sizes if s != -1)
        if (n % known if -1 in sizes and known else n != known):
            raise RuntimeError(f"{self!r}: sizes {sizes} don't multiply up to the size of dim "
                               f"{self.dim} ({n}) of an input of shape {tuple(input.shape)}")
        return reshape(input, input.shape[:dim] + sizes + input.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
