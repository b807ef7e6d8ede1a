"""``MultiheadAttention``, ``TransformerEncoderLayer`` and ``TransformerEncoder`` with
PyTorch's arguments, submodule and parameter names (so a PyTorch ``state_dict`` loads),
initialisation and results, built on ``nn/attention.py``'s functions.

Masks, as PyTorch's: a bool mask is True where attending is *not* allowed (``key_padding_mask``
True marks padding); a float mask is added to the scores. In eval mode without gradients
PyTorch runs these modules through fused kernels (its "fast path") whose rows with every key
masked are NaN (training mode gives zeros, or NaN with ``need_weights=True``), and the encoder
may run padded batches as nested tensors whose padded positions come out 0: under the same
conditions the modules here return the same (``_fast_path`` methods, ``_nested``).
"""
from __future__ import annotations

import copy
import warnings
from typing import Any, Callable

import numpy as np

from ..core.creation import _float_dtype
from ..core.device import as_device
from ..core.tensor import Tensor, where, wrap_array
from . import functional as F
from . import init
from .activation import GELU, ReLU
from .attention import _canonical_mask, _nan_dead_rows, _needs_grad, multi_head_attention_forward
from .layers import Dropout, LayerNorm, Linear, ModuleList
from .module import Module, Parameter, has_forward_hooks

__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder"]


