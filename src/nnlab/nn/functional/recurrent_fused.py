"""Fused recurrent sequences, the cuDNN way: one `Function` per layer and direction whose
forward and backward through time are array code.

Forward, x (T, B, in) time-major, states h (and c) (B, H):

    P = W_ih X^T + b                 one GEMM for the input projections of every step
    for each step t:                 only the recurrent GEMM and the gate arithmetic
        gates = P[t] + W_hh h;       h, (c) = cell(gates, h, (c))

Backward, from dL/dy (T, B, H) and dL/dh_n (and dL/dc_n):

    for each step t, last first:     dgates[t] from dh (and dc); dh <- W_hh^T dgates[t]
    dX          = dgates^T W_ih      one GEMM over the T B columns
    [dW_ih db]  = dgates [X 1]       one GEMM (a bias is the weight of a constant input 1,
    [dW_hh db]  = dgates [H_prev 1]  so its gradient is one more column): the sums over
                                     the steps, on the stacked states

Inside, every per-step array is feature-major, (features, B), as cuDNN's column-major
layout: a gate is then a contiguous block of rows, so the elementwise work runs on
contiguous memory, and the per-step GEMM is W_hh (G H, H) times the state (H, B).

The sigmoid gates are evaluated as sigmoid(a) = (1 + tanh(a / 2)) / 2: the rows of the
weights and biases that feed them are halved once per call (exact in floating point), so
all the gates of a step take one tanh. While a step's values are in cache the forward also
stores the factors its backward multiplies by (sigmoid' = s (1 - s) = (1 - tanh^2) / 4,
tanh' = 1 - tanh^2, and their products with the other gates), so that a backward step is
a handful of multiplies and one GEMM. Memory saved: O(T B H) (about 10 H numbers per step
and sample for an LSTM).

With `lengths` (B,) a step at t >= lengths[b] keeps sequence b's state and outputs zeros;
in backward those columns pass dh (and dc) through unchanged and give no gate gradients.

Second derivatives: each sequence is a `FusedKernel` whose twin is the step-by-step
Tensor-op `recurrent_cells.sequence_composed`; under create_graph=True autograd
differentiates the twin, recomputed from the inputs, so double backward through a fused
sequence is exact (and costs what the composed path costs); nothing has to be switched by
the caller.
"""
from ...autograd.fused import FusedKernel
from ...backend import get_array_module
from ...parallel import gemm_threads, matmul, ufunc
from .recurrent_cells import sequence_composed, step_masks


def _with_ones(xp, x):
    """x (T, B, in) -> [x, 1] (T, B, in + 1): the bias becomes the weight of a constant
    input, so that it rides along in the GEMMs (and its gradient comes out of dW's)."""
    xa = xp.empty(x.shape[:2] + (x.shape[2] + 1,), dtype=x.dtype)
    xa[..., :-1] = x
    xa[..., -1] = 1
    return xa


def _project(xp, xa, w, b):
    """[x, 1] (T, B, in + 1) -> W x_t + b for every t, (G, T, B): one GEMM over the T B
    columns. The loops read step t's (G, B) slice of it in place (strided, no copy)."""
    wa = xp.empty((w.shape[0], w.shape[1] + 1), dtype=w.dtype)
    wa[:, :-1] = w
    wa[:, -1] = 0 if b is None else b
    steps, batch = xa.shape[:2]
    return matmul(wa, xa.reshape(steps * batch, -1).T).reshape(-1, steps, batch)


def _bias_sum(b_ih, b_hh):
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def _halve(a, rows):
    """A copy of `a` with its first `rows` rows halved: the rows that feed sigmoid gates,
    sigmoid(a) = (1 + tanh(a / 2)) / 2."""
    a = a.copy()
    a[:rows] *= 0.5
    return a


def _columns(xp, a, blocks=None, ones=False):
    """(T, k, B) -> (k, T B): the steps side by side, for the GEMMs over every step. With
    `blocks` [(rows of a, scale), ...] the row blocks are gathered in that order, scaled;
    with `ones` a row of ones is appended (the constant input a bias multiplies)."""
    rows = [(slice(0, a.shape[1]), 1)] if blocks is None else blocks
    out = xp.empty((sum(r.stop - r.start for r, _ in rows) + ones,) + a.shape[::2],
                   dtype=a.dtype)
    at = 0
    for r, scale in rows:
        n = r.stop - r.start
        if scale == 1:
            out[at:at + n] = a[:, r].transpose(1, 0, 2)
        else:
            xp.multiply(a[:, r].transpose(1, 0, 2), scale, out=out[at:at + n])
        at += n
    if ones:
        out[-1] = 1
    return out.reshape(out.shape[0], -1)


