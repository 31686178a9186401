"""Vanishing and exploding gradients through time (Bengio et al. 1994, Pascanu et al. 2013),
the LSTM's cell path (Hochreiter & Schmidhuber 1997) and gradient clipping.

A tanh RNN h_t = tanh(W_ih x_t + W_hh h_{t-1}) has the Jacobian

    dh_T / dh_0 = prod_{t = T..1} diag(1 - h_t^2) W_hh,

so near h = 0 (inputs zero or small, tanh' = 1) it is the matrix power W_hh^T, whose norm
goes like rho(W_hh)^T: it vanishes geometrically for a spectral radius rho < 1 and explodes for
rho > 1. Part 1 measures it with nnlab's autograd for W_hh scaled to each radius (a
Gaussian matrix divided by its largest |eigenvalue|, times the radius; biases zero,
h_0 = 0, inputs N(0, input_std^2), input_std 0 by default so the run stays in the linear
regime). The number reported for length T is

    g(T) = sqrt(mean_k ||u_k^T dh_T / dh_0||^2)

over `probes` random unit vectors u_k (the same for every T), a vector-Jacobian product
from one backward pass each; E g(T)^2 = ||dh_T / dh_0||_F^2 / H, so g is the RMS singular
value of the Jacobian and the identity scores 1. All lengths come from one forward and one
backward pass: the batch holds len(lengths) * probes copies of the same sequence and copy
(T, k) gets u_k at step T as its output gradient.

The same for an nn.LSTM (PyTorch's initialisation from `seed`, forget-gate bias set:
bias_ih_l0[H:2H] = b_f and bias_hh_l0[H:2H] = 0, the other biases as initialised, h_0 =
c_0 = 0). Its cell path c_t = f_t * c_{t-1} + i_t * g_t carries the gradient by a
diagonal factor f_t = sigmoid(b_f + ...) rather than a matrix (the constant error
carousel). With b_f = 1, f = 0.73, and the whole state's Jacobian near the origin has a
spectral radius about f + sigmoid(b_i) sigmoid(b_o) rho(W_hg) ~ 0.73 + 0.25 * 0.58, so at
this initialisation g(T) vanishes a little faster than the radius-0.9 RNN's (a fitted
factor of about 0.86 per step against 0.90): the carousel helps only as far as f is near
1. With b_f = 3 (f = 0.95) g(T) barely changes over 200 steps; a trained LSTM learns
forget gates near 1 where it must remember. The LSTM runs on the same inputs and u_k.

Part 2 trains the radius `clip_radius` RNN (hidden `clip_hidden`, tanh, W_hh scaled as
above) to recall the first of `clip_length` N(0, 1) scalars from its last hidden state (a
Linear readout, mean squared error), by SGD with learning rate `clip_lr`, twice from the
same initialisation and batches: without clipping and with nn.utils.clip_grad_norm_(
max_norm=`clip_max_norm`). Without clipping, steps along the exploding gradient drive the
tanh units into saturation; once the last state is one +-1 pattern z for the whole batch,
the loss is a quadratic in the readout (w, b) with curvature 2 ||(z, 1)||^2 = 2 (H + 1)
along (z, 1), and each SGD step multiplies the error along it by 1 - 2 lr (H + 1) (-12 for
H = 64, lr = 0.1, so the loss by up to 144; 10- to 144-fold a step is measured) until the
loss is inf, where the run stops (a divergence is a result here, so NumPy's overflow
warnings are silenced). With clipping every step has length at most lr * max_norm and the
loss comes down. Over seeds 0-29 (100 steps, one and two BLAS threads) the unclipped run
reaches an infinite loss in every one, between steps 23 and 52, after gradient norms above
1e18; the clipped run never diverges (its largest loss is at most 2.7 times its first) and
ends at 0.29 to 0.72, at most 0.94 of its first loss. The hidden size is the margin: with
H = 32 (factor 1 - 6.6) the unclipped run escaped the blow-up at 2 of seeds 0-9, and which 2
changed with the thread count. The runs are chaotic, their numbers change with
floating-point rounding (a BLAS, a thread count); the divergence does not.
"""
import math
import os

