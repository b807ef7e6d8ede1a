"""One dropout mask: ``core.random.keep_mask`` draws the mask of F.dropout, F.dropout2d and
attention's dropout (scaled_dot_product_attention, multi_head_attention_forward). For a given
seed each gives the numbers the formula each of them used before gave (``old_mask`` below),
values and gradients, on every backend; p = 0 and p = 1 as torch; gradcheck in float64."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F
from micrograd import nn
from micrograd.core.random import keep_mask

SEED = 123


def old_mask(rng: np.random.Generator, shape: tuple, p: float, dtype) -> np.ndarray:
    """The formula F.dropout, F.dropout2d and attention's ``_dropout`` each wrote out."""
    return ((rng.random(shape) >= p) / (1.0 - p)).astype(dtype)


def fresh():
    """The generator micrograd's stream is after ``mg.manual_seed(SEED)``."""
    mg.manual_seed(SEED)
    return np.random.default_rng(SEED)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keep_mask_is_the_old_formula(p, dtype):
    rng = fresh()
    mask = keep_mask((3, 4, 5), p, dtype)
    assert mask.dtype == dtype and mask.shape == (3, 4, 5)
    np.testing.assert_array_equal(mask, old_mask(rng, (3, 4, 5), p, dtype))
    assert set(np.unique(mask)) <= {dtype(0), dtype(1 / (1 - p))}


def test_keep_mask_keeps_about_one_minus_p():
    mg.manual_seed(0)
    kept = (keep_mask((200_000,), 0.3, np.float64) > 0).mean()
    assert abs(kept - 0.7) < 0.005


def test_p_one_zeros_everything_and_draws_nothing():
    rng = fresh()
    np.testing.assert_array_equal(keep_mask((2, 3), 1.0, np.float32), np.zeros((2, 3)))
    # the stream did not move: the next draw is the seed's first
    np.testing.assert_array_equal(mg.rand(4, dtype=mg.float64).numpy(), rng.random(4))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_f_dropout_values_and_gradient(backend, dtype):
    x_np = np.random.default_rng(1).standard_normal((6, 7)).astype(dtype)
    g_np = np.random.default_rng(2).standard_normal((6, 7)).astype(dtype)
    rng = fresh()
    x = mg.tensor(x_np, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.backward(mg.tensor(g_np))
    mask = old_mask(rng, (6, 7), 0.4, dtype)
    np.testing.assert_array_equal(y.detach().numpy(), x_np * mask)
    np.testing.assert_array_equal(x.grad.numpy(), g_np * mask)
    # the module and the in-place form draw the same mask
    fresh()
    np.testing.assert_array_equal(nn.Dropout(0.4)(mg.tensor(x_np)).numpy(), x_np * mask)
    fresh()
    with mg.no_grad():
        z = mg.tensor(x_np)
        assert F.dropout(z, 0.4, inplace=True) is z
    np.testing.assert_array_equal(z.numpy(), x_np * mask)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 5)])
def test_f_dropout2d_one_mask_per_channel(backend, shape):
    x_np = np.random.default_rng(3).standard_normal(shape)
    g_np = np.random.default_rng(4).standard_normal(shape)
    rng = fresh()
    x = mg.tensor(x_np, requires_grad=True)
    y = F.dropout2d(x, 0.5)
    y.backward(mg.tensor(g_np))
    mask = old_mask(rng, shape[:-2] + (1, 1), 0.5, np.float64)
    np.testing.assert_array_equal(y.detach().numpy(), x_np * mask)
    np.testing.assert_array_equal(x.grad.numpy(), g_np * mask)
    fresh()
    np.testing.assert_array_equal(nn.Dropout2d(0.5)(mg.tensor(x_np)).numpy(), x_np * mask)


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_attention_dropout_is_the_old_mask_on_the_weights(backend):
    r = np.random.default_rng(5)
    q_np, k_np, v_np = (r.standard_normal(s) for s in ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)))
    g_np = r.standard_normal((2, 3, 4, 7))
    rng = fresh()
    v = mg.tensor(v_np, requires_grad=True)
    out = F.scaled_dot_product_attention(mg.tensor(q_np), mg.tensor(k_np), v, dropout_p=0.3)
    out.backward(mg.tensor(g_np))
    weights = _softmax(q_np @ k_np.swapaxes(-1, -2) / np.sqrt(5)) \
        * old_mask(rng, (2, 3, 4, 6), 0.3, np.float64)
    np.testing.assert_allclose(out.detach().numpy(), weights @ v_np, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v.grad.numpy(), weights.swapaxes(-1, -2) @ g_np, rtol=1e-12,
                               atol=1e-12)


def test_multi_head_attention_weights_dropout_is_the_old_mask(backend):
    mg.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, dropout=0.25, dtype=mg.float64)
    x = mg.tensor(np.random.default_rng(6).standard_normal((5, 3, 8)))
    m.eval()
    _, plain = m(x, x, x, average_attn_weights=False)       # (N, heads, L, S), no dropout
    m.train()
    rng = fresh()
    _, dropped = m(x, x, x, average_attn_weights=False)
    mask = old_mask(rng, (3 * 2, 5, 5), 0.25, np.float64).reshape(3, 2, 5, 5)
    np.testing.assert_allclose(dropped.detach().numpy(), plain.detach().numpy() * mask,
                               rtol=1e-12, atol=1e-15)


def test_the_dropouts_share_one_stream():
    """dropout, dropout2d and attention's dropout, one after another, draw consecutive masks
    from the one generator."""
    x = mg.ones(4, 5, dtype=mg.float64)
    img = mg.ones(2, 3, 2, 2, dtype=mg.float64)
    q = mg.ones(1, 2, 3, dtype=mg.float64)
    rng = fresh()
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout2d(img, 0.5).numpy()
    c = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5).numpy()  # uniform weights 1/2
    np.testing.assert_array_equal(a, old_mask(rng, (4, 5), 0.5, np.float64))
    np.testing.assert_array_equal(b, np.broadcast_to(old_mask(rng, (2, 3, 1, 1), 0.5,
                                                              np.float64), (2, 3, 2, 2)))
    w = 0.5 * old_mask(rng, (1, 2, 2), 0.5, np.float64)
    np.testing.assert_array_equal(c, w @ np.ones((1, 2, 3)))


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d])
def test_p_zero_and_one_and_eval_as_torch(fn):
    torch = pytest.importorskip("torch")
    x_np = np.random.default_rng(7).standard_normal((2, 3, 4, 5))
    for p, training in ((0.0, True), (1.0, True), (0.7, False)):
        mine = fn(mg.tensor(x_np), p, training).numpy()
        theirs = getattr(torch.nn.functional, fn.__name__)(torch.tensor(x_np), p, training)
        np.testing.assert_array_equal(mine, theirs.numpy())


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d])
def test_gradcheck_with_a_fixed_mask(backend, fn):
    x = mg.tensor(np.random.default_rng(8).standard_normal((2, 3, 2, 2)), requires_grad=True)

    def seeded(t):  # every evaluation draws the same mask
        mg.manual_seed(SEED)
        return fn(t, 0.3)
    assert mg.gradcheck(seeded, (x,))