class _Sequence(FusedKernel):
    """What the fused sequences share: the call, the saved arrays, the GEMMs after the loop
    and the create_graph path. A cell type defines `_run` (the forward loop) and
    `_backprop` (the backward loop), both on feature-major (features, B) arrays.

    apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, mode, reset_after):
    x (T, B, in), h0 / c0 (B, H) (c0 None but for an LSTM), weights as torch's (b_* may be
    None), lengths None or (B,) ints, reverse for the backward direction, mode 'LSTM',
    'GRU', 'RNN_TANH' or 'RNN_RELU'. Returns y (T, B, H), h_n (B, H) (and c_n)."""

    @staticmethod
    def twin(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, mode, reset_after=True):
        return sequence_composed(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse,
                                 reset_after)

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, mode,
                reset_after=True):
        xp = get_array_module(x)
        steps = x.shape[0]
        if steps == 0:
            raise ValueError(f"{mode}: expected a sequence of at least one step, got input "
                             f"of shape {x.shape}")
        ctx.train = True in ctx.needs_input_grad[:7]
        ctx.reverse, ctx.lengths, ctx.mode, ctx.reset_after = reverse, lengths, mode, reset_after
        ctx.masks = None if lengths is None else step_masks(lengths, steps, xp)  # (T, B, 1)
        ctx.full = None if lengths is None else ctx.masks.all(axis=(1, 2)).tolist()
        xa = _with_ones(xp, x)                             # (T, B, in + 1)
        with gemm_threads(2 * w_hh.size * x.shape[1]):          # one step's W_hh h
            outputs, hs, saved = ctx._run(xp, xa, h0, c0, w_ih, w_hh, b_ih, b_hh)
        y = outputs[0]
        if ctx.train:
            h_prev = hs[1:] if reverse else hs[:-1]        # (T, H, B): the state before t
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, y, xa, h_prev, *saved)
        return outputs

    # -- helpers of the loops (states are (T + 1, H, B); masks (1, B) per step) -----------
    def _order(self, steps, backward=False):
        forward = range(steps - 1, -1, -1) if self.reverse else range(steps)
        return reversed(forward) if backward else forward

    def _slots(self, t):
        """(previous, current) index of step t in the stacked states."""
        return (t + 1, t) if self.reverse else (t, t + 1)

    def _states(self, xp, steps, init):
        """(T + 1, H, B) for the states, the initial one (B, H) in place."""
        hs = xp.empty((steps + 1, init.shape[1], init.shape[0]), dtype=init.dtype)
        hs[steps if self.reverse else 0] = init.T
        return hs

    def _final(self, hs):
        return hs[0 if self.reverse else -1].T.copy()            # (H, B) -> (B, H)

    def _outputs(self, xp, hs):
        """y (T, B, H) from the stacked states, zeros past each sequence's end."""
        states = (hs[:-1] if self.reverse else hs[1:]).transpose(0, 2, 1)
        y = xp.empty(states.shape, dtype=hs.dtype)
        if self.masks is None:
            y[...] = states
        else:
            xp.multiply(states, self.masks, out=y)
        return y

    def _keep(self, xp, t, new, old):
        """Past a sequence's end the state stays: new[:, b] = old[:, b], t >= lengths[b]."""
        if self.masks is not None and not self.full[t]:
            xp.copyto(new, old, where=~self.masks[t].T)

    def _enter(self, xp, t, running, gy):
        """A backward step begins: dh += dL/dy[t]. Where some sequences are past their end,
        their columns of the running gradients (dh, dc) are set aside, to pass through the
        step unchanged, and zeroed for it; returns what was set aside (None if nothing)."""
        if self.masks is None or self.full[t]:
            xp.add(running[0], gy[t], out=running[0])
            return None
        kept = [g.copy() for g in running]
        xp.add(running[0], gy[t], out=running[0])
        for g in running:
            xp.multiply(g, self.masks[t].T, out=g)
        return kept

    def _restore(self, xp, t, running, kept):
        if kept is not None:
            for g, k in zip(running, kept):
                xp.copyto(g, k, where=~self.masks[t].T)

    # -- backward --------------------------------------------------------------------
    @staticmethod
    def backward(ctx, *grads):
        x, _, _, w_ih, w_hh, _, _, _, xa, h_prev, *arrays = ctx.saved_arrays
        xp = get_array_module(w_hh)
        gy = xp.ascontiguousarray(grads[0].transpose(0, 2, 1))          # (T, H, B)
        running = [g.T.copy() for g in grads[1:]]                       # (H, B), ours
        with gemm_threads(2 * w_hh.size * gy.shape[2]):         # one step's W_hh^T dgates
            d, pieces_x, pieces_h = ctx._backprop(xp, gy, running, w_hh, h_prev, arrays)
        need = ctx.needs_input_grad
        dx, dw_ih, db_ih, dw_hh, db_hh = _gemms(xp, need, xa, w_ih, w_hh, d, pieces_x, pieces_h)
        dh0, dc0 = ([g.T.copy() for g in running] + [None])[:2]
        if need[0]:
            dx = dx.reshape(x.shape)
        return tuple(None if a is None or not n else a
                     for a, n in zip((dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh), need))


