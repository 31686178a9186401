"""The reverse walk over the graph: `backward` and `grad`.

Nodes are visited from a heap keyed on their generation (one more than the largest
generation among their inputs), newest first, as chainer does: a node runs only once
every node that consumed its outputs has run, so its gradients are complete. No
recursion, so a chain of any length is walked in constant stack depth.
"""
import heapq
import itertools
import sys

from ..backend import get_array_module
from ..parallel import ufunc
from . import grad_mode
from .function import _check_finite
from .tensor import Tensor


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of `tensors` (weighted by `grad_tensors`) into leaves' `.grad`.

    With `inputs`, only those tensors accumulate (a non-leaf among them too, as torch)."""
    tensors = _as_tuple(tensors)
    roots = _roots(tensors, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    targets = None if inputs is None else _as_tuple(inputs)
    found = _walk(roots, targets, retain_graph, create_graph, accumulate=True)
    for t in targets or ():
        if t.grad_fn is not None and _key(t) in found:  # a non-leaf in `inputs`, as torch
            g = found[_key(t)]  # it flowed on too: mark it delivered, so it is stored copied
            _accumulate(t, g, create_graph, {id(g._data)})


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, returned, not accumulated.

    d(sum_k grad_outputs[k] * outputs[k]) / d inputs[i] for each i; with create_graph=True
    the result is itself differentiable (Hessian-vector products, gradient penalties)."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    roots = _roots(outputs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    found = _walk(roots, inputs, retain_graph, create_graph, accumulate=False)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(_key(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute "
                               "the outputs; pass allow_unused=True if that is expected")
        result.append(g)
    return tuple(result)


def zero_grad(tensors, set_to_none=True):
    """Forget the gradients accumulated in the tensors' `.grad`: set them to None, or
    (set_to_none=False) detach them and fill them with zeros in place."""
    for t in tensors:
        if t.grad is None:
            continue
        if set_to_none:
            t.grad = None
        else:
            t.grad.detach_()
            t.grad.zero_()


def _as_tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _key(t):
    """Where a tensor's gradient is found: the leaf itself, or (grad_fn, output index)."""
    return id(t) if t.grad_fn is None else (t.grad_fn, t._output_nr)


def _roots(tensors, grad_tensors, op):
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    grad_tensors = _as_tuple(grad_tensors) if isinstance(grad_tensors, Tensor) \
        else tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"{op}: got {len(tensors)} tensors but {len(grad_tensors)} "
                           "gradients")
    roots = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t.requires_grad:
            raise RuntimeError(f"{op}: element {i} of tensors does not require grad and "
                               "does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(f"{op}: grad can be created implicitly only for scalar "
                                   f"outputs; this one has shape {t.shape}: pass gradient=")
            xp_ones = t._data.copy()
            xp_ones.fill(1)
            g = Tensor._make(xp_ones)
        else:
            if not isinstance(g, Tensor):
                g = Tensor(g)
            if g.shape != t.shape:
                raise RuntimeError(f"{op}: gradient {i} has shape {g.shape} but the tensor "
                                   f"has shape {t.shape}")
            if g.dtype != t.dtype:
                g = g.to(t.dtype)
        roots.append((t, g))
    return roots


def _walk(roots, targets, retain_graph, create_graph, accumulate):
    """Run every node's backward, newest first. Returns {key: grad} for `targets`."""
    walk = _Walk(roots, targets, create_graph, accumulate)
    with grad_mode.set_grad_enabled(create_graph):
        while walk.heap:
            node = heapq.heappop(walk.heap)[2]
            grads = walk.take(node)
            if node._hooks:
                for i, hooks in node._hooks.items():
                    for hook in hooks:
                        if grads[i] is not None:
                            new = hook(grads[i])
                            grads[i] = grads[i] if new is None else new
            if walk.target_keys is not None:
                for i, g in enumerate(grads):
                    if (node, i) in walk.target_keys and g is not None:
                        walk.found[(node, i)] = g
            if walk.runs is not None and node not in walk.runs:
                continue
            if len(grads) > 1:  # a multi-output node gets zeros for outputs with no grad
                xp = get_array_module(next(g for g in grads if g is not None)._data)
                grads = [g if g is not None else Tensor._make(xp.zeros(shape, dtype))
                         for g, (shape, dtype) in zip(grads, node._output_meta)]
            if grad_mode._anomaly:  # ops run by this backward are named after the node
                with grad_mode.anomaly_scope(None, None, _backward_scope(node)):
                    in_grads = node._backward(grads)
            else:
                in_grads = node._backward(grads)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if len(in_grads) > len(node._edges):
                raise RuntimeError(f"{node.name()} returned {len(in_grads)} gradients, but "
                                   f"its forward took {len(node._edges)} arguments")
            if grad_mode._anomaly:
                _check_finite(node.name(), "backward", in_grads, getattr(node, "_trace", None),
                              getattr(node, "_scope", None))
            if not retain_graph:
                node._release()
            for edge, g in zip(node._edges, in_grads):
                if edge is None or g is None:
                    continue
                if isinstance(edge, Tensor):
                    walk.send(edge, g)
                else:
                    walk.send_to_node(edge[0], edge[1], g)
        walk.finish()
    return walk.found


