"""PyTorch weights in and out: the same architecture written with torch and with micrograd has
the same state_dict names and shapes; ``load_torch_state_dict`` (from a state dict, a torch
module, a ``torch.save`` file or a ``.safetensors`` file) makes the micrograd model compute what
the torch model computes, values and gradients in float64 with a random cotangent on every
backend; ``to_torch_state_dict`` carries the weights back. Errors name the key at fault."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import micrograd as mg
from micrograd.tools.safetensors_io import save_safetensors
from micrograd.tools.torch_interop import load_torch_state_dict, to_torch_state_dict

R = np.random.default_rng(3)
X = R.standard_normal((6, 5))
COT = R.standard_normal((6, 3))


def build(lib):
    """One architecture, written the same way with either library: dense layers, every
    normalisation, a learnable activation and a nested Sequential, in float64."""
    nn = lib.nn
    return nn.Sequential(
        nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(),
        nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8), nn.PReLU(8), nn.Dropout(0.2)),
        nn.Linear(8, 3, bias=False), nn.Tanh(),
    ).double()


def _torch():
    return pytest.importorskip("torch", reason="torch is the other side of the conversion")


def _trained_torch_model(torch):
    """A torch model whose weights and running statistics are all non-default."""
    torch.manual_seed(0)
    model = build(torch)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    model.train()
    for _ in range(3):
        model(torch.randn(16, 5, dtype=torch.float64))
    return model.eval()


def _run(lib, model, x_np):
    """Output and gradients (input and every parameter) for the cotangent COT."""
    x = lib.tensor(x_np, requires_grad=True)
    out = model(x)
    (out * lib.tensor(COT)).sum().backward()
    grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
    return out.detach().numpy(), x.grad.numpy(), grads


def test_names_and_layouts_match_torch():
    torch = _torch()
    theirs = {k: tuple(v.shape) for k, v in build(torch).state_dict().items()}
    ours = {k: tuple(v.shape) for k, v in build(mg).state_dict().items()}
    assert ours == theirs
    assert "1.num_batches_tracked" in ours and ours["0.weight"] == (8, 5)


def test_the_keys_come_in_torchs_order():
    torch = _torch()
    assert list(build(mg).state_dict()) == list(build(torch).state_dict())


def _mg_layer(name):
    """A micrograd layer class by torch's name (the sequence layers' modules included)."""
    import importlib
    for where in ("micrograd.nn", "micrograd.nn.conv", "micrograd.nn.sparse",
                  "micrograd.nn.recurrent", "micrograd.nn.transformer"):
        try:
            found = getattr(importlib.import_module(where), name, None)
        except ImportError:
            continue
        if found is not None:
            return found
    pytest.skip(f"micrograd has no nn.{name}")


# name -> (layer name, arguments): torch's layers with parameters in their own layouts
LAYERS = {
    "conv1d": ("Conv1d", (3, 4, 3)),
    "conv2d_no_bias": ("Conv2d", (3, 4, (3, 2)), {"bias": False}),
    "conv_transpose2d": ("ConvTranspose2d", (3, 4, 3), {"groups": 1}),
    "batchnorm2d": ("BatchNorm2d", (4,)),
    "groupnorm": ("GroupNorm", (2, 4)),
    "embedding": ("Embedding", (10, 3)),
    "embedding_bag": ("EmbeddingBag", (10, 3)),
    "rnn_2_layers_bidirectional": ("RNN", (3, 5), {"num_layers": 2, "bidirectional": True}),
    "lstm_projected": ("LSTM", (3, 5), {"proj_size": 2}),
    "gru": ("GRU", (3, 5), {"batch_first": True}),
    "lstm_cell": ("LSTMCell", (3, 5)),
    "multihead_attention_kdim": ("MultiheadAttention", (8, 2), {"kdim": 4, "vdim": 6}),
    "transformer_encoder_layer": ("TransformerEncoderLayer", (8, 2, 16)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_with_parameters_has_torchs_names_and_layouts(name):
    torch = _torch()
    layer, args, *kwargs = LAYERS[name]
    kwargs = kwargs[0] if kwargs else {}
    theirs = getattr(torch.nn, layer)(*args, **kwargs).state_dict()
    ours = _mg_layer(layer)(*args, **kwargs)
    assert list(ours.state_dict()) == list(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.items()}
    load_torch_state_dict(ours, theirs)  # and they load
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), theirs[k].numpy(), err_msg=k)


def test_a_torch_cnn_computes_the_same(backend):
    torch = _torch()

    def cnn(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), _bn2d(lib)(3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 3)).double()

    def _bn2d(lib):
        return lib.nn.BatchNorm2d if lib is torch else _mg_layer("BatchNorm2d")

    torch.manual_seed(1)
    tm = cnn(torch)
    tm.train()
    tm(torch.randn(8, 1, 4, 4, dtype=torch.float64))
    tm.eval()
    mm = cnn(mg)
    load_torch_state_dict(mm, tm.state_dict())
    mm.eval()
    x = R.standard_normal((6, 1, 4, 4))
    out, gx, grads = _run(mg, mm, x)
    t_out, t_gx, t_grads = _run(torch, tm, x)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gx, t_gx, rtol=1e-10, atol=1e-12)
    for name in t_grads:
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def test_torch_weights_compute_the_same_values_and_gradients(backend):
    torch = _torch()
    tm = _trained_torch_model(torch)
    mm = build(mg)
    assert load_torch_state_dict(mm, tm.state_dict()) == ([], [])
    mm.eval()
    out, gx, grads = _run(mg, mm, X)
    t_out, t_gx, t_grads = _run(torch, tm, X)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gx, t_gx, rtol=1e-10, atol=1e-12)
    assert grads.keys() == t_grads.keys()
    for name in grads:
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    assert int(mm[1].num_batches_tracked.item()) == 3


def test_weights_go_back_to_torch_as_copies():
    torch = _torch()
    mg.manual_seed(4)
    mm = build(mg)
    mm(mg.tensor(X))  # training mode: moves the running statistics
    mm.eval()
    sd = to_torch_state_dict(mm)
    assert all(isinstance(v, torch.Tensor) for v in sd.values())
    assert {k: (v.dtype, tuple(v.shape)) for k, v in sd.items()} == {
        k: (getattr(torch, v.dtype.name), tuple(v.shape)) for k, v in mm.state_dict().items()}
    tm = build(torch).eval()
    assert not tm.load_state_dict(sd).missing_keys
    t_out = tm(torch.tensor(X)).detach().numpy()
    np.testing.assert_allclose(mm(mg.tensor(X)).detach().numpy(), t_out, rtol=1e-12, atol=1e-13)
    before = mm[0].weight.detach().numpy().copy()
    sd["0.weight"].add_(1.0)
    np.testing.assert_array_equal(mm[0].weight.detach().numpy(), before)
    assert to_torch_state_dict(mm.state_dict()).keys() == sd.keys()  # a state dict works too


def test_from_a_torch_module_a_torch_save_file_and_a_safetensors_file(tmp_path):
    torch = _torch()
    tm = _trained_torch_model(torch)
    want = tm(torch.tensor(X)).detach().numpy()
    torch.save(tm.state_dict(), tmp_path / "weights.pt")
    st = pytest.importorskip("safetensors.torch", reason="writes the .safetensors file")
    st.save_file(tm.state_dict(), str(tmp_path / "weights.safetensors"))
    for source in (tm, tmp_path / "weights.pt", str(tmp_path / "weights.pt"),
                   tmp_path / "weights.safetensors"):
        mm = build(mg)
        load_torch_state_dict(mm, source)
        got = mm.eval()(mg.tensor(X)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13, err_msg=str(source))


def test_a_pickled_model_file_is_refused_by_torch_load(tmp_path):
    torch = _torch()
    torch.save(build(torch), tmp_path / "whole_model.pt")  # a pickle of code, not weights
    with pytest.raises(Exception, match="Weights only load failed"):
        load_torch_state_dict(build(mg), tmp_path / "whole_model.pt")


def test_values_are_cast_to_the_receiving_dtype():
    torch = _torch()
    tm = build(torch).to(torch.bfloat16)
    mm = build(mg)
    load_torch_state_dict(mm, tm.state_dict())
    assert mm[0].weight.dtype == mg.float64
    np.testing.assert_array_equal(mm[0].weight.detach().numpy(),
                                  tm[0].weight.detach().double().numpy())


def test_mismatches_name_the_keys(backend):
    torch = _torch()
    small = torch.nn.Sequential(torch.nn.Linear(5, 8))
    mm = build(mg)
    with pytest.raises(KeyError, match=r"missing keys \['0.bias'.*unexpected keys \[\]"):
        load_torch_state_dict(mm, {"0.weight": small[0].weight})
    missing, unexpected = load_torch_state_dict(mm, {"0.weight": small[0].weight,
                                                     "extra.weight": torch.ones(1)}, strict=False)
    assert "0.bias" in missing and unexpected == ["extra.weight"]
    np.testing.assert_array_equal(mm[0].weight.detach().numpy(),
                                  small[0].weight.detach().double().numpy())
    wrong = build(torch).state_dict()
    wrong["0.weight"] = torch.zeros(5, 8, dtype=torch.float64)
    with pytest.raises(RuntimeError, match=r"size mismatch for '0.weight': checkpoint has shape "
                                           r"\(5, 8\), the model \(8, 5\)"):
        load_torch_state_dict(build(mg), wrong)


def test_argument_errors():
    _torch()  # the conversions import torch before they look at their arguments
    with pytest.raises(TypeError, match="expected a micrograd Module, got dict"):
        load_torch_state_dict({}, {})
    with pytest.raises(TypeError, match="expected a state dict, a torch module or a file path, "
                                        "got int"):
        load_torch_state_dict(build(mg), 3)
    with pytest.raises(TypeError, match="expected a Module or a state dict, got list"):
        to_torch_state_dict([1])


def test_without_torch_the_error_names_the_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "micrograd-tensor\[torch\]"'):
        to_torch_state_dict(build(mg))
    with pytest.raises(ImportError, match=r"load_torch_state_dict\('.*w.pt'\) needs PyTorch"):
        load_torch_state_dict(build(mg), str(tmp_path / "w.pt"))


def test_safetensors_weights_load_without_torch_and_gradcheck(monkeypatch, tmp_path, backend):
    """A ``.safetensors`` file needs no torch; the loaded model is the saved one, and its
    gradients pass gradcheck (float64 finite differences)."""
    monkeypatch.setitem(sys.modules, "torch", None)
    mg.manual_seed(7)
    src = build(mg)
    src(mg.tensor(X))
    src.eval()
    save_safetensors(src, tmp_path / "w.safetensors")
    mg.manual_seed(8)
    dst = build(mg)
    load_torch_state_dict(dst, tmp_path / "w.safetensors")
    dst.eval()
    x = mg.tensor(X[:3], requires_grad=True)
    np.testing.assert_array_equal(dst(x).detach().numpy(), src(x).detach().numpy())
    assert mg.gradcheck(lambda v: dst(v), (x,))
