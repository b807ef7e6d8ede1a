"""Attention as functions: ``scaled_dot_product_attention`` and
``multi_head_attention_forward`` (``nn.functional``'s), PyTorch's signatures, masks and results;
the modules built on them are in ``nn/transformer.py``. Composed from Tensor ops: the products
are batched matmuls (the C GEMM) and the projections ``F.linear`` (the fused linear kernel),
so there is no backward to write; dropout is ``F.dropout``. ``nn.functional`` cannot import
this module (that would be an import circle), so this module adds its two functions to
``nn.functional`` at the end, under torch's names.

Masks, as PyTorch's: for ``scaled_dot_product_attention`` a bool ``attn_mask`` is True where
a query may attend; for ``multi_head_attention_forward`` (and the modules) a bool mask is True
where it may *not* (``key_padding_mask`` True marks padding). Float masks are added to the
scores. A query row with every key masked gives zeros (and zero gradients) from
``scaled_dot_product_attention``, and NaN from the explicit softmax of
``multi_head_attention_forward(need_weights=True)``, as in PyTorch.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..core.autograd import is_grad_enabled
from ..core.creation import cat, zeros
from ..core.tensor import Tensor, where, wrap_array
from . import functional as F

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


# ---- scaled dot-product attention ---------------------------------------------------------------
def _check_qkv(query: Any, key: Any, value: Any) -> None:
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be "
                            f"Tensor, not {type(t).__name__}")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype.name} key.dtype: {key.dtype.name} and "
                           f"value.dtype: {value.dtype.name} instead.")
    if not query.is_floating_point():
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value must be "
                           f"floating point, got {query.dtype.name}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"Expected query, key, and value to all be at least 2 dimensional, "
                           f"but got query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: "
                           f"{value.ndim} instead.")
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query {query.shape} and key "
                           f"{key.shape} must have the same last (embedding) dim")
    if value.shape[-2] != key.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key {key.shape} and value "
                           f"{value.shape} must have the same source length (dim -2)")


def _additive_mask(attn_mask: Any, dtype: Any, shape: tuple) -> tuple:
    """(the mask as a Tensor to add to the scores, or None; a NumPy bool array, True for each
    query row whose every key is masked, or None when there is none). ``shape`` is the
    scores' (..., L, S); a bool mask is True where attending is allowed."""
    if attn_mask is None:
        return None, None
    if not isinstance(attn_mask, Tensor):
        raise TypeError(f"scaled_dot_product_attention(): attn_mask must be a Tensor, not "
                        f"{type(attn_mask).__name__}")
    try:
        np.broadcast_shapes(attn_mask.shape, shape)
    except ValueError:
        raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape "
                           f"{attn_mask.shape} does not broadcast to the attention scores' "
                           f"shape {shape}") from None
    m = attn_mask._array
    if m.dtype == np.bool_:
        dead = ~m.any(-1, keepdims=True)
        add = wrap_array(np.where(m, 0.0, -np.inf).astype(dtype.np))
    elif m.dtype.kind == "f":
        dead = np.isneginf(m).all(-1, keepdims=True)
        add = attn_mask if attn_mask.dtype == dtype else attn_mask.to(dtype)
    else:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {attn_mask.dtype.name} and "
                           f"query.dtype: {dtype.name} instead.")
    return add, (dead if dead.any() else None)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q k^T * scale + mask) v over the last two dims; q (..., L, E), k (..., S, E),
    v (..., S, Ev) -> (..., L, Ev), the leading dims broadcast.

    ``scale`` defaults to 1/sqrt(E). ``attn_mask``: bool (True: may attend) or float (added).
    ``is_causal``: query i attends keys 0..i (the top-left triangle, also when L != S).
    ``dropout_p``: dropout on the attention weights (always applied, as PyTorch's function).
    ``enable_gqa``: key/value with fewer heads (dim -3) than query are repeated to match.
    A query with every key masked gets zeros."""
    _check_qkv(query, key, value)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got "
                           f"{dropout_p}")
    q, k, v = query, key, value
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        heads, kv_heads = q.shape[-3], k.shape[-3]
        if kv_heads == 0 or heads % kv_heads or v.shape[-3] != kv_heads:
            raise RuntimeError(f"Number of heads in key and value must divide the number of "
                               f"heads in query: query {q.shape}, key {k.shape}, value "
                               f"{v.shape}")
        k = k.repeat_interleave(heads // kv_heads, -3)
        v = v.repeat_interleave(heads // kv_heads, -3)
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise RuntimeError(f"scaled_dot_product_attention: the batch dims of query {q.shape}, "
                           f"key {k.shape} and value {v.shape} do not broadcast") from None
    length, source = q.shape[-2], k.shape[-2]
    if scale is not None:
        factor = float(scale)
    else:  # with E = 0 every score is 0 whatever the scale (PyTorch: uniform weights)
        factor = 1.0 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    if is_causal:
        attn_mask = wrap_array(np.tril(np.ones((length, source), bool)))
    add, dead = _additive_mask(attn_mask, q.dtype, batch + (length, source))
    scores = q.matmul(k.transpose(-2, -1)) * factor
    if add is not None:
        scores = scores + add
    if dead is not None:  # rows with no key: 0 before the softmax (no NaN), 0 after
        scores = where(wrap_array(dead), 0.0, scores)
    weights = scores.softmax(-1)
    if dead is not None:
        weights = where(wrap_array(dead), 0.0, weights)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p)
    return weights.matmul(v)


# ---- multi-head attention -----------------------------------------------------------------------
def _canonical_mask(mask: Tensor | None, name: str, other: Tensor | None, other_name: str,
                    dtype: Any) -> Tensor | None:
    """A bool mask (True: masked) as a float mask (-inf there, 0 elsewhere) of ``dtype``; a
    float mask unchanged; anything else an AssertionError. Warns, as PyTorch, when ``other``
    (the other mask given) has a different dtype."""
    if mask is None:
        return None
    if mask.dtype != "bool" and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same "
                      "type for both instead.", UserWarning, stacklevel=4)
    if mask.is_floating_point():
        return mask
    return wrap_array(np.where(mask._array, -np.inf, 0.0).astype(dtype.np))


def _shape_check(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None,
                 attn_mask: Tensor | None, num_heads: int) -> bool:
    """PyTorch's _mha_shape_check: whether the input is batched (3-D query) or not (2-D)."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be "
                                 f"3-D but found {key.ndim}-D and {value.ndim}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.ndim}-D tensor "
                                 "instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be `None`,"
                                 f" 2-D or 3-D but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to "
                                 f"be 2-D but found {key.ndim}-D and {value.ndim}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to "
                                 f"be `None` or 1-D but found {key_padding_mask.ndim}-D tensor "
                                 "instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.ndim}-D tensor "
                                     "instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and attn_mask.shape != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")


