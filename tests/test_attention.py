"""scaled_dot_product_attention, MultiheadAttention, TransformerEncoderLayer and
TransformerEncoder against torch in float64 (weights loaded from torch's state_dict, random
cotangents, values and gradients of the inputs, masks and parameters) on every backend; torch's
eval-mode fast paths (NaN rows, nested-tensor zeros); gradcheck on small sizes (no torch
needed); torch's errors and warnings. (The character model example's Transformer is trained
against PyTorch in test_sequence_layers.py, with its recurrent variants.)
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import micrograd as mg
from micrograd.nn import transformer
from micrograd.nn.attention import scaled_dot_product_attention
from micrograd.nn.transformer import (MultiheadAttention, TransformerEncoder,
                                      TransformerEncoderLayer)

R = np.random.default_rng(21)
Q, K, V = R.standard_normal((2, 3, 4, 5)), R.standard_normal((2, 3, 6, 5)), \
    R.standard_normal((2, 3, 6, 7))
ALLOW = R.random((4, 6)) > 0.4
ALLOW[1] = False                        # a query that may attend no key
ADD = R.standard_normal((3, 4, 6))
ADD[0, 2] = -np.inf                     # a float mask that blocks a whole row


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="torch is the oracle for attention")


def _close(mine, theirs, rtol=1e-10, atol=1e-12, what=""):
    if theirs is None:
        assert mine is None or not np.any(mine.numpy()), what
        return
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=atol, err_msg=what)


def _sdpa(L):
    return scaled_dot_product_attention if L is mg else L.nn.functional.scaled_dot_product_attention


# name -> f(lib, q, k, v, float mask); all four require grad
SDPA = {
    "plain": lambda L, q, k, v, m: _sdpa(L)(q, k, v),
    "causal": lambda L, q, k, v, m: _sdpa(L)(q, k, v, is_causal=True),
    "causal_longer_query": lambda L, q, k, v, m: _sdpa(L)(k, q, q, is_causal=True),
    "bool_mask_with_an_empty_row": lambda L, q, k, v, m: _sdpa(L)(q, k, v,
                                                                  attn_mask=L.tensor(ALLOW)),
    "float_mask_with_a_blocked_row": lambda L, q, k, v, m: _sdpa(L)(q, k, v, attn_mask=m),
    "float32_mask": lambda L, q, k, v, m: _sdpa(L)(q, k, v, attn_mask=L.tensor(
        ADD[1].astype(np.float32))),
    "scale": lambda L, q, k, v, m: _sdpa(L)(q, k, v, scale=0.3),
    "broadcast_batch": lambda L, q, k, v, m: _sdpa(L)(q, k[:1], v[:, :1]),
    "grouped_query_heads": lambda L, q, k, v, m: _sdpa(L)(q, k[:, :1], v[:, :1],
                                                          enable_gqa=True),
    "unbatched_2d": lambda L, q, k, v, m: _sdpa(L)(q[0, 0], k[0, 0], v[0, 0]),
    "no_keys": lambda L, q, k, v, m: _sdpa(L)(q, k[..., :0, :], v[..., :0, :]),
    "no_features_uniform_weights": lambda L, q, k, v, m: _sdpa(L)(q[..., :0], k[..., :0], v),
}


@pytest.mark.parametrize("name", list(SDPA))
def test_scaled_dot_product_attention_matches_torch(torch, backend, name):
    args = [mg.tensor(a, requires_grad=True) for a in (Q, K, V, ADD)]
    targs = [torch.tensor(a, requires_grad=True) for a in (Q, K, V, ADD)]
    out, tout = SDPA[name](mg, *args), SDPA[name](torch, *targs)
    assert out.shape == tuple(tout.shape)
    _close(out, tout)
    cot = np.random.default_rng(1).standard_normal(tuple(tout.shape))
    (out * mg.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    for i, (a, b) in enumerate(zip(args, targs)):
        _close(a.grad, b.grad, 1e-9, 1e-12, f"input {i}")


def test_attention_dropout(torch):
    q, k, v = (mg.tensor(a) for a in (Q, K, V))
    _close(scaled_dot_product_attention(q, k, v, dropout_p=1.0),
           torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (Q, K, V)),
                                                            dropout_p=1.0))
    mg.manual_seed(4)
    once = scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    mg.manual_seed(4)
    assert np.array_equal(once, scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy())
    assert not np.allclose(once, scaled_dot_product_attention(q, k, v).numpy())


@pytest.mark.parametrize("call,exc,match", [
    (lambda L, q, k, v: _sdpa(L)(q, k, v, attn_mask=L.ones(4, 6, dtype=L.bool), is_causal=True),
     RuntimeError, "Explicit attn_mask should not be set when is_causal=True"),
    (lambda L, q, k, v: _sdpa(L)(q.float(), k, v), RuntimeError,
     "Expected query, key, and value to have the same dtype"),
    (lambda L, q, k, v: _sdpa(L)(q[0, 0, 0], k, v), RuntimeError, "at least 2 dimensional"),
    (lambda L, q, k, v: _sdpa(L)(q, k[..., :3], v), RuntimeError, r"\(2, 3, 6, 3\)"),
    (lambda L, q, k, v: _sdpa(L)(q, k, v[..., :5, :]), RuntimeError, r"\(2, 3, 5, 7\)"),
    (lambda L, q, k, v: _sdpa(L)(q, k[:, :2], v[:, :2]), RuntimeError,
     r"the batch dims of query \(2, 3, 4, 5\), key \(2, 2, 6, 5\) .* do not broadcast"),
    (lambda L, q, k, v: _sdpa(L)(q, k, v, attn_mask=L.ones(5, 6, dtype=L.bool)), RuntimeError,
     r"attn_mask of shape \(5, 6\) does not broadcast to .* \(2, 3, 4, 6\)"),
    (lambda L, q, k, v: _sdpa(L)(q, k, v, attn_mask=L.ones(4, 6, dtype=L.int64)), RuntimeError,
     "Expected attn_mask dtype to be bool or float"),
    (lambda L, q, k, v: _sdpa(L)(q, k, v, dropout_p=1.5), RuntimeError,
     "dropout probability has to be between 0 and 1, but got 1.5"),
    (lambda L, q, k, v: _sdpa(L)(q, k[:, :2], v[:, :2], enable_gqa=True), RuntimeError,
     "Number of heads in key and value must divide the number of heads in"),
    (lambda L, q, k, v: _sdpa(L)(q.long(), k.long(), v.long()), RuntimeError,
     "must be floating point, got int64"),
])
def test_attention_errors_as_torch(call, exc, match):
    with pytest.raises(exc, match=match):
        call(mg, *(mg.tensor(a) for a in (Q, K, V)))
    torch = pytest.importorskip("torch")
    with pytest.raises(exc):
        call(torch, *(torch.tensor(a) for a in (Q, K, V)))


# ---- MultiheadAttention -------------------------------------------------------------------------
E, HEADS, LQ, LK, N = 8, 2, 4, 6, 3
PAD = np.zeros((N, LK), bool)
PAD[0, 4:] = True
PAD[2, 1] = True
BLOCK = R.random((LQ, LK)) > 0.7
ROW_BLOCKED = np.zeros((LQ, LQ), bool)
ROW_BLOCKED[2] = True                  # self-attention: query 2 may see no key
PER_HEAD = R.standard_normal((N * HEADS, LQ, LK))
ALL_PAD = PAD.copy()
ALL_PAD[1] = True                      # a batch element with every key padded

# name -> (constructor kwargs, f(lib, module, q, k, v))
MHA = {
    "weights": ({}, lambda L, m, q, k, v: m(q, k, v)),
    "no_weights": ({}, lambda L, m, q, k, v: m(q, k, v, need_weights=False)),
    "padding_per_head_weights": ({}, lambda L, m, q, k, v: m(
        q, k, v, key_padding_mask=L.tensor(PAD), average_attn_weights=False)),
    "both_masks_no_weights": ({}, lambda L, m, q, k, v: m(
        q, k, v, key_padding_mask=L.tensor(PAD), attn_mask=L.tensor(BLOCK),
        need_weights=False)),
    "both_masks": ({}, lambda L, m, q, k, v: m(q, k, v, key_padding_mask=L.tensor(PAD),
                                               attn_mask=L.tensor(BLOCK))),
    "float_masks_per_head": ({}, lambda L, m, q, k, v: m(
        q, k, v, attn_mask=L.tensor(PER_HEAD),
        key_padding_mask=L.tensor(np.where(PAD, -np.inf, 0.0)))),
    "every_key_padded_no_weights": ({}, lambda L, m, q, k, v: m(
        q, k, v, key_padding_mask=L.tensor(ALL_PAD), need_weights=False)),
    "no_bias": ({"bias": False}, lambda L, m, q, k, v: m(q, k, v)),
    "kdim_vdim": ({"kdim": 5, "vdim": 3}, lambda L, m, q, k, v: m(
        q, k, v, key_padding_mask=L.tensor(PAD))),
    "bias_kv_zero_attn": ({"add_bias_kv": True, "add_zero_attn": True},
                          lambda L, m, q, k, v: m(q, k, v, key_padding_mask=L.tensor(PAD),
                                                  attn_mask=L.tensor(BLOCK))),
    "bias_kv_no_weights": ({"add_bias_kv": True}, lambda L, m, q, k, v: m(
        q, k, v, need_weights=False)),
    "self_attention": ({}, lambda L, m, q, k, v: m(q, q, q, need_weights=False)),
    "key_is_value": ({}, lambda L, m, q, k, v: m(q, k, k)),
    "causal_hint": ({}, lambda L, m, q, k, v: m(q, q, q, attn_mask=L.tensor(
        np.triu(np.ones((LQ, LQ), bool), 1)), is_causal=True, need_weights=False)),
    "batch_first": ({"batch_first": True}, lambda L, m, q, k, v: m(
        q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), key_padding_mask=L.tensor(PAD))),
    "unbatched": ({}, lambda L, m, q, k, v: m(q[:, 0], k[:, 0], v[:, 0],
                                              key_padding_mask=L.tensor(PAD[0]))),
}


def _mha_pair(torch, kwargs: dict):
    """torch's module with random parameters (its init zeroes the biases) and micrograd's
    loaded from its state_dict."""
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(E, HEADS, dtype=torch.float64, **kwargs)
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn_like(p))
    m = MultiheadAttention(E, HEADS, dtype=mg.float64, **kwargs)
    assert list(m.state_dict()) == list(t.state_dict())
    m.load_state_dict(t.state_dict())
    return m, t


def _qkv(lib, kwargs: dict) -> list:
    rng = np.random.default_rng(2)
    return [lib.tensor(rng.standard_normal(shape), requires_grad=True)
            for shape in ((LQ, N, E), (LK, N, kwargs.get("kdim", E)),
                          (LK, N, kwargs.get("vdim", E)))]


@pytest.mark.parametrize("name", list(MHA))
def test_multihead_attention_matches_torch(torch, backend, name):
    kwargs, fn = MHA[name]
    m, t = _mha_pair(torch, kwargs)
    qkv, tqkv = _qkv(mg, kwargs), _qkv(torch, kwargs)
    (out, w), (tout, tw) = fn(mg, m, *qkv), fn(torch, t, *tqkv)
    _close(out, tout, what="output")
    assert (w is None) == (tw is None)
    rng = np.random.default_rng(3)
    cot = rng.standard_normal(tuple(tout.shape))
    loss, tloss = (out * mg.tensor(cot)).sum(), (tout * torch.tensor(cot)).sum()
    if w is not None:
        _close(w, tw, what="weights")
        wcot = rng.standard_normal(tuple(tw.shape))
        if np.isfinite(tw.detach().numpy()).all():
            loss = loss + (w * mg.tensor(wcot)).sum()
            tloss = tloss + (tw * torch.tensor(wcot)).sum()
    if np.isfinite(tout.detach().numpy()).all():
        loss.backward()
        tloss.backward()
        for i, (a, b) in enumerate(zip(qkv, tqkv)):
            _close(a.grad, b.grad, 1e-9, 1e-11, f"input {i}")
        for (pname, p), (_, tp) in zip(m.named_parameters(), t.named_parameters()):
            _close(p.grad, tp.grad, 1e-9, 1e-11, pname)


def test_multihead_attention_rows_without_keys_as_torch(torch):
    """need_weights=True: NaN from the explicit softmax (both); False: zeros from attention."""
    m, t = _mha_pair(torch, {})
    q, tq = _qkv(mg, {})[0], _qkv(torch, {})[0]
    for need in (True, False):
        out = m(q, q, q, key_padding_mask=mg.tensor(ALL_PAD[:, :LQ]), need_weights=need)[0]
        tout = t(tq, tq, tq, key_padding_mask=torch.tensor(ALL_PAD[:, :LQ]),
                 need_weights=need)[0]
        _close(out, tout)
        assert np.isnan(out.detach().numpy()[:, 1]).all() == need


@pytest.mark.parametrize("masks", [dict(key_padding_mask=ALL_PAD[:, :LQ]),
                                   dict(attn_mask=ROW_BLOCKED),
                                   dict(attn_mask=np.eye(LQ, dtype=bool),
                                        key_padding_mask=ALL_PAD[:, :LQ])])
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_eval_fast_path_as_torch(torch, masks, need_weights):
    """In eval mode without gradients torch's fused kernel returns NaN rows where no key is
    visible (even with need_weights=False, where training mode gives zeros)."""
    m, t = _mha_pair(torch, {"batch_first": True})
    m.eval()
    t.eval()
    x = np.random.default_rng(5).standard_normal((N, LQ, E))
    got = []
    for lib, mod in ((mg, m), (torch, t)):
        with lib.no_grad():
            xx = lib.tensor(x)
            out, w = mod(xx, xx, xx, need_weights=need_weights,
                         **{k: lib.tensor(v) for k, v in masks.items()})
        got.append((out.numpy(), None if w is None else w.numpy()))
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-10)
    if need_weights:
        np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-10)
    assert np.isnan(got[0][0]).any()


def test_multihead_attention_init_and_dropout(torch):
    mg.manual_seed(0)
    m = MultiheadAttention(E, HEADS, dropout=1.0)
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    bound = np.sqrt(6 / (E + 3 * E))  # xavier_uniform on (3E, E)
    assert np.abs(m.in_proj_weight.detach().numpy()).max() <= bound
    t = torch.nn.MultiheadAttention(E, HEADS, dropout=1.0)
    m.load_state_dict(t.state_dict())
    x = np.random.default_rng(0).standard_normal((LQ, N, E)).astype(np.float32)
    out, w = m(mg.tensor(x), mg.tensor(x), mg.tensor(x))        # every weight dropped
    tout, tw = t(torch.tensor(x), torch.tensor(x), torch.tensor(x))
    _close(out, tout, 1e-6, 1e-6)
    _close(w, tw)
    separate = MultiheadAttention(E, HEADS, kdim=3, vdim=5)
    assert separate.in_proj_weight is None and separate.k_proj_weight.shape == (E, 3)


@pytest.mark.parametrize("call,exc,match", [
    (lambda L, m, q: m(q[0, 0], q[0, 0], q[0, 0]), AssertionError,
     "query should be unbatched 2D or batched 3D tensor but received 1-D query tensor"),
    (lambda L, m, q: m(q, q[0], q), AssertionError,
     "For batched \\(3-D\\) `query`, expected `key` and `value` to be 3-D"),
    (lambda L, m, q: m(q, q, q, key_padding_mask=L.zeros(N, dtype=L.bool)), AssertionError,
     "expected `key_padding_mask` to be `None` or 2-D"),
    (lambda L, m, q: m(q, q, q, attn_mask=L.zeros(LQ, LQ + 1, dtype=L.bool)), RuntimeError,
     "The shape of the 2D attn_mask is"),
    (lambda L, m, q: m(q, q, q, attn_mask=L.zeros(2, LQ, LQ, dtype=L.bool)), RuntimeError,
     "The shape of the 3D attn_mask is"),
    (lambda L, m, q: m(q, q, q, key_padding_mask=L.zeros(N, LQ, dtype=L.int64)),
     AssertionError, "only bool and floating types of key_padding_mask are supported"),
    (lambda L, m, q: m(q, q, q, is_causal=True), RuntimeError,
     "Need attn_mask if specifying the is_causal hint"),
    (lambda L, m, q: m(q[..., :4], q[..., :4], q[..., :4]), AssertionError,
     "was expecting embedding dimension of 8, but got 4"),
    (lambda L, m, q: m(q, q, q[:2]), AssertionError, "does not match value shape"),
    (lambda L, m, q: L.nn.MultiheadAttention(8, 3), AssertionError,
     "embed_dim must be divisible by num_heads"),
    (lambda L, m, q: L.nn.MultiheadAttention(0, 2), ValueError,
     "embed_dim and num_heads must be greater than 0"),
])
def test_multihead_attention_errors_as_torch(call, exc, match):
    class Lib:
        nn = transformer
        zeros, bool, int64 = mg.zeros, mg.bool, mg.int64
    q = np.zeros((LQ, N, E))
    with pytest.raises(exc, match=match):
        call(Lib, MultiheadAttention(E, HEADS, dtype=mg.float64), mg.tensor(q))
    torch = pytest.importorskip("torch")
    with pytest.raises(exc):
        call(torch, torch.nn.MultiheadAttention(E, HEADS, dtype=torch.float64), torch.tensor(q))


def test_mismatched_mask_types_warn_as_torch(torch):
    for lib, mod in ((mg, MultiheadAttention(E, HEADS)), (torch, torch.nn.MultiheadAttention(E,
                                                                                       HEADS))):
        x = lib.zeros(LQ, N, E)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                             "attn_mask is deprecated"):
            mod(x, x, x, key_padding_mask=lib.zeros(N, LQ, dtype=lib.bool),
                attn_mask=lib.zeros(LQ, LQ))


# ---- Transformer encoder ------------------------------------------------------------------------
SRC = R.standard_normal((5, N, E))
SEQ_PAD = np.zeros((N, 5), bool)
SEQ_PAD[0, 3:] = True
SEQ_PAD[2, 4] = True
CAUSAL = np.triu(np.full((5, 5), -np.inf), 1)


def _mask_kw(module, lib, mask) -> dict:
    """The attention mask argument: ``mask`` for the encoder, ``src_mask`` for a layer."""
    encoder = type(module).__name__ == "TransformerEncoder"
    return {"mask" if encoder else "src_mask": lib.tensor(mask)}


# name -> (layer kwargs, f(lib, module, src)); src is (5, N, E), batch first transposed
ENCODER = {
    "post_norm": ({}, lambda L, m, x: m(x)),
    "norm_first_gelu_padding": (dict(norm_first=True, activation="gelu"),
                                lambda L, m, x: m(x, src_key_padding_mask=L.tensor(SEQ_PAD))),
    "batch_first_padding": (dict(batch_first=True), lambda L, m, x: m(
        x, src_key_padding_mask=L.tensor(SEQ_PAD))),
    "causal_hint": ({}, lambda L, m, x: m(x, **_mask_kw(m, L, CAUSAL), is_causal=True)),
    "causal_mask_no_bias": (dict(bias=False), lambda L, m, x: m(x, **_mask_kw(m, L, CAUSAL))),
    "bool_mask_and_padding": ({}, lambda L, m, x: m(x, **_mask_kw(m, L, np.isinf(CAUSAL)),
                                                    src_key_padding_mask=L.tensor(SEQ_PAD))),
    "callable_activation": (dict(activation="tanh"), lambda L, m, x: m(x)),
}


def _encoder_pair(torch, kwargs: dict, layers: int | None, norm: bool = False):
    kwargs = dict(kwargs, dropout=0.0)
    if kwargs.get("activation") == "tanh":
        kwargs_t, kwargs_m = (dict(kwargs, activation=torch.tanh),
                              dict(kwargs, activation=mg.tanh))
    else:
        kwargs_t = kwargs_m = kwargs
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        t = torch.nn.TransformerEncoderLayer(E, HEADS, 16, dtype=torch.float64, **kwargs_t)
        if layers:
            t = torch.nn.TransformerEncoder(
                t, layers, norm=torch.nn.LayerNorm(E, dtype=torch.float64) if norm else None)
    with torch.no_grad():
        for p in t.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        m = TransformerEncoderLayer(E, HEADS, 16, dtype=mg.float64, **kwargs_m)
        if layers:
            m = TransformerEncoder(m, layers, norm=mg.nn.LayerNorm(E).double() if norm else None)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert list(m.state_dict()) == list(t.state_dict())
    m.load_state_dict(t.state_dict())
    return m, t


@pytest.mark.parametrize("layers", [None, 2])
@pytest.mark.parametrize("name", list(ENCODER))
def test_transformer_encoder_matches_torch(torch, backend, name, layers):
    kwargs, fn = ENCODER[name]
    m, t = _encoder_pair(torch, kwargs, layers, norm=bool(layers))
    src = SRC.transpose(1, 0, 2) if kwargs.get("batch_first") else SRC
    x, tx = mg.tensor(src, requires_grad=True), torch.tensor(src, requires_grad=True)
    out, tout = fn(mg, m, x), fn(torch, t, tx)
    _close(out, tout, 1e-9, 1e-11)
    cot = np.random.default_rng(1).standard_normal(tuple(tout.shape))
    (out * mg.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    _close(x.grad, tx.grad, 1e-8, 1e-10, "src")
    for (pname, p), (_, tp) in zip(m.named_parameters(), t.named_parameters()):
        _close(p.grad, tp.grad, 1e-8, 1e-10, pname)


@pytest.mark.parametrize("call", [
    lambda L, m: m(L.tensor(SRC.transpose(1, 0, 2)), src_key_padding_mask=L.tensor(SEQ_PAD)),
    lambda L, m: m(L.tensor(SRC.transpose(1, 0, 2)), src_key_padding_mask=L.tensor(ALL_PAD[:, :5])),
    lambda L, m: m(L.tensor(SRC.transpose(1, 0, 2)), **_mask_kw(m, L, np.isinf(CAUSAL)),
                   src_key_padding_mask=L.tensor(ALL_PAD[:, :5])),
    lambda L, m: m(L.tensor(SRC.transpose(1, 0, 2))),
])
@pytest.mark.parametrize("layers", [None, 2])
def test_eval_fast_paths_as_torch(torch, call, layers):
    """Eval mode without gradients: torch's fused layer (NaN where no key is visible) and, for
    the encoder, nested tensors (padded positions 0 before the final norm)."""
    m, t = _encoder_pair(torch, dict(batch_first=True), layers, norm=bool(layers))
    m.eval()
    t.eval()
    got = []
    for lib, mod in ((mg, m), (torch, t)):
        for p in mod.parameters():
            p.requires_grad_(False)
        with lib.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: nested tensors are a prototype
            got.append(call(lib, mod).numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-9, atol=1e-11)


def test_encoder_layers_are_copies_and_errors(torch):
    layer = TransformerEncoderLayer(E, HEADS, 16)
    encoder = TransformerEncoder(layer, 2, enable_nested_tensor=False)
    assert encoder.layers[0].linear1.weight is not encoder.layers[1].linear1.weight
    np.testing.assert_array_equal(encoder.layers[1].linear1.weight.detach().numpy(),
                                  layer.linear1.weight.detach().numpy())
    for lib, cls in ((mg, TransformerEncoderLayer), (torch, torch.nn.TransformerEncoderLayer)):
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not swish"):
            cls(E, HEADS, activation="swish")


@pytest.mark.parametrize("kind", ["sdpa", "mha", "layer"])
def test_attention_gradcheck_on_every_backend(backend, kind):
    rng = np.random.default_rng(0)
    mg.manual_seed(0)
    if kind == "sdpa":
        q, k, v, m = (mg.tensor(rng.standard_normal(s), requires_grad=True)
                      for s in ((2, 3, 2), (2, 4, 2), (2, 4, 3), (3, 4)))
        allow = mg.tensor(ALLOW[:3, :4] | np.eye(3, 4, dtype=bool))
        assert mg.gradcheck(lambda q, k, v, m: (
            scaled_dot_product_attention(q, k, v, attn_mask=m),
            scaled_dot_product_attention(q, k, v, attn_mask=allow, scale=0.7),
            scaled_dot_product_attention(q, k, v, is_causal=True)), (q, k, v, m))
    elif kind == "mha":
        mha = MultiheadAttention(4, 2, kdim=3, add_bias_kv=True, dtype=mg.float64)
        q, k, v = (mg.tensor(rng.standard_normal(s), requires_grad=True)
                   for s in ((3, 2, 4), (2, 2, 3), (2, 2, 4)))
        pad = mg.tensor([[False, True], [False, False]])
        assert mg.gradcheck(lambda q, k, v, *p: mha(q, k, v, key_padding_mask=pad),
                            (q, k, v, *mha.parameters()))
    else:
        layer = TransformerEncoderLayer(4, 2, 6, dropout=0.0, dtype=mg.float64,
                                        norm_first=True)
        x = mg.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
        causal = mg.tensor(np.triu(np.ones((3, 3), bool), 1))
        assert mg.gradcheck(lambda x, *p: layer(x, src_mask=causal), (x, *layer.parameters()))