def _gemms(xp, need, xa, w_ih, w_hh, d, pieces_x, pieces_h):
    """The gradients that are sums over every step, one GEMM each, from the gate gradients
    d (G', T B) (`_columns`). pieces_x: (rows of W_ih, rows of d); pieces_h: (rows of W_hh,
    rows of d, the operand (T, n, B) that those rows of W_hh multiplied). A bias is the
    weight of a constant input 1, so its gradient is the last column of [dW, db]."""
    dx = dw_ih = db_ih = dw_hh = db_hh = None
    if need[0]:                                                   # dX = dgates^T W_ih
        for w_rows, d_rows in pieces_x:
            part = matmul(d[d_rows].T, w_ih[w_rows])
            dx = part if dx is None else ufunc(xp.add, dx, part, out=dx)
    if need[3] or need[5]:                                        # [dW_ih, db_ih] = d [X, 1]
        dwb = xp.empty((w_ih.shape[0], xa.shape[2]), dtype=xa.dtype)
        for w_rows, d_rows in pieces_x:
            matmul(d[d_rows], xa.reshape(-1, xa.shape[2]), out=dwb[w_rows])
        dw_ih, db_ih = dwb[:, :-1].copy(), dwb[:, -1].copy()
    if need[4] or need[6]:                                        # [dW_hh, db_hh] = d [H, 1]
        dwb = xp.empty((w_hh.shape[0], w_hh.shape[1] + 1), dtype=w_hh.dtype)
        for w_rows, d_rows, operand in pieces_h:
            matmul(d[d_rows], _columns(xp, operand, ones=True).T, out=dwb[w_rows])
        dw_hh, db_hh = dwb[:, :-1].copy(), dwb[:, -1].copy()
    return dx, dw_ih, db_ih, dw_hh, db_hh


# -- LSTM -----------------------------------------------------------------------------
_ORDER = (3, 0, 1, 2)   # inside, the gates are o, i, f, g (torch's blocks 3, 0, 1, 2): the
                        # sigmoid ones, then those dc multiplies, are contiguous rows


def _lstm_blocks(xp, a, hidden, sigmoid_scale):
    """torch's gate rows (4H, ...) in the inner order, the sigmoid rows times a scale."""
    out = xp.concatenate([a[k * hidden:(k + 1) * hidden] for k in _ORDER])
    out[:3 * hidden] *= sigmoid_scale
    return out