def _pad_column(mask: Tensor | None) -> Tensor | None:
    """One more key, allowed: a zero column appended to a float mask."""
    if mask is None:
        return None
    return cat([mask, zeros(mask.shape[:-1] + (1,), dtype=mask.dtype)], -1)


def _needs_grad(*tensors: Tensor | None) -> bool:
    return is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _nan_dead_rows(out: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                   num_heads: int) -> Tensor:
    """``out`` (N, L, E), batch first, with NaN in each row whose query has every key masked
    in some head: what PyTorch's fast-path kernels return there. The masks are float
    (``_canonical_mask``): attn_mask (L, S) or (N * heads, L, S), key_padding_mask (N, S)."""
    n, length = out.shape[0], out.shape[1]
    blocked = np.zeros((n, 1, length, 1), bool)  # broadcast to (N, heads, L, S)
    if attn_mask is not None:
        m = np.isneginf(attn_mask._array)
        blocked = blocked | (m.reshape(n, num_heads, length, -1) if m.ndim == 3 else m)
    if key_padding_mask is not None:
        blocked = blocked | np.isneginf(key_padding_mask._array)[:, None, None, :]
    dead = blocked.all(-1).any(1)  # (N, L)
    if not dead.any():
        return out
    return where(wrap_array(dead[..., None]), float("nan"), out)


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple:
    """PyTorch's F.multi_head_attention_forward, sequence-first: query (L, N, E), key and value
    (S, N, kdim / vdim), or unbatched (L, E), ... Returns (output (L, N, E), weights (N, L, S)
    averaged over heads, (N, heads, L, S), or None without ``need_weights``)."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k / static_v are not "
                                  "supported; project the keys and values yourself")
    batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    length, bsz, embed_dim = query.shape
    source = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint stands for the mask: attention's own causal mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    q, k, v = _in_projection(query, key, value, embed_dim, in_proj_weight, in_proj_bias,
                             use_separate_proj_weight, q_proj_weight, k_proj_weight,
                             v_proj_weight)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if attn_mask.shape != (length, source):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(length, source)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.shape != (bsz * num_heads, length, source):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should "
                               f"be {(bsz * num_heads, length, source)}.")
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask, key_padding_mask = _pad_column(attn_mask), _pad_column(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be set or both be None")
    q = q.reshape(length, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        zero = zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype)
        k, v = cat([k, zero], 1), cat([v, zero], 1)
        attn_mask, key_padding_mask = _pad_column(attn_mask), _pad_column(key_padding_mask)
    source = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape != (bsz, source):
            raise AssertionError(f"Expected key_padded_mask.shape to be {(bsz, source)}, but "
                                 f"got {key_padding_mask.shape}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, source).expand(bsz, num_heads, 1, source)
        kpm = kpm.reshape(bsz * num_heads, 1, source)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = (q * math.sqrt(1.0 / head_dim)).matmul(k.transpose(1, 2))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = scores.softmax(-1)  # a row with no key is NaN here, as in PyTorch
        if dropout_p > 0.0:
            weights = F.dropout(weights, dropout_p)
        out = weights.matmul(v).transpose(0, 1).reshape(length * bsz, embed_dim)
        out = F.linear(out, out_proj_weight, out_proj_bias).reshape(length, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, length, source)
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                     else attn_mask.reshape(bsz, num_heads, -1, source))
    out = scaled_dot_product_attention(q.reshape(bsz, num_heads, length, head_dim),
                                       k.reshape(bsz, num_heads, source, head_dim),
                                       v.reshape(bsz, num_heads, source, head_dim),
                                       attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * length, embed_dim)
    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(length, bsz, embed_dim)
    return (out if batched else out.squeeze(1)), None


def _in_projection(query: Tensor, key: Tensor, value: Tensor, embed_dim: int,
                   in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, separate: bool,
                   q_proj_weight: Tensor | None, k_proj_weight: Tensor | None,
                   v_proj_weight: Tensor | None) -> tuple:
    """q, k, v = query W_q^T + b_q, key W_k^T + b_k, value W_v^T + b_v; with packed weights and
    self-attention (query is key is value) as one product, as PyTorch."""
    e = embed_dim
    b = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    if separate:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     "is None")
        return (F.linear(query, q_proj_weight, b[0]), F.linear(key, k_proj_weight, b[1]),
                F.linear(value, v_proj_weight, b[2]))
    if in_proj_weight is None:
        raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
    if query is key and key is value:
        return F.linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
    w = in_proj_weight
    if key is value:
        kv = F.linear(key, w[e:], None if in_proj_bias is None else in_proj_bias[e:])
        return (F.linear(query, w[:e], b[0]), *kv.chunk(2, -1))
    return (F.linear(query, w[:e], b[0]), F.linear(key, w[e:2 * e], b[1]),
            F.linear(value, w[2 * e:], b[2]))


# torch.nn.functional's names (``F.scaled_dot_product_attention``, ...): set here because F
# cannot import this module; micrograd.nn imports it, so F has them once micrograd.nn is loaded
F.scaled_dot_product_attention = scaled_dot_product_attention
F.multi_head_attention_forward = multi_head_attention_forward