import numpy as np

from .. import backend, nn, optim
from ..autograd.engine import grad
from ..autograd.tensor import Tensor
from ..nn.utils import clip_grad_norm_
from .plot import save_figure

INPUT_SIZE = 8
DIVERGED = 1e3    # a run diverged if its final loss is non-finite or above 1000 x its first


def scaled_matrix(size, radius, rng):
    """(size, size) float32: a N(0, 1/size) matrix scaled so that its largest |eigenvalue|
    is `radius`."""
    w = rng.standard_normal((size, size)) / math.sqrt(size)
    return (w * radius / np.abs(np.linalg.eigvals(w)).max()).astype(np.float32)


def _set(param, array):
    param._data[...] = array
    param._version_counter[0] += 1


def jacobian_norms(module, lengths, u, x=None):
    """[g(T) for T in lengths]: the RMS over the rows u_k of u (K, H) of
    ||u_k^T dh_T / dh_0|| for `module`, a one-layer seq-first nn.RNN or nn.LSTM run from
    h_0 = 0 (and c_0 = 0) on the inputs x (max(lengths), input_size) (None: zeros).
    One forward and one backward pass over a batch of len(lengths) K copies of x."""
    steps, probes = max(lengths), len(u)
    n, hidden, size = len(lengths) * probes, module.hidden_size, module.input_size
    x = np.zeros((steps, size)) if x is None else np.asarray(x)[:steps]
    x = Tensor(np.ascontiguousarray(np.broadcast_to(x[:, None], (steps, n, size)),
                                    dtype=np.float32))                   # (steps, n, I)
    h0 = Tensor(np.zeros((1, n, hidden), np.float32), requires_grad=True)
    if isinstance(module, nn.LSTM):
        output, _ = module(x, (h0, Tensor(np.zeros((1, n, hidden), np.float32))))
    else:
        output, _ = module(x, h0)                                        # (steps, n, H)
    out_grad = np.zeros((steps, n, hidden), np.float32)    # copy T_i K + k: u_k at T_i
    out_grad[np.repeat(np.asarray(lengths) - 1, probes), np.arange(n)] = np.tile(
        u, (len(lengths), 1))
    g0, = grad(output, h0, grad_outputs=Tensor(out_grad))
    norms = np.linalg.norm(g0._data[0].astype(np.float64), axis=1)        # (n,)
    return np.sqrt((norms.reshape(len(lengths), probes) ** 2).mean(axis=1)).tolist()


def unit_vectors(count, size, rng):
    """(count, size): rows drawn uniformly from the unit sphere."""
    u = rng.standard_normal((count, size))
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def _rate(lengths, norms):
    """The per-step factor exp(slope) of a least-squares line through (T, log g(T))."""
    logs = np.log(np.maximum(np.asarray(norms), 1e-300))
    if len(lengths) < 2:
        return math.nan
    return float(math.exp(np.polyfit(np.asarray(lengths, float), logs, 1)[0]))


def recall_task(steps, batch_size, length, rng):
    """(x (steps, B, length, 1), y (steps, B, 1)) float32: N(0, 1) scalars, y the first."""
    x = rng.standard_normal((steps, batch_size, length, 1)).astype(np.float32)
    return x, np.ascontiguousarray(x[:, :, 0, :])


def _grad_norm(params):
    total = 0.0
    for p in params:
        if p.grad is not None:
            g = p.grad._data.astype(np.float64)
            total += float((g * g).sum())
    return math.sqrt(total)