class LSTMSequence(_Sequence):
    """LSTM over a sequence: gates i, f, g, o; c' = f c + i g; h' = o tanh(c')."""

    def _run(self, xp, xa, h0, c0, w_ih, w_hh, b_ih, b_hh):
        steps, batch, dtype, H = xa.shape[0], h0.shape[0], xa.dtype, w_hh.shape[1]
        bias = _bias_sum(b_ih, b_hh)
        pre = _project(xp, xa, _lstm_blocks(xp, w_ih, H, 0.5),
                       None if bias is None else _lstm_blocks(xp, bias, H, 0.5))  # (4H, T, B)
        w_hh = _lstm_blocks(xp, w_hh, H, 0.5)         # (4H, H) o, i, f, g; sigmoid rows / 2
        hs, cs = self._states(xp, steps, h0), self._states(xp, steps, c0)
        gates = xp.empty((steps, 4 * H, batch), dtype=dtype)
        train = self.train
        if train:  # dgates = [dh tanh c', dc g, dc c, dc i] * factors; dc += dh * carry
            factors = xp.empty_like(gates)
            carry = xp.empty((steps, H, batch), dtype=dtype)
        ig, tanh_c = xp.empty((2, H, batch), dtype=dtype)
        for t in self._order(steps):
            p, q = self._slots(t)
            g = gates[t]                                          # (4H, B)
            xp.matmul(w_hh, hs[p], out=g)
            xp.add(g, pre[:, t], out=g)
            xp.tanh(g, out=g)
            if train:  # 1 - tanh^2: tanh', and 4 sigmoid' (the 1/4 goes in _backprop)
                m = factors[t]
                xp.multiply(g, g, out=m)
                xp.subtract(1, m, out=m)
            s = g[:3 * H]
            xp.multiply(s, 0.5, out=s)
            xp.add(s, 0.5, out=s)                                 # o, i, f = sigmoid; g
            o, i, f, gg = g[:H], g[H:2 * H], g[2 * H:3 * H], g[3 * H:]
            c = cs[q]
            xp.multiply(f, cs[p], out=c)
            xp.multiply(i, gg, out=ig)
            xp.add(c, ig, out=c)                                  # c' = f c + i g
            xp.tanh(c, out=tanh_c)
            xp.multiply(o, tanh_c, out=hs[q])                     # h' = o tanh(c')
            if train:
                m4, g4 = m.reshape(4, H, batch), g.reshape(4, H, batch)
                xp.multiply(m4[1::2], g4[3::-2], out=m4[1::2])    # di: * g, dg: * i
                xp.multiply(m4[2], cs[p], out=m4[2])              # df: * c
                xp.multiply(m4[0], tanh_c, out=m4[0])             # do: * tanh(c')
                xp.multiply(hs[q], tanh_c, out=carry[t])
                xp.subtract(o, carry[t], out=carry[t])            # o (1 - tanh^2 c')
            self._keep(xp, t, hs[q], hs[p])
            self._keep(xp, t, cs[q], cs[p])
        outputs = (self._outputs(xp, hs), self._final(hs), self._final(cs))
        return outputs, hs, (gates, factors, carry) if train else ()

    def _backprop(self, xp, gy, running, w_hh, h_prev, arrays):
        dh, dc = running
        gates, factors, carry = arrays
        steps, H, batch = carry.shape
        w_hh = _lstm_blocks(xp, w_hh, H, 0.25)          # the sigmoid' 1/4 folded in
        dgates = xp.empty_like(factors)                   # the sigmoid rows 4 times too big
        tmp = xp.empty_like(dh)
        for t in self._order(steps, backward=True):
            kept = self._enter(xp, t, (dh, dc), gy)
            xp.multiply(dh, carry[t], out=tmp)
            xp.add(dc, tmp, out=dc)                               # dc += dh o (1 - tanh^2 c')
            d4, m4 = dgates[t].reshape(4, H, batch), factors[t].reshape(4, H, batch)
            xp.multiply(dh, m4[0], out=d4[0])                     # do
            xp.multiply(dc, m4[1:], out=d4[1:])                   # di, df, dg
            xp.multiply(dc, gates[t][2 * H:3 * H], out=dc)        # dc <- dc f
            xp.matmul(w_hh.T, dgates[t], out=dh)                  # dh <- W_hh^T dgates
            self._restore(xp, t, (dh, dc), kept)
        blocks = [(slice(k * H, (k + 1) * H), 1 if k == 3 else 0.25) for k in (1, 2, 3, 0)]
        every = slice(None)
        return _columns(xp, dgates, blocks), [(every, every)], [(every, every, h_prev)]


