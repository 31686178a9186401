"""Recurrent layers and cells against torch through state_dict (outputs, final states and
the gradients of the input, the initial states and every parameter), for every cell type
and option; packed variable-length batches; the GRU's reset-before variant against a
hand-written reference; gradient checks; the fused path against its composed twin; long
sequences and the memory they save; dropout, truncated BPTT, repr and the errors."""
import math

import numpy as np
import pytest

import nnlab
from nnlab import nn
from nnlab.autograd.function import _CONSTANT, _OUTPUT
from nnlab.nn.functional.recurrent import recurrent
from nnlab.nn.utils.rnn import pack_padded_sequence as nn_pack
from tests.helpers import TOLERANCES, check_grad, randn

torch = pytest.importorskip("torch")
pack = torch.nn.utils.rnn.pack_padded_sequence

LAYERS = [("RNN", {}), ("RNN", dict(nonlinearity="relu")), ("LSTM", {}), ("GRU", {})]
LAYER_IDS = ["rnn-tanh", "rnn-relu", "lstm", "gru"]
MODES = {"rnn-tanh": "RNN_TANH", "rnn-relu": "RNN_RELU", "lstm": "LSTM", "gru": "GRU"}
# num_layers, bidirectional, batch_first, initial states given, bias
OPTIONS = [(1, False, False, False, True), (1, False, False, True, True),
           (2, False, False, True, True), (1, True, False, True, True),
           (2, True, True, False, True), (2, True, True, True, True),
           (1, False, True, True, True), (2, True, False, True, False)]


def _pair(name, kwargs, dtype, input_size=3, hidden_size=4, seed=0):
    """A torch layer and the nnlab layer holding its state_dict, both in `dtype`."""
    tdtype = getattr(torch, np.dtype(dtype).name)
    torch.manual_seed(seed)
    tm = getattr(torch.nn, name)(input_size, hidden_size, **kwargs).to(tdtype)
    m = getattr(nn, name)(input_size, hidden_size, **kwargs).to(dtype)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return m, tm


def _leaves(arrays, dtype):
    return ([nnlab.tensor(a.astype(dtype), requires_grad=True) for a in arrays],
            [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays])


def _flat(out):
    """(output, h_n) or (output, (h_n, c_n)) -> [output, h_n(, c_n)]."""
    y, h = out
    return [y] + (list(h) if isinstance(h, tuple) else [h])


def _compare(outs, touts, leaves, tleaves, m, tm, dtype, seed=1):
    """Values of outs against touts, then the gradients of sum(out * v) of every leaf and
    parameter."""
    tol = TOLERANCES[np.dtype(dtype).type]
    rng = np.random.default_rng(seed)
    loss, tloss = 0, 0
    for k, (o, t) in enumerate(zip(outs, touts)):
        assert tuple(o.shape) == tuple(t.shape), f"output {k}: {o.shape} vs {t.shape}"
        assert o.dtype == dtype
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), **tol,
                                   err_msg=f"output {k}")
        v = rng.standard_normal(o.shape).astype(dtype)
        loss = loss + (o * nnlab.tensor(v)).sum()
        tloss = tloss + (t * torch.tensor(v)).sum()
    loss.backward()
    tloss.backward()
    for i, (x, t) in enumerate(zip(leaves, tleaves)):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **tol,
                                   err_msg=f"gradient of input {i}")
    for (name, p), tp in zip(m.named_parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **tol, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layers, bidirectional, batch_first, with_hx, bias", OPTIONS)
@pytest.mark.parametrize("name, kwargs", LAYERS, ids=LAYER_IDS)
def test_layer_matches_torch_through_state_dict(name, kwargs, layers, bidirectional,
                                                batch_first, with_hx, bias, dtype):
    m, tm = _pair(name, dict(kwargs, num_layers=layers, bidirectional=bidirectional,
                             batch_first=batch_first, bias=bias), dtype)
    assert repr(m) == repr(tm)
    steps, batch, directions = 5, 3, 2 if bidirectional else 1
    arrays = [randn(*((batch, steps) if batch_first else (steps, batch)), 3)]
    if with_hx:
        arrays += [randn(layers * directions, batch, 4, seed=k + 1)
                   for k in range(2 if name == "LSTM" else 1)]
    leaves, tleaves = _leaves(arrays, dtype)
    hx, thx = None, None
    if with_hx:
        hx, thx = (leaves[1], tleaves[1]) if name != "LSTM" else (tuple(leaves[1:]),
                                                                   tuple(tleaves[1:]))
    outs, touts = _flat(m(leaves[0], hx)), _flat(tm(tleaves[0], thx))
    _compare(outs, touts, leaves, tleaves, m, tm, dtype)


@pytest.mark.parametrize("name, kwargs", LAYERS, ids=LAYER_IDS)
def test_unbatched_input_matches_torch(name, kwargs):
    m, tm = _pair(name, dict(kwargs, num_layers=2, bidirectional=True), np.float64)
    arrays = [randn(4, 3)] + [randn(4, 4, seed=k + 1) for k in range(2 if name == "LSTM"
                                                                    else 1)]
    leaves, tleaves = _leaves(arrays, np.float64)
    hx, thx = ((tuple(leaves[1:]), tuple(tleaves[1:])) if name == "LSTM"
               else (leaves[1], tleaves[1]))
    _compare(_flat(m(leaves[0], hx)), _flat(tm(tleaves[0], thx)), leaves, tleaves, m, tm,
             np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, True)])
