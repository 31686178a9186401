"""Positional encodings: the sinusoidal table's formula, bounds, uniqueness and rotation
property; the modules on every layout, with offsets, dtypes and gradients; RoPE's relative
property, its complex-number form, both pair conventions, KV-cache offsets and gradcheck;
the errors."""
import numpy as np
import pytest

import nnlab
from nnlab import nn
from nnlab.nn.positional import sinusoidal_table
from tests.helpers import check_grad

rng = np.random.default_rng(0)


# -- sinusoidal --------------------------------------------------------------------------
@pytest.mark.parametrize("d_model", [16, 7])
def test_sinusoidal_table_is_the_formula(d_model):
    pe = sinusoidal_table(50, d_model)
    for pos in (0, 1, 17, 49):
        for j in range(d_model):
            w = 1 / 10000 ** (2 * (j // 2) / d_model)
            expected = np.sin(pos * w) if j % 2 == 0 else np.cos(pos * w)
            assert pe[pos, j] == pytest.approx(expected, abs=1e-12)


def test_sinusoidal_rows_are_bounded_and_unique():
    pe = sinusoidal_table(1000, 64)
    assert np.abs(pe).max() <= 1
    squared = 2 * (64 / 2) - 2 * pe @ pe.T  # |a - b|^2, each row of squared norm d_model / 2
    np.fill_diagonal(squared, np.inf)
    assert squared.min() > 1e-3


@pytest.mark.parametrize("d_model", [8, 64])
def test_sinusoidal_rotation_property(d_model):
    """r_{n+k} = M_k r_n: M_k block-diagonal, the block i [[cos k w_i, sin k w_i],
    [-sin k w_i, cos k w_i]] (sin(a + b) = sin a cos b + cos a sin b, cos(a + b) = ...),
    the same M_k for every n."""
    pe = sinusoidal_table(500, d_model)
    w = 1 / 10000 ** (np.arange(0, d_model, 2) / d_model)
    for n, k in rng.integers(0, 250, size=(6, 2)):
        m_k = np.zeros((d_model, d_model))
        for i, wi in enumerate(w):
            c, s = np.cos(k * wi), np.sin(k * wi)
            m_k[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, s], [-s, c]]
        np.testing.assert_allclose(pe[n + k], m_k @ pe[n], atol=1e-10)


@pytest.mark.parametrize("batch_first, shape, offset", [
    (False, (7, 3, 16), 0), (True, (3, 7, 16), 5), (False, (7, 16), 2), (True, (7, 16), 0)])
def test_sinusoidal_module_adds_the_table(batch_first, shape, offset):
    m = nn.SinusoidalPositionalEncoding(16, max_len=20, batch_first=batch_first)
    x = rng.standard_normal(shape).astype(np.float32)
    table = sinusoidal_table(20, 16)[offset:offset + 7]  # (T, D)
    expected = x + (table if len(shape) == 2 else
                    table[None] if batch_first else table[:, None])
    out = m(nnlab.tensor(x), offset=offset)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_sinusoidal_buffer_is_not_a_parameter_nor_saved():
    m = nn.SinusoidalPositionalEncoding(8, max_len=10)
    assert not list(m.parameters()) and "pe" in dict(m.named_buffers())
    assert not m.state_dict()
    m.double()
    assert m.pe.dtype == np.float64
    x = nnlab.randn(4, 2, 8, dtype=nnlab.float64, requires_grad=True)
    m(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((4, 2, 8)))


def test_sinusoidal_dropout_in_training_only():
    nnlab.manual_seed(0)
    m = nn.SinusoidalPositionalEncoding(8, dropout=0.5)
    x = nnlab.ones(6, 2, 8)
    assert (m(x).numpy() == 0).any()
    np.testing.assert_allclose(m.eval()(x).numpy(),
                               1 + sinusoidal_table(6, 8)[:, None].repeat(2, 1), rtol=1e-6)


# -- learned -----------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first, shape", [(False, (5, 2, 8)), (True, (2, 5, 8)),
                                                (False, (5, 8))])
def test_learned_embedding_adds_rows_and_trains_only_those(batch_first, shape):
    nnlab.manual_seed(0)
    m = nn.LearnedPositionalEmbedding(12, 8, batch_first=batch_first)
    assert list(m.state_dict()) == ["embedding.weight"]
    x = nnlab.randn(*shape)
    out = m(x, offset=3)
    table = m.embedding.weight.detach().numpy()[3:8]  # (T, D)
    expected = x.numpy() + (table if len(shape) == 2 else
                            table[None] if batch_first else table[:, None])
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)
    out.sum().backward()
    grad = m.embedding.weight.grad.numpy()
    batch = 1 if len(shape) == 2 else 2
    np.testing.assert_array_equal(grad[3:8], np.full((5, 8), batch))
    assert not grad[:3].any() and not grad[8:].any()


# -- rotary ------------------------------------------------------------------------------
def _rotate_complex(x, positions, base=10000):
    """Reference: the pair (x_{2i}, x_{2i+1}) as x_{2i} + i x_{2i+1}, times e^{i m theta_i}."""
    d = x.shape[-1]
    theta = base ** (-np.arange(0, d, 2) / d)
    z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * positions[:, None] * theta)
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = z.real, z.imag
    return out


def _half_split(x):
    """Interleaved pairs (0, 1), (2, 3), ... moved to (0, d/2), (1, d/2 + 1), ..."""
    return np.concatenate([x[..., 0::2], x[..., 1::2]], axis=-1)