# -- GRU ------------------------------------------------------------------------------
class GRUSequence(_Sequence):
    """GRU over a sequence: gates r, z, n; h' = n + z (h - n), the reset gate applied after
    the recurrent product (torch's) or, with reset_after=False, before it."""

    def _run(self, xp, xa, h0, c0, w_ih, w_hh, b_ih, b_hh):
        steps, batch, dtype, H = xa.shape[0], h0.shape[0], xa.dtype, w_hh.shape[1]
        after = self.reset_after
        if after:  # b_hr, b_hz add to the input side; b_hn stays inside r * (W_hn h + b_hn)
            bias = b_ih if b_hh is None else _bias_sum(b_ih, xp.concatenate(
                [b_hh[:2 * H], xp.zeros(H, dtype=b_hh.dtype)]))
            b_hn = None if b_hh is None else xp.repeat(b_hh[2 * H:, None], batch, 1)
            w_h = _halve(w_hh, 2 * H)                         # (3H, H)
        else:      # every bias adds outside the products
            bias = _bias_sum(b_ih, b_hh)
            w_h, w_n = _halve(w_hh[:2 * H], 2 * H), w_hh[2 * H:]    # (2H, H), (H, H)
        pre = _project(xp, xa, _halve(w_ih, 2 * H),
                       None if bias is None else _halve(bias, 2 * H))   # (3H, T, B)
        hs = self._states(xp, steps, h0)
        gates = xp.empty((steps, 3 * H, batch), dtype=dtype)
        train = self.train
        if train:  # after: [r' hn, z' (h - n), r, n'(1 - z)]; before: [r' h, z' (h - n), ...]
            factors = xp.empty((steps, (4 if after else 3) * H, batch), dtype=dtype)
            slope = xp.empty((2 * H, batch), dtype=dtype)
            if not after:
                rh_all = xp.empty((steps, H, batch), dtype=dtype)
        hw = xp.empty((w_h.shape[0], batch), dtype=dtype)
        tmp, rh = xp.empty((2, H, batch), dtype=dtype)
        for t in self._order(steps):
            p, q = self._slots(t)
            h, g = hs[p], gates[t]
            rz, n = g[:2 * H], g[2 * H:]
            xp.matmul(w_h, h, out=hw)
            xp.add(hw[:2 * H], pre[:2 * H, t], out=rz)
            xp.tanh(rz, out=rz)
            if train:
                xp.multiply(rz, rz, out=slope)
                xp.subtract(1, slope, out=slope)
                xp.multiply(slope, 0.25, out=slope)               # s (1 - s) = (1 - t^2) / 4
            xp.multiply(rz, 0.5, out=rz)
            xp.add(rz, 0.5, out=rz)                               # r, z
            r, z = rz[:H], rz[H:]
            if after:
                hn = hw[2 * H:]
                if b_hn is not None:
                    xp.add(hn, b_hn, out=hn)                      # W_hn h + b_hn
                xp.multiply(r, hn, out=tmp)
            else:
                if train:
                    rh = rh_all[t]
                xp.multiply(r, h, out=rh)
                xp.matmul(w_n, rh, out=tmp)                       # W_hn (r h)
            xp.add(tmp, pre[2 * H:, t], out=n)
            xp.tanh(n, out=n)
            xp.subtract(h, n, out=tmp)                            # h - n
            xp.multiply(tmp, z, out=hs[q])
            xp.add(hs[q], n, out=hs[q])                           # h' = n + z (h - n)
            if train:
                f = factors[t].reshape(-1, H, batch)
                xp.multiply(hn if after else h, slope[:H], out=f[0])    # dr / dn_pre
                xp.multiply(tmp, slope[H:], out=f[1])                   # dz / dh
                if after:
                    f[2] = r
                pn = f[-1]
                xp.multiply(n, n, out=pn)
                xp.subtract(1, pn, out=pn)
                xp.subtract(1, z, out=tmp)
                xp.multiply(pn, tmp, out=pn)                      # dn_pre / dh = (1-z)(1-n^2)
            self._keep(xp, t, hs[q], hs[p])
        outputs = (self._outputs(xp, hs), self._final(hs))
        saved = () if not train else (gates, factors) + (() if after else (rh_all,))
        return outputs, hs, saved

    def _backprop(self, xp, gy, running, w_hh, h_prev, arrays):
        dh, = running
        gates, factors = arrays[:2]
        steps, H, batch = gates.shape[0], w_hh.shape[1], gates.shape[2]
        after = self.reset_after
        # after: [dr, dz, dhn, dn] (dhn = dn r feeds W_hn); before: [dr, dz, dn]
        dgates = xp.empty_like(factors)
        direct, drh = xp.empty((2, H, batch), dtype=dh.dtype)
        w_rz, w_n = w_hh[:2 * H], w_hh[2 * H:]
        for t in self._order(steps, backward=True):
            kept = self._enter(xp, t, (dh,), gy)
            d, f = dgates[t].reshape(-1, H, batch), factors[t].reshape(-1, H, batch)
            xp.multiply(dh, gates[t][H:2 * H], out=direct)       # dh' z
            if after:
                xp.multiply(dh, f[1::2], out=d[1::2])                   # dz, dn
                xp.multiply(d[3], f[0::2], out=d[0::2])                 # dr = dn r' hn, dhn
                xp.matmul(w_hh.T, dgates[t][:3 * H], out=dh)
            else:
                xp.multiply(dh, f[1:], out=d[1:])                       # dz, dn
                xp.matmul(w_n.T, d[2], out=drh)                         # d(r h) = W_hn^T dn
                xp.multiply(drh, f[0], out=d[0])                        # dr = d(r h) h r'
                xp.multiply(drh, gates[t][:H], out=drh)                 # d(r h) r
                xp.add(direct, drh, out=direct)
                xp.matmul(w_rz.T, dgates[t][:2 * H], out=dh)
            xp.add(dh, direct, out=dh)
            self._restore(xp, t, (dh,), kept)
        if after:
            pieces_x = [(slice(0, 2 * H), slice(0, 2 * H)),
                        (slice(2 * H, None), slice(3 * H, None))]
            pieces_h = [(slice(None), slice(0, 3 * H), h_prev)]
        else:
            pieces_x = [(slice(None), slice(None))]
            pieces_h = [(slice(0, 2 * H), slice(0, 2 * H), h_prev),
                        (slice(2 * H, None), slice(2 * H, None), arrays[2])]
        return _columns(xp, dgates), pieces_x, pieces_h