@pytest.mark.parametrize("name, kwargs", LAYERS, ids=LAYER_IDS)
def test_packed_sequences_match_torch(name, kwargs, layers, bidirectional, dtype):
    """Unsorted lengths (enforce_sorted=False), initial states given: the packed output,
    h_n at each sequence's own last step, and the gradients."""
    m, tm = _pair(name, dict(kwargs, num_layers=layers, bidirectional=bidirectional), dtype)
    lengths = [3, 6, 1, 6, 4]
    directions = 2 if bidirectional else 1
    arrays = [randn(6, 5, 3)] + [randn(layers * directions, 5, 4, seed=k + 1)
                                 for k in range(2 if name == "LSTM" else 1)]
    leaves, tleaves = _leaves(arrays, dtype)
    hx, thx = ((tuple(leaves[1:]), tuple(tleaves[1:])) if name == "LSTM"
               else (leaves[1], tleaves[1]))
    out, h = m(nn_pack(leaves[0], lengths, enforce_sorted=False), hx)
    tout, th = tm(pack(tleaves[0], lengths, enforce_sorted=False), thx)
    np.testing.assert_array_equal(out.batch_sizes.numpy(), tout.batch_sizes.numpy())
    np.testing.assert_array_equal(out.unsorted_indices.numpy(), tout.unsorted_indices.numpy())
    _compare(_flat((out.data, h)), _flat((tout.data, th)), leaves, tleaves, m, tm, dtype)


# -- the GRU with the reset gate before the recurrent product --------------------------
def _gru_reset_before(x, h, w_ih, w_hh, b_ih, b_hh):
    """The textbook GRU written out in torch ops, step by step: the reference."""
    hidden, ys = h.shape[-1], []
    w_ir, w_iz, w_in = w_ih.split(hidden)
    w_hr, w_hz, w_hn = w_hh.split(hidden)
    b_ir, b_iz, b_in = b_ih.split(hidden)
    b_hr, b_hz, b_hn = b_hh.split(hidden)
    for x_t in x:
        r = torch.sigmoid(x_t @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
        z = torch.sigmoid(x_t @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
        n = torch.tanh(x_t @ w_in.T + b_in + (r * h) @ w_hn.T + b_hn)
        h = (1 - z) * n + z * h
        ys.append(h)
    return torch.stack(ys), h


@pytest.mark.parametrize("fused", [True, False])
def test_gru_reset_before_matches_a_hand_written_reference(fused):
    torch.manual_seed(0)
    cell = torch.nn.GRUCell(3, 4).double()
    params = [p.detach().numpy() for p in cell.parameters()]     # w_ih, w_hh, b_ih, b_hh
    arrays = [randn(5, 2, 3), randn(2, 4, seed=1)] + params
    leaves, tleaves = _leaves(arrays, np.float64)
    x, h0, *w = leaves
    y, h_n = recurrent("GRU", x, h0[None], [tuple(w)], reset_after=False, fused=fused)
    ty, th = _gru_reset_before(*tleaves)
    assert not np.allclose(y.detach().numpy(), recurrent("GRU", x, h0[None], [tuple(w)])[0]
                           .detach().numpy())                   # not torch's form
    _compare_functional([y, h_n[0]], [ty, th], leaves, tleaves)


def _compare_functional(outs, touts, leaves, tleaves, tol=TOLERANCES[np.float64]):
    rng = np.random.default_rng(1)
    loss, tloss = 0, 0
    for o, t in zip(outs, touts):
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), **tol)
        v = rng.standard_normal(o.shape)
        loss, tloss = loss + (o * nnlab.tensor(v)).sum(), tloss + (t * torch.tensor(v)).sum()
    loss.backward()
    tloss.backward()
    for i, (a, t) in enumerate(zip(leaves, tleaves)):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), **tol,
                                   err_msg=f"gradient of input {i}")