def train_recall(radius, hidden, x, y, lr, max_norm, seed):
    """Per-step (losses, gradient norms before clipping) of SGD on the recall task, with
    clip_grad_norm_(max_norm) or without (max_norm None); stops after a non-finite loss."""
    backend.manual_seed(seed)
    rnn, head = nn.RNN(1, hidden, batch_first=True), nn.Linear(hidden, 1)
    _set(rnn.weight_hh_l0, scaled_matrix(hidden, radius, np.random.default_rng(seed)))
    params = list(rnn.parameters()) + list(head.parameters())
    optimizer = optim.SGD(params, lr=lr)
    losses, norms = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for xb, yb in zip(x, y):
            optimizer.zero_grad()
            out, _ = rnn(Tensor(xb))                                   # (B, length, H)
            loss = ((head(out[:, -1]) - Tensor(yb)) ** 2).mean()
            losses.append(float(loss.item()))
            if not math.isfinite(losses[-1]):
                norms.append(math.nan)
                break
            loss.backward()
            norms.append(_grad_norm(params))
            if max_norm is not None:
                clip_grad_norm_(params, max_norm)
            optimizer.step()
    return losses, norms


def rnn_gradient_norms(lengths=range(1, 201), hidden_size=64, radii=(0.9, 1.0, 1.1), seed=0,
                       out=None, forget_biases=(1.0, 3.0), probes=4, input_std=0.0,
                       clip_radius=1.1, clip_hidden=64, clip_length=30, clip_steps=100,
                       clip_batch_size=32, clip_lr=0.1, clip_max_norm=1.0):
    """Gradient norms through time for tanh RNNs and LSTMs, and clipping; see the module
    docstring.

    Returns {"lengths", "hidden_size", "radii", "forget_biases", "probes", "input_std",
    "seed", "rnn": {radius: [g(T) per length]}, "lstm": {b_f: [g(T) per length]},
    "rate": {"rnn": {radius: factor}, "lstm": {b_f: factor}} (the fitted per-step factor of
    g), "clipping": {"radius", "hidden", "length", "steps", "batch_size", "lr", "max_norm",
    "loss": {"none", "clipped"} (per-step lists, cut after a non-finite loss), "grad_norm":
    {"none", "clipped"} (before clipping), "final_loss": {...} (mean of the last
    max(1, steps // 10) losses, or the non-finite one), "diverged": {...} (final loss
    non-finite or above DIVERGED times the first)}, "plot"}: plot is rnn_gradients.png in
    `out`, None without `out`."""
    lengths = [int(t) for t in lengths]
    if not lengths or min(lengths) < 1 or hidden_size < 1 or probes < 1 or clip_steps < 1:
        raise ValueError(f"rnn_gradient_norms: lengths >= 1 (at least one), hidden_size >= 1, "
                         f"probes >= 1 and clip_steps >= 1 are needed, got lengths "
                         f"{lengths[:3]}..., hidden_size={hidden_size}, probes={probes}, "
                         f"clip_steps={clip_steps}")
    result = {"lengths": lengths, "hidden_size": hidden_size, "radii": list(radii),
              "forget_biases": list(forget_biases), "probes": probes, "input_std": input_std,
              "seed": seed, "rnn": {}, "lstm": {}, "rate": {"rnn": {}, "lstm": {}}}
    rng = np.random.default_rng(seed)
    u = unit_vectors(probes, hidden_size, rng)
    x = rng.standard_normal((max(lengths), INPUT_SIZE)) * input_std
    for radius in radii:
        backend.manual_seed(seed)
        rnn = nn.RNN(INPUT_SIZE, hidden_size, nonlinearity="tanh")
        _set(rnn.weight_hh_l0, scaled_matrix(hidden_size, radius, np.random.default_rng(seed)))
        _set(rnn.bias_ih_l0, 0.0)
        _set(rnn.bias_hh_l0, 0.0)
        norms = jacobian_norms(rnn, lengths, u, x)
        result["rnn"][radius] = norms
        result["rate"]["rnn"][radius] = _rate(lengths, norms)
    for bias in forget_biases:
        backend.manual_seed(seed)
        lstm = nn.LSTM(INPUT_SIZE, hidden_size)
        forget = slice(hidden_size, 2 * hidden_size)                  # gates i, f, g, o
        for param, value in ((lstm.bias_ih_l0, bias), (lstm.bias_hh_l0, 0.0)):
            b = param._data.copy()
            b[forget] = value
            _set(param, b)
        norms = jacobian_norms(lstm, lengths, u, x)
        result["lstm"][bias] = norms
        result["rate"]["lstm"][bias] = _rate(lengths, norms)
    result["clipping"] = clipping(clip_radius, clip_hidden, clip_length, clip_steps,
                                  clip_batch_size, clip_lr, clip_max_norm, seed)
    result["plot"] = None
    if out is not None:
        os.makedirs(out, exist_ok=True)
        result["plot"] = write_plot(result, os.path.join(out, "rnn_gradients.png"))
    return result