def test_rotary_is_the_complex_rotation():
    x = rng.standard_normal((2, 3, 6, 8))
    positions = np.arange(4, 10)
    out = nn.RotaryEmbedding(8)(nnlab.tensor(x), offset=4).numpy()
    np.testing.assert_allclose(out, _rotate_complex(x, positions), rtol=1e-12, atol=1e-12)
    half = nn.RotaryEmbedding(8, interleaved=False)(nnlab.tensor(_half_split(x)), offset=4)
    np.testing.assert_allclose(half.numpy(), _half_split(out), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("interleaved", [True, False])
def test_rotary_scores_depend_on_relative_position_only(interleaved):
    """q'_m . k'_n = Re sum_i q_i conj(k_i) e^{i (m - n) theta_i}: shifting both positions by
    s leaves it unchanged; the rotation keeps norms; position 0 is the identity."""
    rope = nn.RotaryEmbedding(16, interleaved=interleaved)
    q, k = rng.standard_normal((2, 1, 16))  # one query and one key, (T=1, head_dim)

    def score(m, n):
        qm, kn = rope.apply_rotary(nnlab.tensor(q), nnlab.tensor(k), positions=[m])[0], \
            rope(nnlab.tensor(k), positions=[n])
        return float((qm * kn).sum())

    for m, n, s in rng.integers(0, 500, size=(8, 3)):
        assert score(m, n) == pytest.approx(score(m + s, n + s), rel=1e-9, abs=1e-9)
    assert score(7, 3) != pytest.approx(score(7, 4), rel=1e-3)
    x = nnlab.tensor(rng.standard_normal((5, 16)))
    np.testing.assert_allclose(np.linalg.norm(rope(x, offset=100).numpy(), axis=-1),
                               np.linalg.norm(x.numpy(), axis=-1), rtol=1e-12)
    np.testing.assert_allclose(rope(x, positions=np.zeros(5)).numpy(), x.numpy())


def test_rotary_offsets_match_a_kv_cache():
    """Rotating a sequence at once equals rotating its blocks at their offsets; per-batch
    positions broadcast."""
    rope = nn.RotaryEmbedding(8)
    q, k = (nnlab.tensor(rng.standard_normal((2, 2, 7, 8))) for _ in range(2))
    full_q, full_k = rope.apply_rotary(q, k)
    part_q, part_k = rope.apply_rotary(q[:, :, 4:], k[:, :, 4:], offset=4)
    np.testing.assert_allclose(part_q.numpy(), full_q.numpy()[:, :, 4:], rtol=1e-12)
    np.testing.assert_allclose(part_k.numpy(), full_k.numpy()[:, :, 4:], rtol=1e-12)
    positions = np.array([[[0, 1, 2, 3, 4, 5, 6]], [[3, 4, 5, 6, 7, 8, 9]]])  # (B, 1, T)
    out = rope(q, positions=positions).numpy()
    np.testing.assert_array_equal(rope(q, positions=nnlab.tensor(positions)).numpy(), out)
    np.testing.assert_allclose(out[0], full_q.numpy()[0], rtol=1e-12)
    np.testing.assert_allclose(out[1], rope(q[1:], offset=3).numpy()[0], rtol=1e-12)


@pytest.mark.parametrize("interleaved", [True, False])
def test_rotary_gradcheck_and_dtype(interleaved):
    rope = nn.RotaryEmbedding(4, interleaved=interleaved)
    check_grad(lambda x: rope(x, offset=3), rng.standard_normal((2, 3, 4)))
    assert rope(nnlab.randn(3, 4)).dtype == np.float32
    assert not rope.state_dict() and not list(rope.parameters())


# -- errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("make, shape, kwargs, message", [
    (lambda: nn.SinusoidalPositionalEncoding(8, max_len=10), (6, 2, 8), dict(offset=5),
     r"SinusoidalPositionalEncoding\(d_model=8, max_len=10\): positions 5 to 10 are outside "
     r"\[0, max_len=10\)"),
    (lambda: nn.SinusoidalPositionalEncoding(8), (6, 2, 4), {},
     r"SinusoidalPositionalEncoding\(d_model=8, max_len=5000\): expected an input \(T, 8\), "
     r"\(T, B, 8\), got shape \(6, 2, 4\)"),
    (lambda: nn.LearnedPositionalEmbedding(4, 8, batch_first=True), (2, 5, 8), {},
     r"LearnedPositionalEmbedding\(max_len=4, d_model=8\): positions 0 to 4 are outside"),
    (lambda: nn.RotaryEmbedding(8), (2, 5, 6), {},
     r"RotaryEmbedding\(head_dim=8\): expected an input \(\.\.\., T, 8\), got shape "
     r"\(2, 5, 6\)"),
    (lambda: nn.RotaryEmbedding(8), (2, 5, 8), dict(positions=np.arange(4)),
     r"RotaryEmbedding\(head_dim=8\): positions of shape \(4,\) do not match the input's "
     r"sequence length 5"),
])
def test_errors_name_the_module_and_the_shapes(make, shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make()(nnlab.zeros(*shape), **kwargs)


def test_rotary_needs_an_even_head_dim():
    with pytest.raises(ValueError, match="RotaryEmbedding: head_dim must be a positive even "
                                         "number, got 7"):
        nn.RotaryEmbedding(7)