class _Walk:
    """The state of one walk: gradients pending per node, the heap, what was found."""

    def __init__(self, roots, targets, create_graph, accumulate):
        self.create_graph = create_graph
        self.accumulate = accumulate
        self.found = {}
        self.pending = {}       # node -> list of gradients, one per output, summed so far
        self.leaves = {}        # id(leaf) -> (leaf, its gradient summed so far)
        self.heap = []
        self.order = itertools.count()
        self.delivered = set()  # ids of arrays already stored in some .grad (never alias)
        self.owned = set()      # ids of sums this walk allocated, while still pending
        if targets is None:
            self.target_keys = self.needed = self.runs = None
        else:  # visit only nodes on a path to a target; run backward where it leads on
            self.target_keys = {_key(t) for t in targets}
            self.runs = _nodes_leading_to(roots, self.target_keys)
            self.needed = self.runs | {k[0] for k in self.target_keys if isinstance(k, tuple)}
        for t, g in roots:
            if not create_graph:
                g = g.detach()  # a view of the caller's array: copied before it is stored
            self.send(t, g)

    def send(self, t, g):
        """Route the gradient of tensor `t`: into its node's pending sums, or a leaf's."""
        if t.grad_fn is not None:
            self.send_to_node(t.grad_fn, t._output_nr, g)
            return
        key = id(t)
        if self.target_keys is not None and key not in self.target_keys:
            return
        summed = self.leaves.get(key)
        self.leaves[key] = (t, g if summed is None else self.add(summed[1], g))

    def finish(self):
        """Each leaf's total gradient: through its hooks (once), then found or stored."""
        self.owned.clear()
        for key, (t, g) in self.leaves.items():
            for hook in t._hooks or ():
                new = hook(g)
                g = g if new is None else new
            if self.target_keys is not None:
                self.found[key] = g
            if self.accumulate:
                _accumulate(t, g, self.create_graph, self.delivered)

    def send_to_node(self, node, index, g):
        if self.needed is not None and node not in self.needed:
            return
        grads = self.pending.get(node)
        if grads is None:
            grads = self.pending[node] = [None] * _n_outputs(node)
            heapq.heappush(self.heap, (-node._generation, next(self.order), node))
        grads[index] = g if grads[index] is None else self.add(grads[index], g)

    def add(self, total, g):
        """total + g. Without create_graph, the first sum is a new array that this walk
        owns, and later gradients are added into it in place (one buffer, not one per
        consumer); a gradient that arrived from elsewhere is never written into."""
        if self.create_graph:
            return total + g
        xp = get_array_module(g._data)
        if id(total._data) in self.owned:
            ufunc(xp.add, total._data, g._data, out=total._data)
            return total
        total = Tensor._make(xp.asarray(ufunc(xp.add, total._data, g._data)))  # 0-d stays array
        self.owned.add(id(total._data))
        return total

    def take(self, node):
        """The node's summed gradients, handed on: from here they may be shared."""
        grads = self.pending.pop(node)
        for g in grads:
            if g is not None:
                self.owned.discard(id(g._data))
        return grads


def _accumulate(leaf, g, create_graph, delivered):
    """leaf.grad += g. The first gradient is stored without a copy unless its memory may be
    shared (see `_owned`), so that in-place updates of one `.grad` never change another."""
    if g.shape != leaf.shape:
        raise RuntimeError(f"backward: the gradient for a leaf of shape {leaf.shape} has "
                           f"shape {g.shape}")
    if g.dtype != leaf.dtype:
        g = g.to(leaf.dtype)
    if leaf.grad is None:
        if not _owned(g._data, delivered):
            g = g.clone() if create_graph else Tensor._make(g._data.copy())
        elif not create_graph:
            g = Tensor._make(g._data)
        delivered.add(id(g._data))
        if g._data.base is not None:
            delivered.add(id(g._data.base))
        leaf.grad = g
    elif create_graph or leaf.grad.requires_grad:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad._data += g._data


def _owned(array, delivered):
    """True if nothing but this gradient can see the array's memory, so a .grad may keep it
    as it is: it is not stored in another .grad and, if it is a view, it is a contiguous
    view of a whole base array that nothing else refers to (a reshaped bias gradient).
    PyTorch likewise steals a gradient whose use count is 1."""
    if id(array) in delivered:
        return False
    if array.base is None:
        return True
    return (array.base.base is None and id(array.base) not in delivered
            and array.flags.c_contiguous and array.size == array.base.size
            and sys.getrefcount(array.base) <= 2)   # the view's reference and the argument


def _nodes_leading_to(roots, target_keys):
    """The nodes from which some target (a leaf id or a (node, i) key) can be reached:
    the only ones `grad` needs to run. Iterative post-order over the graph."""
    leads = {}
    stack = [(t.grad_fn, False) for t, _ in roots if t.grad_fn is not None]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            hit = False
            for e in node._edges:
                if e is None:
                    continue
                if isinstance(e, Tensor):
                    hit = hit or id(e) in target_keys
                else:
                    hit = hit or leads[e[0]] or (e[0], e[1]) in target_keys
            leads[node] = hit
            continue
        if node in leads:
            continue
        leads[node] = False
        stack.append((node, True))
        for e in node._edges:
            if isinstance(e, tuple) and e[0] not in leads:
                stack.append((e[0], False))
    return {node for node, hit in leads.items() if hit}


def _n_outputs(node):
    return len(node._output_meta) if hasattr(node, "_output_meta") else 1


def _backward_scope(node):
    """Anomaly mode's phrase for the ops a node's backward runs: 'in layers.2 (Linear),
    during AffineBackward' (the layer where the node was made, when it was recorded)."""
    scope = getattr(node, "_scope", None)
    return f"{scope}, during {node.name()}" if scope else f"during {node.name()}"