def clipping(radius=1.1, hidden=64, length=30, steps=100, batch_size=32, lr=0.1, max_norm=1.0,
             seed=0):
    """Part 2 (see the module docstring): the recall task trained without and with
    clipping from the same initialisation and batches."""
    x, y = recall_task(steps, batch_size, length, np.random.default_rng(seed + 1))
    window = max(1, steps // 10)
    found = {"radius": radius, "hidden": hidden, "length": length, "steps": steps,
             "batch_size": batch_size, "lr": lr, "max_norm": max_norm, "loss": {},
             "grad_norm": {}, "final_loss": {}, "diverged": {}}
    for kind, clip in (("none", None), ("clipped", max_norm)):
        losses, norms = train_recall(radius, hidden, x, y, lr, clip, seed)
        final = losses[-1] if not math.isfinite(losses[-1]) else float(np.mean(losses[-window:]))
        found["loss"][kind], found["grad_norm"][kind] = losses, norms
        found["final_loss"][kind] = final
        found["diverged"][kind] = not final <= DIVERGED * losses[0]
    return found


def write_plot(result, path):
    """Three panels: g(T) against T (log scale) for each RNN radius and LSTM forget bias;
    the recall task's loss and its gradient norm per step, without and with clipping.
    Returns `path`."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(15, 4.4), dpi=100)
    grad_ax, loss_ax, norm_ax = fig.subplots(1, 3)
    lengths = result["lengths"]

    def positive(values):
        return [v if v > 0 and math.isfinite(v) else math.nan for v in values]

    for radius, norms in result["rnn"].items():
        grad_ax.plot(lengths, positive(norms), label=f"tanh RNN, radius {radius:g}")
    for bias, norms in result["lstm"].items():
        grad_ax.plot(lengths, positive(norms), "--", label=f"LSTM, forget bias {bias:g}")
    grad_ax.set_yscale("log")
    grad_ax.set_title(f"||u^T dh_T/dh_0|| (RMS over {result['probes']} unit u), "
                      f"H = {result['hidden_size']}")
    grad_ax.set_xlabel("T (steps back)")
    grad_ax.set_ylabel("gradient norm")
    clip = result["clipping"]
    labels = {"none": "no clipping", "clipped": f"clip_grad_norm_({clip['max_norm']:g})"}
    for kind in ("none", "clipped"):
        losses, norms = clip["loss"][kind], clip["grad_norm"][kind]
        steps = range(1, len(losses) + 1)
        end = " (diverged)" if clip["diverged"][kind] else ""
        loss_ax.plot(steps, positive(losses), label=labels[kind] + end)
        norm_ax.plot(steps, positive(norms), label=labels[kind] + end)
    for ax in (loss_ax, norm_ax):
        ax.set_yscale("log")
        ax.set_xlabel("SGD step")
    loss_ax.set_title(f"recall x_0 after {clip['length']} steps: radius {clip['radius']:g} "
                      f"RNN, lr {clip['lr']:g}")
    loss_ax.set_ylabel("mean squared error")
    norm_ax.set_title("gradient norm before clipping")
    norm_ax.set_ylabel("||grad||")
    return save_figure(fig, path)