# -- Elman RNN ------------------------------------------------------------------------
class RNNSequence(_Sequence):
    """Elman RNN over a sequence: h' = tanh (or relu) of (W_ih x + b + W_hh h)."""

    def _run(self, xp, xa, h0, c0, w_ih, w_hh, b_ih, b_hh):
        steps = xa.shape[0]
        pre = _project(xp, xa, w_ih, _bias_sum(b_ih, b_hh))           # (H, T, B)
        hs = self._states(xp, steps, h0)
        relu = self.mode == "RNN_RELU"
        slopes = xp.empty((steps,) + hs.shape[1:], dtype=hs.dtype) if self.train else None
        for t in self._order(steps):
            p, q = self._slots(t)
            h = hs[q]
            xp.matmul(w_hh, hs[p], out=h)
            xp.add(h, pre[:, t], out=h)
            if relu:
                xp.maximum(h, 0, out=h)
            else:
                xp.tanh(h, out=h)
            if self.train:  # relu' = [h > 0], tanh' = 1 - h^2
                s = slopes[t]
                if relu:
                    xp.greater(h, 0, out=s)
                else:
                    xp.multiply(h, h, out=s)
                    xp.subtract(1, s, out=s)
            self._keep(xp, t, hs[q], hs[p])
        return (self._outputs(xp, hs), self._final(hs)), hs, (slopes,) if self.train else ()

    def _backprop(self, xp, gy, running, w_hh, h_prev, arrays):
        dh, = running
        slopes, = arrays
        dpre = xp.empty_like(slopes)
        for t in self._order(slopes.shape[0], backward=True):
            kept = self._enter(xp, t, (dh,), gy)
            xp.multiply(dh, slopes[t], out=dpre[t])
            xp.matmul(w_hh.T, dpre[t], out=dh)
            self._restore(xp, t, (dh,), kept)
        every = slice(None)
        return _columns(xp, dpre), [(every, every)], [(every, every, h_prev)]


SEQUENCES = {"LSTM": LSTMSequence, "GRU": GRUSequence, "RNN_TANH": RNNSequence,
             "RNN_RELU": RNNSequence}