def _new(shape: tuple, np_dtype: np.dtype) -> Parameter:
    return Parameter(np.empty(shape, np_dtype))


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of ``embed_dim // num_heads`` features each:
    out = concat_h(attention(q W_q^h, k W_k^h, v W_v^h)) W_o^T + b_o.

    Parameters as PyTorch's: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,) (or
    ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` when ``kdim``/``vdim`` differ from
    E), ``out_proj.weight``/``out_proj.bias``, ``bias_k``/``bias_v`` with ``add_bias_kv``;
    initialised as PyTorch's (xavier-uniform projections, zero biases)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        as_device(device)
        np_dtype = _float_dtype(dtype)
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _new((3 * embed_dim, embed_dim), np_dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = _new((embed_dim, embed_dim), np_dtype)
            self.k_proj_weight = _new((embed_dim, self.kdim), np_dtype)
            self.v_proj_weight = _new((embed_dim, self.vdim), np_dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = _new((3 * embed_dim,), np_dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=np_dtype)
        if add_bias_kv:
            self.bias_k = _new((1, 1, embed_dim), np_dtype)
            self.bias_v = _new((1, 1, embed_dim), np_dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple:
        """(output, attention weights or None); (N, L, E) inputs with ``batch_first``."""
        batched = query.ndim == 3
        fast = self._fast_path(query, key, value, attn_mask, key_padding_mask)
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                           "attn_mask", query.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        if self.batch_first and batched:
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        if fast:
            out = _nan_dead_rows(out, attn_mask, key_padding_mask, self.num_heads)
        return out, weights

    def _fast_path(self, query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None,
                   key_padding_mask: Tensor | None) -> bool:
        """Whether PyTorch would run this call through its fused kernel (its conditions in
        MultiheadAttention.forward): batch-first self-attention in eval mode with bool or no
        masks, packed weights with biases, an even number of heads, no gradient to record."""
        floats = any(m is not None and m.is_floating_point()
                     for m in (attn_mask, key_padding_mask))
        return (not floats and query.ndim == 3 and query is key and key is value
                and self.batch_first and not self.training and self.num_heads % 2 == 0
                and self.in_proj_weight is not None and self.in_proj_bias is not None
                and query.dtype == self.in_proj_weight.dtype and self.bias_k is None
                and not self.add_zero_attn
                and not _needs_grad(query, self.in_proj_weight, self.in_proj_bias,
                                    self.out_proj.weight, self.out_proj.bias))


# ---- the Transformer encoder --------------------------------------------------------------------
def _activation(activation: str | Callable) -> Callable:
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block (linear2(dropout(act(linear1(x))))), each
    with a residual connection and LayerNorm: after each block (post-norm, the default) or
    before it (``norm_first``). PyTorch's submodule names: ``self_attn``, ``linear1``,
    ``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2``."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        as_device(device)
        np_dtype = _float_dtype(dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=np_dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=np_dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=np_dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm1.to(np_dtype)
        self.norm2.to(np_dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        activation = _activation(activation)
        self.activation_relu_or_gelu = (1 if activation is F.relu or isinstance(activation, ReLU)
                                        else 2 if activation is F.gelu
                                        or isinstance(activation, GELU) else 0)
        self.activation = activation

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               src_mask, "src_mask", src.dtype)
        src_mask = _canonical_mask(src_mask, "src_mask", None, "", src.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        if self._fast_path(src):
            x = _nan_dead_rows(x, src_mask, src_key_padding_mask, self.self_attn.num_heads)
        return x

    def _fast_path(self, src: Tensor) -> bool:
        """Whether PyTorch would run this layer as one fused kernel (its conditions in
        TransformerEncoderLayer.forward): eval mode, batched batch-first input, packed
        projections with biases, relu or gelu, equal norm eps, an even number of heads, no
        hooks and no gradient to record."""
        attn = self.self_attn
        return (src.ndim == 3 and not self.training and attn.batch_first
                and attn.in_proj_bias is not None and attn._qkv_same_embed_dim
                and bool(self.activation_relu_or_gelu) and self.norm1.eps == self.norm2.eps
                and attn.num_heads % 2 == 0
                and not any(has_forward_hooks(m) for m in self.modules())
                and not _needs_grad(src, attn.in_proj_weight, attn.in_proj_bias,
                                    attn.out_proj.weight, attn.out_proj.bias,
                                    self.norm1.weight, self.norm1.bias, self.norm2.weight,
                                    self.norm2.bias, self.linear1.weight, self.linear1.bias,
                                    self.linear2.weight, self.linear2.bias))

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


def _causal_mask(size: int, dtype: Any) -> np.ndarray:
    """PyTorch's generate_square_subsequent_mask: -inf above the diagonal, 0 elsewhere."""
    return np.triu(np.full((size, size), -np.inf), 1).astype(dtype.np)


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` (``layers.0``, ``layers.1``, ...), then
    ``norm`` if given. ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``.

    In eval mode without gradients PyTorch may run padded batches as nested tensors (the
    defaults allow it, with a batch-first post-norm layer and ``src_key_padding_mask``); its
    output is then 0 at the padded positions before ``norm``. That result is reproduced here
    under the same conditions."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor = self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_not_nested(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why_not}", UserWarning, stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               mask, "mask", src.dtype)
        mask = _canonical_mask(mask, "mask", None, "", src.dtype)
        first = self.layers[0]
        batch_first = first.self_attn.batch_first
        if is_causal is None:  # PyTorch's _detect_is_causal_mask
            is_causal = False
            if mask is not None:
                size = src.shape[1 if batch_first and src.ndim == 3 else 0]
                causal = _causal_mask(size, mask.dtype)
                is_causal = mask.shape == causal.shape and bool((mask._array == causal).all())
        nested = self._nested(src, mask, src_key_padding_mask)
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, is_causal=is_causal,
                        src_key_padding_mask=src_key_padding_mask)
        if nested:  # PyTorch's nested-tensor path leaves padded positions 0
            out = where(wrap_array((src_key_padding_mask._array != 0)[..., None]), 0.0, out)
        return out if self.norm is None else self.norm(out)

    def _nested(self, src: Tensor, mask: Tensor | None, padding: Tensor | None) -> bool:
        """Whether PyTorch would take its nested-tensor path (TransformerEncoder.forward's
        conditions): eval mode, a batched left-aligned padding mask, no attention mask, and no
        gradient to record through the first layer."""
        if (not self.use_nested_tensor or self.layers[0].training or src.ndim != 3
                or padding is None or mask is not None):
            return False
        pad = padding._array != 0  # PyTorch's padding: any non-zero entry of the float mask
        if self.mask_check and np.any(pad[:, :-1] & ~pad[:, 1:]):
            return False  # a padded position before a real one: not left-aligned
        first = self.layers[0]
        attn = first.self_attn
        return not _needs_grad(src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight,
                               attn.out_proj.bias, first.norm1.weight, first.norm1.bias,
                               first.norm2.weight, first.norm2.bias, first.linear1.weight,
                               first.linear1.bias, first.linear2.weight, first.linear2.bias)


def _why_not_nested(layer: Module) -> str:
    """PyTorch's reasons for not using nested tensors with this encoder layer ('' if none)."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (f"{name}.self_attn.batch_first was not True(use batch_first for better "
                "inference performance)")
    if not layer.self_attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""