def test_gru_module_and_cell_take_reset_after():
    m, cell = nn.GRU(3, 4, reset_after=False), nn.GRUCell(3, 4, reset_after=False)
    assert repr(m) == "GRU(3, 4, reset_after=False)"
    assert repr(cell) == "GRUCell(3, 4, reset_after=False)"
    cell.load_state_dict({k.replace("_l0", ""): v for k, v in m.state_dict().items()})
    x = nnlab.randn(1, 2, 3)
    np.testing.assert_allclose(m(x)[0][0].detach().numpy(), cell(x[0]).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


# -- gradient checks, the fused path against its composed twin ---------------------------
def _functional(mode, layers=1, bidirectional=False, lengths=None, fused=True,
                reset_after=True):
    """(x, h0[, c0], weights...) -> the flat outputs of `recurrent`."""
    per = 4 * layers * (2 if bidirectional else 1)

    def fn(x, *rest):
        states, w = rest[:len(rest) - per], rest[len(rest) - per:]
        hx = tuple(states) if mode == "LSTM" else states[0]
        weights = [tuple(w[k:k + 4]) for k in range(0, per, 4)]
        return _flat(recurrent(mode, x, hx, weights, layers, bidirectional=bidirectional,
                               lengths=lengths, fused=fused, reset_after=reset_after))
    return fn


def _arrays(mode, steps=3, batch=2, size=2, hidden=3, layers=1, bidirectional=False, seed=0):
    directions = 2 if bidirectional else 1
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden
    arrays = [randn(steps, batch, size, seed=seed)]
    arrays += [randn(layers * directions, batch, hidden, seed=seed + 1 + k) * 0.5
               for k in range(2 if mode == "LSTM" else 1)]
    for k in range(layers * directions):
        fan_in = size if k < directions else hidden * directions
        arrays += [randn(gates, fan_in, seed=10 + 4 * k) * 0.5,
                   randn(gates, hidden, seed=11 + 4 * k) * 0.5,
                   randn(gates, seed=12 + 4 * k) * 0.5, randn(gates, seed=13 + 4 * k) * 0.5]
    return arrays


CHECKS = [("RNN_TANH", True), ("LSTM", True), ("GRU", True), ("GRU", False)]


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@pytest.mark.parametrize("mode, reset_after", CHECKS)
def test_gradcheck_through_the_layer(mode, reset_after, fused):
    """First and second derivatives (the fused path's second ones recompute the twin)."""
    fn = _functional(mode, fused=fused, reset_after=reset_after)
    check_grad(fn, *_arrays(mode), second_order=not fused or mode == "LSTM")


def test_gradcheck_relu_rnn_with_lengths_and_both_directions():
    arrays = _arrays("RNN_RELU", bidirectional=True, seed=3)
    check_grad(_functional("RNN_RELU", bidirectional=True, lengths=np.array([2, 3])),
               *arrays, second_order=False)


TWINS = [(mode, layers, bidirectional, lengths)
         for mode in ("RNN_TANH", "RNN_RELU", "LSTM", "GRU", "GRU-before")
         for layers, bidirectional, lengths in [(1, False, None), (2, True, [4, 2, 5])]]


@pytest.mark.parametrize("mode, layers, bidirectional, lengths", TWINS)
def test_fused_equals_composed(mode, layers, bidirectional, lengths):
    after = mode != "GRU-before"
    mode = mode.split("-")[0]
    arrays = _arrays(mode, steps=5, batch=3, size=3, hidden=4, layers=layers,
                     bidirectional=bidirectional)
    lengths = None if lengths is None else np.array(lengths)
    results = []
    for fused in (True, False):
        xs = [nnlab.tensor(a, requires_grad=True) for a in arrays]
        outs = _functional(mode, layers, bidirectional, lengths, fused, after)(*xs)
        v = [nnlab.tensor(randn(*o.shape, seed=20 + k)) for k, o in enumerate(outs)]
        grads = nnlab.autograd.grad(sum((o * w).sum() for o, w in zip(outs, v)), xs)
        results.append([o.detach().numpy() for o in outs] + [g.numpy() for g in grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_second_derivatives_through_the_fused_layer_match_torch():
    """d/dW of |dL/dx|^2 (a gradient penalty) through a fused LSTM, against torch."""
    m, tm = _pair("LSTM", dict(num_layers=2), np.float64)
    leaves, tleaves = _leaves([randn(4, 2, 3)], np.float64)
    grads = []
    for layer, x, lib in ((m, leaves[0], nnlab), (tm, tleaves[0], torch)):
        y, _ = layer(x)
        gx, = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        grads.append([p.grad.detach().numpy() for p in layer.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# -- long sequences ----------------------------------------------------------------------
def _saved_nbytes(node):
    """Bytes of the arrays a fused node keeps for its backward."""
    total = 0
    for kind, item, _, _ in node._saved:
        array = item[0] if kind == _OUTPUT else item if kind == _CONSTANT else item.data
        total += getattr(array, "nbytes", 0)
    return total


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_a_thousand_steps_backpropagate_and_memory_is_linear(name):
    nnlab.manual_seed(0)
    m = getattr(nn, name)(2, 3)
    saved = {}
    for steps in (250, 1000):
        x = nnlab.randn(steps, 2, 2, requires_grad=True)
        y, _ = m(x)
        saved[steps] = _saved_nbytes(y.grad_fn)
        y.sum().backward()
        assert np.isfinite(x.grad.numpy()).all() and np.abs(x.grad.numpy()[0]).sum() > 0
    assert 3.9 < saved[1000] / saved[250] < 4.05
    per_step = saved[1000] / 1000 / (2 * 4)                       # floats per step and sample
    assert per_step < 2 + 16 * 3                                  # O(input + gates H)


def test_a_thousand_steps_through_the_composed_twin():
    arrays = [a[:, :1] if i == 0 else a for i, a in enumerate(_arrays("LSTM", steps=1000,
                                                                      batch=1, hidden=2))]
    arrays[1], arrays[2] = arrays[1][:, :1], arrays[2][:, :1]
    xs = [nnlab.tensor(a, requires_grad=True) for a in arrays]
    y, h, c = _functional("LSTM", fused=False)(*xs)
    (y.sum() + c.sum()).backward()
    assert all(np.isfinite(x.grad.numpy()).all() for x in xs)


# -- cells -------------------------------------------------------------------------------
CELLS = [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu", bias=False)),
         ("LSTMCell", {}), ("GRUCell", {}), ("GRUCell", dict(bias=False))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batched, with_hx", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("name, kwargs", CELLS)
def test_cell_matches_torch(name, kwargs, batched, with_hx, dtype):
    m, tm = _pair(name, kwargs, dtype)
    assert repr(m) == repr(tm)
    lead = (2,) if batched else ()
    arrays = [randn(*lead, 3)]
    if with_hx:
        arrays += [randn(*lead, 4, seed=k + 1) for k in range(2 if name == "LSTMCell" else 1)]
    leaves, tleaves = _leaves(arrays, dtype)
    hx, thx = None, None
    if with_hx:
        hx, thx = ((tuple(leaves[1:]), tuple(tleaves[1:])) if name == "LSTMCell"
                   else (leaves[1], tleaves[1]))
    out, tout = m(leaves[0], hx), tm(tleaves[0], thx)
    outs, touts = (list(out), list(tout)) if name == "LSTMCell" else ([out], [tout])
    _compare(outs, touts, leaves, tleaves, m, tm, dtype)


# -- modules: init, dropout, truncated BPTT, repr ----------------------------------------
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "LSTMCell"])
def test_initialisation_has_torchs_bound_and_names(name):
    nnlab.manual_seed(0)
    kwargs = {} if name.endswith("Cell") else dict(num_layers=2, bidirectional=True)
    m, tm = getattr(nn, name)(8, 16, **kwargs), getattr(torch.nn, name)(8, 16, **kwargs)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in tm.parameters()]
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24   # 1/sqrt(16)
    np.testing.assert_allclose(values.std(), 0.25 / math.sqrt(3), rtol=0.05)


@pytest.mark.parametrize("kwargs", [dict(num_layers=3, bias=False, batch_first=True,
                                         dropout=0.25, bidirectional=True), dict()])
def test_repr_and_attributes_match_torch(kwargs):
    for name in ("RNN", "LSTM", "GRU"):
        m, tm = getattr(nn, name)(5, 7, **kwargs), getattr(torch.nn, name)(5, 7, **kwargs)
        assert repr(m) == repr(tm)
        assert m._flat_weights_names == tm._flat_weights_names
        assert len(m.all_weights) == len(tm.all_weights)
    assert nn.RNN(2, 3, 1, "relu").nonlinearity == "relu"


def test_dropout_acts_between_layers_in_training_only():
    nnlab.manual_seed(0)
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = nnlab.randn(5, 2, 3)
    train_a, train_b = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    m.eval()
    eval_a, eval_b = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    np.testing.assert_array_equal(eval_a, eval_b)
    assert not np.allclose(train_a, eval_a) and not np.allclose(train_a, train_b)
    single = nn.GRU(3, 4, dropout=0.5)                    # one layer: nothing in between
    np.testing.assert_array_equal(single(x)[0].detach().numpy(), single(x)[0].detach().numpy())


def test_truncated_bptt_by_detaching_the_carried_state():
    nnlab.manual_seed(0)
    m = nn.LSTM(3, 4)
    x = nnlab.randn(8, 2, 3, requires_grad=True)
    full, _ = m(x)
    first, hx = m(x[:4])
    second, _ = m(x[4:], tuple(h.detach() for h in hx))
    np.testing.assert_allclose(nnlab.cat([first, second]).detach().numpy(),
                               full.detach().numpy(), rtol=1e-5, atol=1e-6)
    second.sum().backward()
    assert np.abs(x.grad.numpy()[:4]).max() == 0 and np.abs(x.grad.numpy()[4:]).max() > 0


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("make, x_shape, hx, error, message", [
    (lambda: nn.LSTM(10, 20), (5, 3, 8), None, RuntimeError,
     r"LSTM\(10, 20\): input of shape \(5, 3, 8\) has 8 features in its last dimension, "
     r"expected input_size=10"),
    (lambda: nn.GRU(10, 20), (10,), None, ValueError,
     r"GRU\(10, 20\): expected a 3-D input .* got shape \(10,\)"),
    (lambda: nn.RNN(10, 20, batch_first=True), (1, 2, 3, 10), None, ValueError,
     r"RNN\(10, 20\): expected a 3-D input \(batch, seq_len, input_size\) .* got shape "
     r"\(1, 2, 3, 10\)"),
    (lambda: nn.GRU(10, 20, num_layers=2), (5, 3, 10), (1, 3, 20), RuntimeError,
     r"GRU\(10, 20\): hx of shape \(1, 3, 20\) does not match the batched 3-D input: "
     r"expected \(2, 3, 20\)"),
    (lambda: nn.LSTM(10, 20), (5, 10), ((1, 1, 20), (1, 1, 20)), RuntimeError,
     r"LSTM\(10, 20\): h_0 of shape \(1, 1, 20\) does not match the unbatched 2-D input: "
     r"expected \(1, 20\)"),
    (lambda: nn.LSTM(10, 20), (0, 3, 10), None, ValueError,
     r"LSTM\(10, 20\): expected a sequence of at least one step"),
    (lambda: nn.LSTMCell(10, 20), (3, 10), ((3, 20), (2, 20)), RuntimeError,
     r"LSTMCell\(10, 20\): hx\[1\] of shape \(2, 20\) does not match the input of shape "
     r"\(3, 10\): expected \(3, 20\)"),
    (lambda: nn.RNNCell(10, 20), (3, 2, 10), None, ValueError,
     r"RNNCell\(10, 20\): expected a 2-D input \(batch, input_size\) or a 1-D unbatched "
     r"one, got shape \(3, 2, 10\)"),
])
def test_errors_name_the_layer_and_the_shapes(make, x_shape, hx, error, message):
    if isinstance(hx, tuple) and isinstance(hx[0], tuple):
        hx = tuple(nnlab.zeros(*s) for s in hx)
    elif hx is not None:
        hx = nnlab.zeros(*hx)
    with pytest.raises(error, match=message):
        make()(nnlab.zeros(*x_shape), hx)


def test_constructor_and_dtype_errors():
    with pytest.raises(NotImplementedError, match=r"LSTM: proj_size=2 .* not supported"):
        nn.LSTM(4, 8, proj_size=2)
    with pytest.raises(ValueError, match=r"RNN: unknown nonlinearity 'gelu'"):
        nn.RNN(4, 8, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"GRU: dropout should be a number in range \[0, 1\]"):
        nn.GRU(4, 8, dropout=1.5)
    with pytest.raises(ValueError, match=r"LSTM\(4, 8\): input dtype float64 does not match "
                                         r"the weights' float32"):
        nn.LSTM(4, 8)(nnlab.zeros(2, 1, 4, dtype=nnlab.float64))
    with pytest.raises(TypeError, match=r"LSTM\(4, 8\): hx must be a tuple \(h_0, c_0\)"):
        nn.LSTM(4, 8)(nnlab.zeros(2, 1, 4), nnlab.zeros(1, 1, 8))


def test_lengths_longer_than_the_sequence_are_an_error():
    with pytest.raises(ValueError, match=r"pack_padded_sequence: length 7 is longer than the "
                                         r"5 steps of the input \(shape \(5, 2, 3\)"):
        nn.GRU(3, 4)(nn_pack(nnlab.zeros(5, 2, 3), [7, 2]))
