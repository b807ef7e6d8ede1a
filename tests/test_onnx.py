"""``micrograd.onnx.export``: each supported layer (a spec table of small models) exported, checked
by onnx and run in onnxruntime at the example's batch size and at others, compared with micrograd
in float32 (1e-5) on every backend; a forward that chains layers in a Module; eval mode during
the export with the modes restored; and the refusals, each naming the layer and the reason."""
from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import micrograd as mg
import micrograd.onnx
from micrograd import nn
from micrograd.nn import functional as F

R = np.random.default_rng(2)
# nn.Softmax() without dim warns as in torch, at every call (export and checks alike)
pytestmark = pytest.mark.filterwarnings("ignore:Implicit dimension choice for softmax")


def _ort():
    pytest.importorskip("onnx", reason="the onnx package builds the exported graph")
    return pytest.importorskip("onnxruntime", reason="onnxruntime runs the exported file")


def dense(*layers, features=6):
    """Linear(features -> 6), then ``layers``: the input reaches them with real spread."""
    return nn.Sequential(nn.Linear(features, 6), *layers)


class SimpleNet(nn.Module):
    """The tutorial's shape of model: a forward that chains its layers."""

    def __init__(self):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 3)
        self.norm = nn.LayerNorm(8)

    def forward(self, x):
        return self.fc2(self.norm(self.act(self.fc1(x))))


class Twice(nn.Module):
    """One layer used twice: its weights are stored once."""

    def __init__(self):
        super().__init__()
        self.fc, self.act = nn.Linear(6, 6), nn.Tanh()

    def forward(self, x):
        return self.fc(self.act(self.fc(x)))


def _trained_bn(*args, shape=(32, 6), **kwargs):
    bn = nn.BatchNorm1d(*args, **kwargs)
    bn.train()
    for _ in range(3):
        bn(mg.tensor(R.standard_normal(shape).astype(np.float32) * 2 + 1))
    return bn


def _trained_bn2d(c):
    bn = nn.BatchNorm2d(c)
    bn.train()
    bn(mg.tensor(R.standard_normal((8, c, 4, 4)).astype(np.float32) * 2 + 1))
    return bn


def _affine(layer):
    """Non-trivial weight and bias (they start as ones and zeros)."""
    with mg.no_grad():
        layer.weight.copy_(mg.tensor(R.standard_normal(layer.weight.shape).astype(np.float32)))
        layer.bias.copy_(mg.tensor(R.standard_normal(layer.bias.shape).astype(np.float32)))
    return layer


# name -> (model factory, example input shape); the batch is dim 0
SPEC = {
    "mlp": (lambda: nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)), (5, 6)),
    "linear_no_bias": (lambda: nn.Sequential(nn.Linear(6, 3, bias=False)), (5, 6)),
    "linear_3d_input": (lambda: dense(nn.Sigmoid()), (4, 3, 6)),
    "relu": (lambda: dense(nn.ReLU()), (5, 6)),
    "relu_inplace_first": (lambda: nn.Sequential(nn.ReLU(inplace=True), nn.Linear(6, 2)), (5, 6)),
    "sigmoid": (lambda: dense(nn.Sigmoid()), (5, 6)),
    "tanh": (lambda: dense(nn.Tanh()), (5, 6)),
    "gelu": (lambda: dense(nn.GELU()), (5, 6)),
    "gelu_tanh": (lambda: dense(nn.GELU(approximate="tanh")), (5, 6)),
    "leaky_relu": (lambda: dense(nn.LeakyReLU(0.2)), (5, 6)),
    "elu": (lambda: dense(nn.ELU(0.7)), (5, 6)),
    "selu": (lambda: dense(nn.SELU()), (5, 6)),
    "celu": (lambda: dense(nn.CELU(1.3)), (5, 6)),
    "softplus": (lambda: dense(nn.Softplus()), (5, 6)),
    "softplus_beta_threshold": (lambda: dense(nn.Softplus(beta=2.0, threshold=1.0)), (5, 6)),
    "softsign": (lambda: dense(nn.Softsign()), (5, 6)),
    "hardtanh": (lambda: dense(nn.Hardtanh(-0.5, 0.8)), (5, 6)),
    "relu6": (lambda: dense(nn.ReLU6()), (5, 6)),
    "hardsigmoid": (lambda: dense(nn.Hardsigmoid()), (5, 6)),
    "hardswish": (lambda: dense(nn.Hardswish()), (5, 6)),
    "silu": (lambda: dense(nn.SiLU()), (5, 6)),
    "mish": (lambda: dense(nn.Mish()), (5, 6)),
    "logsigmoid": (lambda: dense(nn.LogSigmoid()), (5, 6)),
    "threshold": (lambda: dense(nn.Threshold(0.1, -2.0)), (5, 6)),
    "prelu_shared": (lambda: dense(nn.PReLU(init=0.1)), (5, 6)),
    "prelu_per_channel": (lambda: nn.Sequential(nn.PReLU(3, init=0.3)), (5, 3, 4)),
    "glu": (lambda: dense(nn.GLU()), (5, 6)),
    "softmax": (lambda: dense(nn.Softmax(dim=1)), (5, 6)),
    "softmax_implicit_dim": (lambda: dense(nn.Softmax()), (5, 6)),
    "log_softmax": (lambda: dense(nn.LogSoftmax(dim=-1)), (5, 6)),
    "softmin": (lambda: dense(nn.Softmin(dim=1)), (5, 6)),
    "identity": (lambda: dense(nn.Identity()), (5, 6)),
    "dropout_eval": (lambda: dense(nn.Dropout(0.5), nn.ReLU()), (5, 6)),
    "batchnorm": (lambda: dense(_trained_bn(6)), (5, 6)),
    "batchnorm_no_affine": (lambda: dense(_trained_bn(6, affine=False)), (5, 6)),
    "batchnorm_3d": (lambda: nn.Sequential(_trained_bn(3, shape=(8, 3, 4))), (5, 3, 4)),
    "layernorm": (lambda: dense(nn.LayerNorm(6, eps=1e-3)), (5, 6)),
    "layernorm_no_affine": (lambda: dense(nn.LayerNorm(6, elementwise_affine=False)), (5, 6)),
    "layernorm_two_dims": (lambda: nn.Sequential(nn.LayerNorm((3, 4))), (5, 3, 4)),
    "flatten": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(24, 2)), (5, 2, 3, 4)),
    "flatten_inner": (lambda: nn.Sequential(nn.Flatten(2, 3), nn.Linear(12, 2)), (5, 2, 3, 4)),
    "flatten_from_batch": (lambda: nn.Sequential(nn.Flatten(0)), (5, 2, 3)),
    "constant_pad": (lambda: nn.Sequential(nn.ConstantPad1d((1, 2), 0.5)), (5, 3, 4)),
    "zero_pad_2d": (lambda: nn.Sequential(nn.ZeroPad2d(1)), (5, 2, 3, 4)),
    "reflection_pad": (lambda: nn.Sequential(nn.ReflectionPad1d(2)), (5, 3, 4)),
    "replication_pad_2d": (lambda: nn.Sequential(nn.ReplicationPad2d((1, 0, 2, 1))),
                           (5, 2, 3, 4)),
    "conv1d": (lambda: nn.Sequential(nn.Conv1d(3, 4, 3, stride=2, padding=1), nn.ReLU()),
               (5, 3, 9)),
    "conv1d_same_dilated": (lambda: nn.Sequential(nn.Conv1d(3, 4, 4, padding="same",
                                                            dilation=2)), (5, 3, 9)),
    "conv2d": (lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU()), (5, 2, 6, 7)),
    "conv2d_groups_stride": (lambda: nn.Sequential(nn.Conv2d(4, 6, (3, 2), stride=(2, 1),
                                                             padding=(1, 0), groups=2,
                                                             bias=False)), (5, 4, 7, 6)),
    "conv2d_reflect": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1,
                                                       padding_mode="reflect")), (5, 2, 6, 6)),
    "conv2d_replicate": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=(2, 1),
                                                         padding_mode="replicate")),
                         (5, 2, 6, 6)),
    "conv_transpose2d": (lambda: nn.Sequential(nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1,
                                                                  output_padding=1)),
                         (5, 3, 4, 5)),
    "conv_transpose2d_groups": (lambda: nn.Sequential(nn.ConvTranspose2d(4, 6, 2, groups=2,
                                                                         dilation=2)),
                                (5, 4, 3, 3)),
    "max_pool1d": (lambda: nn.Sequential(nn.MaxPool1d(3, 2, padding=1)), (5, 3, 9)),
    "max_pool2d": (lambda: nn.Sequential(nn.MaxPool2d(2)), (5, 3, 6, 7)),
    "max_pool2d_dilated": (lambda: nn.Sequential(nn.MaxPool2d(3, 1, dilation=2, padding=1)),
                           (5, 2, 7, 7)),
    "max_pool2d_ceil": (lambda: nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)), (5, 3, 7, 7)),
    "avg_pool1d": (lambda: nn.Sequential(nn.AvgPool1d(3, 2, padding=1)), (5, 3, 9)),
    "avg_pool2d_exclude_pad": (lambda: nn.Sequential(nn.AvgPool2d(3, 2, padding=1,
                                                                  count_include_pad=False)),
                               (5, 2, 7, 6)),
    "avg_pool2d_ceil_even": (lambda: nn.Sequential(nn.AvgPool2d(2, ceil_mode=True)),
                             (5, 2, 6, 8)),
    "adaptive_avg_pool_global": (lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
                                 (5, 3, 5, 7)),
    "adaptive_avg_pool_divides": (lambda: nn.Sequential(nn.AdaptiveAvgPool2d((2, 3))),
                                  (5, 3, 4, 9)),
    "adaptive_max_pool_global": (lambda: nn.Sequential(nn.AdaptiveMaxPool2d(1)), (5, 3, 5, 7)),
    "adaptive_max_pool_divides": (lambda: nn.Sequential(nn.AdaptiveMaxPool2d((3, 2))),
                                  (5, 2, 6, 8)),
    "upsample_nearest": (lambda: nn.Sequential(nn.Upsample(scale_factor=2)), (5, 2, 3, 4)),
    "upsample_nearest_1d_3x": (lambda: nn.Sequential(nn.Upsample(scale_factor=3)), (5, 2, 7)),
    "upsample_nearest_per_dim": (lambda: nn.Sequential(nn.Upsample(scale_factor=(2, 3))),
                                 (5, 2, 3, 4)),
    "upsample_nearest_size": (lambda: nn.Sequential(nn.Upsample(size=(6, 12))), (5, 2, 3, 4)),
    "upsample_bilinear": (lambda: nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear")),
                          (5, 2, 3, 4)),
    "upsample_bilinear_fraction": (lambda: nn.Sequential(nn.Upsample(scale_factor=1.7,
                                                                     mode="bilinear")),
                                   (5, 2, 5, 4)),
    "upsample_bilinear_align_corners": (lambda: nn.Sequential(nn.Upsample(
        scale_factor=(2.5, 1.5), mode="bilinear", align_corners=True)), (5, 2, 3, 4)),
    "upsample_bilinear_size_down": (lambda: nn.Sequential(nn.Upsample(size=(5, 3),
                                                                      mode="bilinear")),
                                    (5, 2, 8, 7)),
    "upsample_bilinear_recompute": (lambda: nn.Sequential(nn.Upsample(
        scale_factor=1.3, mode="bilinear", recompute_scale_factor=True)), (5, 2, 7, 5)),
    "unet_like": (lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.MaxPool2d(2),
                                        nn.Upsample(scale_factor=2, mode="bilinear"),
                                        nn.Conv2d(4, 1, 1)), (5, 2, 6, 8)),
    "batchnorm2d": (lambda: nn.Sequential(_trained_bn2d(3)), (5, 3, 4, 4)),
    "groupnorm": (lambda: nn.Sequential(_affine(nn.GroupNorm(2, 4))), (5, 4, 3, 3)),
    "groupnorm_no_affine_1d": (lambda: nn.Sequential(nn.GroupNorm(3, 6, affine=False)),
                               (5, 6, 4)),
    "unflatten": (lambda: nn.Sequential(nn.Linear(6, 12), nn.Unflatten(1, (3, 4)),
                                        nn.LayerNorm(4)), (5, 6)),
    "dropout2d_eval": (lambda: nn.Sequential(nn.Dropout2d(0.5)), (5, 2, 3, 3)),
    "small_cnn": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
                                        nn.Dropout(0.25), nn.Flatten(), nn.Linear(36, 5),
                                        nn.LogSoftmax(dim=1)), (5, 1, 8, 8)),
    "nested_sequential": (lambda: nn.Sequential(nn.Sequential(nn.Linear(6, 8), nn.ReLU()),
                                                nn.Sequential(nn.Linear(8, 2))), (5, 6)),
    "module_forward": (SimpleNet, (5, 6)),
    "layer_used_twice": (Twice, (5, 6)),
}


def _export(model, x, **kwargs):
    buffer = io.BytesIO()
    proto = mg.onnx.export(model, x, buffer, **kwargs)
    return proto, buffer.getvalue()


def _check(ort, model, data: bytes, shape: tuple, dtype=np.float32, batches=(1, 7),
           name="input", tol=1e-5):
    """The file and micrograd agree at the example's batch size and at ``batches``."""
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    model.eval()
    for n in (shape[0],) + tuple(batches):
        x = (R.standard_normal((n,) + shape[1:]) * 3).astype(dtype)
        got = session.run(None, {name: x})[0]
        want = model(mg.tensor(x)).detach().numpy()
        assert got.dtype == want.dtype and got.shape == want.shape, n
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=f"batch {n}")


@pytest.mark.parametrize("name", list(SPEC))
def test_exported_models_compute_what_micrograd_computes(name, backend):
    ort = _ort()
    mg.manual_seed(0)
    factory, shape = SPEC[name]
    model = factory()
    x = mg.tensor(R.standard_normal(shape).astype(np.float32))
    _, data = _export(model, x)
    _check(ort, model, data, shape)


def test_float64_models_export_in_float64():
    """(Not GELU: onnxruntime has no float64 Erf; the file is valid ONNX all the same.)"""
    ort = _ort()
    mg.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 8), _trained_bn(8, shape=(16, 8)), nn.Tanh(),
                          nn.LayerNorm(8), nn.Linear(8, 2), nn.LogSoftmax(1)).double()
    x = mg.tensor(R.standard_normal((4, 6)))
    _, data = _export(model, x)
    _check(ort, model, data, (4, 6), dtype=np.float64, tol=1e-10)


def test_names_shapes_and_initializers(tmp_path):
    _ort()
    import onnx
    model = SPEC["layer_used_twice"][0]()
    path = tmp_path / "model.onnx"
    proto = mg.onnx.export(model, mg.randn(3, 6), path, input_names=["features"],
                           output_names=["scores"])
    loaded = onnx.load(str(path))
    assert loaded == proto
    graph = proto.graph
    assert [i.name for i in graph.input] == ["features"]
    assert [o.name for o in graph.output] == ["scores"]
    dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in (graph.input[0], graph.output[0])]
    assert dims == [["batch", 6], ["batch", 6]]
    assert sorted(i.name for i in graph.initializer) == ["fc.bias", "fc.weight_t"]  # once
    assert proto.opset_import[0].version == mg.onnx.OPSET == 17
    fixed = mg.onnx.export(model, mg.randn(3, 6), io.BytesIO(), dynamic_batch=False)
    assert fixed.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 3


def test_flatten_from_the_batch_leaves_the_output_length_open():
    _ort()
    proto, _ = _export(nn.Sequential(nn.Flatten(0)), mg.randn(5, 2, 3))
    dim = proto.graph.output[0].type.tensor_type.shape.dim[0]
    assert not dim.dim_param and not dim.dim_value


def test_export_runs_in_eval_mode_and_restores_the_modes():
    ort = _ort()
    mg.manual_seed(3)
    model = dense(nn.Dropout(0.9), _trained_bn(6))
    model.train()
    model[2].eval()  # a mixed state must come back as it was
    x = mg.tensor(R.standard_normal((5, 6)).astype(np.float32))
    before = x.numpy().copy()
    _, data = _export(model, x)
    assert [m.training for m in model.modules()] == [True, True, True, False]
    np.testing.assert_array_equal(x.numpy(), before)
    _check(ort, model, data, (5, 6))  # Dropout as the identity, BatchNorm's running statistics


def test_the_callers_input_is_not_changed_by_an_inplace_first_layer():
    _ort()
    x = mg.tensor(R.standard_normal((5, 6)).astype(np.float32))
    before = x.numpy().copy()
    _export(SPEC["relu_inplace_first"][0](), x)
    np.testing.assert_array_equal(x.numpy(), before)


# ---- layers of several tensors: embeddings, recurrent layers, attention ------------------------
class Call(nn.Module):
    """``layer(*inputs, **kwargs)``: a layer called with several tensors or with arguments."""

    def __init__(self, layer, **kwargs):
        super().__init__()
        self.layer, self.kwargs = layer, kwargs

    def forward(self, *inputs):
        return self.layer(*inputs, **self.kwargs)


class Pair(nn.Module):
    """Two inputs, two outputs."""

    def __init__(self):
        super().__init__()
        self.fa, self.fb = nn.Linear(6, 2), nn.Linear(6, 3)

    def forward(self, a, b):
        return self.fa(a), self.fb(b)


class LSTMHead(nn.Module):
    """The usual sequence model: an LSTM's output sequence into a Linear."""

    def __init__(self):
        super().__init__()
        self.lstm, self.fc = nn.LSTM(4, 6, batch_first=True), nn.Linear(6, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out)


class EncoderDecoder(nn.Module):
    """One recurrent layer's final state as the next one's initial state."""

    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = nn.GRU(4, 5, num_layers=2), nn.GRU(3, 5, num_layers=2)

    def forward(self, source, target):
        _, h = self.encoder(source)
        return self.decoder(target, h)[0]


class SelfAttention(nn.Module):
    def __init__(self, **kwargs):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True, **kwargs)

    def forward(self, x):
        return self.attn(x, x, x)


class KeywordAttention(nn.Module):
    """The layer's tensors passed by keyword."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        return self.attn(query=x, key=x, value=x, need_weights=False)[0]


class WeightedBags(nn.Module):
    """An EmbeddingBag with per_sample_weights, a second input passed by keyword."""

    def __init__(self):
        super().__init__()
        self.bags = nn.EmbeddingBag(10, 4, mode="sum")

    def forward(self, x, weights):
        return self.bags(x, per_sample_weights=weights)


class BagsOffsets(nn.Module):
    """An EmbeddingBag of a 1-D input with offsets (and per_sample_weights)."""

    def __init__(self, **kwargs):
        super().__init__()
        self.bags = nn.EmbeddingBag(10, 4, **kwargs)

    def forward(self, x, offsets, per_sample_weights=None):
        return self.bags(x, offsets, per_sample_weights=per_sample_weights)


def _offsets(bags, length):
    """Sorted bag starts from 0, some bags empty (repeated starts), one running to the end."""
    inner = np.sort(R.integers(0, length + 1, bags - 1)) if bags > 1 else np.zeros(0, int)
    return np.concatenate([[0], inner]).astype(np.int64)


class PoolUnpool(nn.Module):
    """MaxPool2d's indices into MaxUnpool2d, at the input's size or the default one."""

    def __init__(self, kernel, stride, padding=0, same_size=True):
        super().__init__()
        self.pool = nn.MaxPool2d(kernel, stride, padding, return_indices=True)
        self.unpool = nn.MaxUnpool2d(kernel, stride, padding)
        self.same_size = same_size

    def forward(self, x):
        values, indices = self.pool(x)
        size = x.shape[-2:] if self.same_size else None
        return self.unpool(values, indices, output_size=size), indices


class Masked(nn.Module):
    """An attention (self-attention) or encoder layer called with masks, the model's inputs
    after x, as ``mask_args``, and with ``kwargs``."""

    def __init__(self, layer, *mask_args, **kwargs):
        super().__init__()
        self.layer, self.mask_args, self.kwargs = layer, mask_args, kwargs

    def forward(self, x, *masks):
        kwargs = dict(zip(self.mask_args, masks), **self.kwargs)
        if isinstance(self.layer, nn.MultiheadAttention):
            return self.layer(x, x, x, **kwargs)
        return self.layer(x, **kwargs)


def floats(*shape):
    return (R.standard_normal(shape) * 2).astype(np.float32)


def indices(*shape, dtype=np.int64):
    return R.integers(0, 10, shape).astype(dtype)


BATCH_1 = {"input": {1: "batch"}}  # sequence-first: the batch is dim 1
# name -> (model factory, inputs at batch size n, export keyword arguments)
MULTI = {
    "pair": (Pair, lambda n: (floats(n, 6), floats(n, 6)), {}),
    "embedding": (lambda: nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2)),
                  lambda n: (indices(n, 3),), {}),
    "embedding_int32_padding": (lambda: nn.Sequential(nn.Embedding(10, 4, padding_idx=0)),
                                lambda n: (indices(n, 3, dtype=np.int32),), {}),
    "embedding_bag_mean": (lambda: nn.Sequential(nn.EmbeddingBag(10, 4), nn.ReLU()),
                           lambda n: (indices(n, 3),), {}),
    "embedding_bag_sum_padding": (lambda: nn.Sequential(nn.EmbeddingBag(10, 4, mode="sum",
                                                                        padding_idx=2)),
                                  lambda n: (np.concatenate([indices(n, 3), [[2, 2, 2]]]),),
                                  {}),
    "embedding_bag_mean_padding": (lambda: nn.Sequential(nn.EmbeddingBag(10, 4, padding_idx=3)),
                                   lambda n: (np.concatenate([indices(n, 4), [[3, 3, 3, 1]]]),),
                                   {}),
    "embedding_bag_max": (lambda: nn.Sequential(nn.EmbeddingBag(10, 4, mode="max")),
                          lambda n: (indices(n, 3),), {}),
    "embedding_bag_max_padding_int32": (lambda: nn.Sequential(nn.EmbeddingBag(10, 4, mode="max",
                                                                              padding_idx=1)),
                                        lambda n: (np.concatenate([indices(n, 3, dtype=np.int32),
                                                                   [[1, 1, 1]]]).astype(np.int32),),
                                        {}),
    "embedding_bag_offsets_sum_weights": (lambda: BagsOffsets(mode="sum"),
                                          lambda n: (indices(4 * n), _offsets(n, 4 * n),
                                                     floats(4 * n)),
                                          {"dynamic_axes": {"input_0": [0], "input_1": [0],
                                                            "input_2": [0]}}),
    "embedding_bag_offsets_mean_padding": (lambda: BagsOffsets(padding_idx=3),
                                           lambda n: (indices(4 * n), _offsets(n, 4 * n)),
                                           {"dynamic_axes": {"input_0": [0], "input_1": [0]}}),
    "embedding_bag_offsets_max_last_offset_int32": (
        lambda: BagsOffsets(mode="max", include_last_offset=True, padding_idx=1),
        lambda n: (indices(4 * n, dtype=np.int32),
                   np.append(_offsets(n, 4 * n), 4 * n).astype(np.int32)),
        {"dynamic_axes": {"input_0": [0], "input_1": [0]}}),
    "embedding_bag_per_sample_weights": (WeightedBags, lambda n: (indices(n, 3), floats(n, 3)),
                                         {}),
    "rnn_tanh": (lambda: nn.RNN(4, 5), lambda n: (floats(7, n, 4),), {"dynamic_axes": BATCH_1}),
    "rnn_relu_3_layers": (lambda: nn.RNN(4, 5, num_layers=3, nonlinearity="relu"),
                          lambda n: (floats(7, n, 4),), {"dynamic_axes": BATCH_1}),
    "rnn_bidirectional_batch_first": (lambda: nn.RNN(4, 5, bidirectional=True,
                                                     batch_first=True),
                                      lambda n: (floats(n, 6, 4),), {}),
    "rnn_initial_state": (lambda: Call(nn.RNN(4, 5, num_layers=2, bidirectional=True)),
                          lambda n: (floats(7, n, 4), floats(4, n, 5)),
                          {"dynamic_axes": {"input_0": [1], "input_1": [1]}}),
    "lstm": (lambda: nn.LSTM(4, 5), lambda n: (floats(7, n, 4),), {"dynamic_axes": BATCH_1}),
    "lstm_2_layers_bidirectional": (lambda: nn.LSTM(4, 5, num_layers=2, bidirectional=True),
                                    lambda n: (floats(6, n, 4),), {"dynamic_axes": BATCH_1}),
    "lstm_batch_first_no_bias": (lambda: nn.LSTM(4, 5, num_layers=2, bias=False,
                                                 batch_first=True),
                                 lambda n: (floats(n, 6, 4),), {}),
    "lstm_initial_states": (lambda: Call(nn.LSTM(4, 5, num_layers=2, bidirectional=True)),
                            lambda n: (floats(7, n, 4), (floats(4, n, 5), floats(4, n, 5))),
                            {"dynamic_axes": {"input_0": [1], "input_1": [1], "input_2": [1]}}),
    "lstm_then_linear": (LSTMHead, lambda n: (floats(n, 6, 4),), {}),
    "lstm_unbatched_states": (lambda: Call(nn.LSTM(4, 5, num_layers=2, batch_first=True)),
                              lambda n: (floats(n, 4), (floats(2, 5), floats(2, 5))),
                              {"dynamic_axes": {"input_0": {0: "time"}}}),
    "gru": (lambda: nn.GRU(4, 5), lambda n: (floats(7, n, 4),), {"dynamic_axes": BATCH_1}),
    "gru_unbatched_bidirectional": (lambda: nn.GRU(4, 5, bidirectional=True),
                                    lambda n: (floats(n, 4),), {"dynamic_axes": {"input": [0]}}),
    "rnn_unbatched_state": (lambda: Call(nn.RNN(4, 5)), lambda n: (floats(n, 4), floats(1, 5)),
                            {"dynamic_axes": {"input_0": [0]}}),
    "gru_2_layers_bidirectional_batch_first": (lambda: nn.GRU(4, 5, num_layers=2,
                                                              bidirectional=True,
                                                              batch_first=True),
                                               lambda n: (floats(n, 6, 4),), {}),
    "gru_initial_state_no_bias": (lambda: Call(nn.GRU(4, 5, bias=False, batch_first=True)),
                                  lambda n: (floats(n, 6, 4), floats(1, n, 5)),
                                  {"dynamic_axes": {"input_0": [0], "input_1": [1]}}),
    "gru_state_into_gru": (EncoderDecoder, lambda n: (floats(6, n, 4), floats(5, n, 3)),
                           {"dynamic_axes": {"input_0": [1], "input_1": [1]}}),
    "max_pool_indices_1d": (lambda: nn.MaxPool1d(3, 2, padding=1, return_indices=True),
                            lambda n: (floats(n, 3, 9),), {}),
    "max_pool_indices_unpool": (lambda: PoolUnpool(2, 2), lambda n: (floats(n, 2, 7, 6),), {}),
    "max_pool_indices_unpool_padded_default_size": (lambda: PoolUnpool(3, 2, 1, False),
                                                    lambda n: (floats(n, 3, 7, 7),), {}),
    "cosine_similarity": (lambda: Call(nn.CosineSimilarity()),
                          lambda n: (floats(n, 6), floats(n, 6)), {}),
    "cosine_similarity_dim_eps": (lambda: Call(nn.CosineSimilarity(dim=-1, eps=0.5)),
                                  lambda n: (floats(n, 3, 4) * 0.1, floats(n, 3, 4)), {}),
    "pairwise_distance": (lambda: Call(nn.PairwiseDistance()),
                          lambda n: (floats(n, 6), floats(n, 6)), {}),
    "pairwise_distance_p1_keepdim_broadcast": (lambda: Call(nn.PairwiseDistance(1.0,
                                                                                keepdim=True)),
                                               lambda n: (floats(n, 6), floats(1, 6)),
                                               {"dynamic_axes": {"input_0": [0]}}),
    "pairwise_distance_p3": (lambda: Call(nn.PairwiseDistance(3.0)),
                             lambda n: (floats(n, 2, 6), floats(n, 2, 6)), {}),
    "pairwise_distance_inf": (lambda: Call(nn.PairwiseDistance(float("inf"))),
                              lambda n: (floats(n, 6), floats(n, 6)), {}),
    "pairwise_distance_0": (lambda: Call(nn.PairwiseDistance(0.0, eps=0.0)),
                            lambda n: (floats(n, 6), np.round(floats(n, 6))), {}),
    "rnn_cell_relu": (lambda: nn.Sequential(nn.RNNCell(4, 5, nonlinearity="relu")),
                      lambda n: (floats(n, 4),), {}),
    "rnn_cell_state": (lambda: Call(nn.RNNCell(4, 5, bias=False)),
                       lambda n: (floats(n, 4), floats(n, 5)), {}),
    "lstm_cell": (lambda: Call(nn.LSTMCell(4, 5)), lambda n: (floats(n, 4),), {}),
    "lstm_cell_states": (lambda: Call(nn.LSTMCell(4, 5)),
                         lambda n: (floats(n, 4), (floats(n, 5), floats(n, 5))), {}),
    "lstm_cell_unbatched": (lambda: Call(nn.LSTMCell(4, 5, bias=False)),
                            lambda n: (floats(4), (floats(5), floats(5))),
                            {"dynamic_batch": False}),
    "gru_cell": (lambda: nn.Sequential(nn.GRUCell(4, 5), nn.Linear(5, 2)),
                 lambda n: (floats(n, 4),), {}),
    "gru_cell_state_unbatched": (lambda: Call(nn.GRUCell(4, 5)),
                                 lambda n: (floats(4), floats(5)), {"dynamic_batch": False}),
    "mha_self_attention": (lambda: nn.Sequential(SelfAttention()), lambda n: (floats(n, 5, 8),),
                           {}),
    "mha_cross_attention_seq_first": (lambda: Call(nn.MultiheadAttention(8, 2)),
                                      lambda n: (floats(5, n, 8), floats(6, n, 8),
                                                 floats(6, n, 8)),
                                      {"dynamic_axes": {"input_0": [1], "input_1": [1],
                                                        "input_2": [1]}}),
    "mha_keyword_arguments": (KeywordAttention, lambda n: (floats(n, 5, 8),), {}),
    "mha_kdim_vdim_no_bias": (lambda: Call(nn.MultiheadAttention(8, 4, bias=False, kdim=3,
                                                                 vdim=5, batch_first=True)),
                              lambda n: (floats(n, 5, 8), floats(n, 6, 3), floats(n, 6, 5)), {}),
    "mha_per_head_weights": (lambda: Call(nn.MultiheadAttention(8, 4, batch_first=True),
                                          average_attn_weights=False),
                             lambda n: (floats(n, 5, 8),) * 3, {}),
    "mha_without_weights": (lambda: Call(nn.MultiheadAttention(8, 2, batch_first=True),
                                         need_weights=False),
                            lambda n: (floats(n, 5, 8),) * 3, {}),
    "mha_bias_kv_zero_attn": (lambda: nn.Sequential(SelfAttention(add_bias_kv=True,
                                                                   add_zero_attn=True)),
                              lambda n: (floats(n, 5, 8),), {}),
    "mha_zero_attn_seq_first": (lambda: Call(nn.MultiheadAttention(8, 2, add_zero_attn=True)),
                                lambda n: (floats(5, n, 8), floats(6, n, 8), floats(6, n, 8)),
                                {"dynamic_axes": {"input_0": [1], "input_1": [1],
                                                  "input_2": [1]}}),
    "mha_unbatched": (lambda: Call(nn.MultiheadAttention(8, 2, add_bias_kv=True),
                                   average_attn_weights=False),
                      lambda n: (floats(n, 8), floats(4, 8), floats(4, 8)),
                      {"dynamic_axes": {"input_0": [0]}}),
    "encoder_layer": (lambda: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                      lambda n: (floats(n, 5, 8),), {}),
    "encoder_layer_norm_first_gelu_seq_first": (
        lambda: nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True),
        lambda n: (floats(5, n, 8),), {"dynamic_axes": BATCH_1}),
    "encoder_layer_activation_module_no_bias": (
        lambda: nn.TransformerEncoderLayer(8, 4, 16, activation=nn.GELU(approximate="tanh"),
                                           batch_first=True, bias=False),
        lambda n: (floats(n, 5, 8),), {}),
    "encoder_layer_unbatched": (lambda: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                                lambda n: (floats(n, 8),), {"dynamic_axes": {"input": [0]}}),
    "encoder_2_layers_norm": (
        lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2,
                                      norm=nn.LayerNorm(8), enable_nested_tensor=False),
        lambda n: (floats(n, 5, 8),), {}),
    "encoder_norm_first_then_linear": (
        lambda: nn.Sequential(nn.TransformerEncoder(
            nn.TransformerEncoderLayer(8, 2, 16, norm_first=True, batch_first=True), 2,
            enable_nested_tensor=False), nn.Linear(8, 3)),
        lambda n: (floats(n, 5, 8),), {}),
}


def padding(n, length, dead=True, at_end=True):
    """A bool key padding mask (n, length), True where padded: sample 0 all padding when
    ``dead`` (its queries see no key), the others a random length of real keys, then padding
    (or, unless ``at_end``, padding first in the last sample)."""
    real = R.integers(1, length + 1, n)
    mask = np.arange(length)[None, :] >= real[:, None]
    if dead:
        mask[0] = True
    if not at_end and n > 1:
        mask[-1] = mask[-1][::-1]
    return mask


def causal(length, dtype=np.float32):
    return np.triu(np.full((length, length), -np.inf), 1).astype(dtype)


def dead_rows(length, source, heads=1, n=1):
    """A float attention mask (n * heads, length, source) or (length, source): row 1 forbids
    every key, the others a random few."""
    mask = np.where(R.random((n * heads, length, source)) < 0.3, -np.inf, 0.0)
    mask[..., 0] = 0.0
    mask[..., 1, :] = -np.inf
    return mask.astype(np.float32) if heads * n > 1 else mask[0].astype(np.float32)


BATCH_0 = {"input_0": [0], "input_1": [0]}
# name -> (model factory, inputs at batch n, export keyword arguments); micrograd computes
# without grad, as in inference, which is what the file writes for the masked rows
MASKED = {
    "mha_padding_fast_path_nan": (lambda: Masked(nn.MultiheadAttention(8, 2, batch_first=True),
                                                 "key_padding_mask", need_weights=False),
                                  lambda n: (floats(n, 5, 8), padding(n, 5)), {}),
    "mha_padding_need_weights_nan": (lambda: Masked(nn.MultiheadAttention(8, 2),
                                                    "key_padding_mask"),
                                     lambda n: (floats(5, n, 8), padding(n, 5)),
                                     {"dynamic_axes": {"input_0": [1], "input_1": [0]}}),
    "mha_padding_sdpa_zero_weights": (lambda: Masked(nn.MultiheadAttention(8, 2),
                                                     "key_padding_mask", need_weights=False),
                                      lambda n: (floats(5, n, 8), padding(n, 5)),
                                      {"dynamic_axes": {"input_0": [1], "input_1": [0]}}),
    "mha_float_mask_zero_weights": (lambda: Masked(nn.MultiheadAttention(8, 4, batch_first=True),
                                                   "attn_mask", need_weights=False),
                                    lambda n: (floats(n, 5, 8), dead_rows(5, 5)),
                                    {"dynamic_axes": {"input_0": [0]}}),
    "mha_3d_mask_and_padding_per_head": (
        lambda: Masked(nn.MultiheadAttention(8, 2, batch_first=True), "attn_mask",
                       "key_padding_mask", average_attn_weights=False),
        lambda n: (floats(n, 5, 8), dead_rows(5, 5, heads=2, n=n) > -1, padding(n, 5, False)),
        {"dynamic_axes": {"input_0": [0], "input_1": [0], "input_2": [0]}}),
    "mha_masks_bias_kv_zero_attn": (
        lambda: Masked(nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True),
                       "attn_mask", "key_padding_mask", need_weights=False),
        lambda n: (floats(5, n, 8), causal(5) != 0, padding(n, 5)),
        {"dynamic_axes": {"input_0": [1], "input_2": [0]}}),
    "mha_unbatched_padding": (lambda: Masked(nn.MultiheadAttention(8, 2), "key_padding_mask"),
                              lambda n: (floats(n, 8), padding(1, n, dead=False)[0]),
                              {"dynamic_axes": BATCH_0}),
    "encoder_layer_padding_fast_path_nan": (
        lambda: Masked(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                       "src_key_padding_mask"),
        lambda n: (floats(n, 5, 8), padding(n, 5)), {}),
    "encoder_layer_padding_seq_first": (
        lambda: Masked(nn.TransformerEncoderLayer(8, 2, 16), "src_key_padding_mask"),
        lambda n: (floats(5, n, 8), padding(n, 5)),
        {"dynamic_axes": {"input_0": [1], "input_1": [0]}}),
    "encoder_layer_causal_norm_first": (
        lambda: Masked(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=True),
                       "src_mask"),
        lambda n: (floats(n, 5, 8), causal(5) != 0), {"dynamic_axes": {"input_0": [0]}}),
    "encoder_layer_unbatched_padding": (
        lambda: Masked(nn.TransformerEncoderLayer(8, 2, 16), "src_key_padding_mask"),
        lambda n: (floats(n, 8), padding(1, n, dead=False)[0]), {"dynamic_axes": BATCH_0}),
    "encoder_nested_padding": (
        lambda: Masked(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16,
                                                                        batch_first=True), 2,
                                             norm=nn.LayerNorm(8)), "src_key_padding_mask"),
        lambda n: (floats(n, 6, 8), padding(n, 6, dead=False)), {}),
    "encoder_padding_not_at_the_end": (
        lambda: Masked(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16,
                                                                        batch_first=True), 2),
                       "src_key_padding_mask"),
        lambda n: (floats(n, 6, 8), padding(n, 6, dead=False, at_end=False)), {}),
    "encoder_causal": (
        lambda: Masked(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16,
                                                                        batch_first=True), 2,
                                             enable_nested_tensor=False), "mask"),
        lambda n: (floats(n, 6, 8), causal(6)), {"dynamic_axes": {"input_0": [0]}}),
    "encoder_causal_and_padding": (
        lambda: Masked(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16,
                                                                        batch_first=True), 2,
                                             enable_nested_tensor=False),
                       "mask", "src_key_padding_mask"),
        lambda n: (floats(n, 6, 8), causal(6) != 0, padding(n, 6)),
        {"dynamic_axes": {"input_0": [0], "input_2": [0]}}),
}


@pytest.mark.parametrize("name", list(MASKED))
def test_masked_attention_computes_what_micrograd_computes_in_inference(name):
    """Masks are graph inputs; a query whose every key is masked gets what micrograd (and
    PyTorch) give in inference: NaN on the fused paths, zero weights on the others."""
    ort = _ort()
    mg.manual_seed(0)
    factory, make, kwargs = MASKED[name]
    model = factory()
    _, data = _export(model, mg.onnx._map(mg.tensor, make(3)), **kwargs)
    model.eval()
    for n in (3, 1, 6):
        with mg.no_grad():
            got, want = _run_both(ort, model, data, make(n))
        assert len(got) == len(want), n
        for a, b in zip(got, want):
            assert a.shape == b.shape, n
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=f"batch {n}")


def _run_both(ort, model, data: bytes, inputs: tuple) -> tuple:
    """(onnxruntime's outputs, micrograd's non-None outputs) for the same inputs."""
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    flat = mg.onnx._leaves(inputs)
    got = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), flat)})
    args = mg.onnx._map(mg.tensor, inputs)
    want = [t.detach().numpy() for t in mg.onnx._leaves(model(*args)) if t is not None]
    return got, want


@pytest.mark.parametrize("name", list(MULTI))
def test_layers_of_several_tensors_compute_what_micrograd_computes(name, backend):
    """Exported at batch 3, run at batches 3, 1 and 6 (the dynamic dim), every output."""
    ort = _ort()
    mg.manual_seed(0)
    factory, make, kwargs = MULTI[name]
    model = factory()
    _, data = _export(model, mg.onnx._map(mg.tensor, make(3)), **kwargs)
    model.eval()
    for n in (3, 1, 6):
        got, want = _run_both(ort, model, data, make(n))
        assert len(got) == len(want), n
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and a.shape == b.shape, n
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=f"batch {n}")


# the converters whose operators changed between opsets (LayerNormalization from 17, the
# reductions' axes and Split's num_outputs from 18), and a few whole models
ACROSS_OPSETS = ["layernorm", "layernorm_two_dims", "layernorm_no_affine", "glu", "hardswish",
                 "batchnorm2d", "groupnorm", "small_cnn", "module_forward",
                 "upsample_nearest_size", "upsample_bilinear_size_down", "unet_like",
                 "adaptive_max_pool_divides"]
MULTI_ACROSS_OPSETS = ["embedding_bag_mean_padding", "embedding_bag_max", "mha_self_attention",
                       "mha_bias_kv_zero_attn", "encoder_layer_norm_first_gelu_seq_first",
                       "encoder_2_layers_norm", "lstm_initial_states", "gru",
                       "cosine_similarity", "pairwise_distance_p3", "lstm_cell",
                       "mha_3d_mask_and_padding_per_head"]
CIRCULAR = {  # circular padding is Pad's 'wrap' mode, from opset 19
    "circular_pad_1d": (lambda: nn.Sequential(nn.CircularPad1d((2, 1))), (5, 3, 6)),
    "circular_pad_2d": (lambda: nn.Sequential(nn.CircularPad2d((1, 2, 0, 1))), (5, 2, 4, 5)),
    "circular_conv": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1,
                                                      padding_mode="circular")), (5, 2, 5, 6)),
}


@pytest.mark.parametrize("opset", [14, 16, 18, 21])
def test_every_opset_computes_the_same(opset):
    ort = _ort()
    for name in ACROSS_OPSETS:
        mg.manual_seed(0)
        factory, shape = SPEC[name]
        model = factory()
        proto, data = _export(model, mg.tensor(R.standard_normal(shape).astype(np.float32)),
                              opset=opset)
        assert proto.opset_import[0].version == opset
        assert proto.ir_version == mg.onnx.OPSETS[opset]
        layer_norm = any(n.op_type == "LayerNormalization" for n in proto.graph.node)
        assert layer_norm == (opset >= 17 and name in ("layernorm", "layernorm_two_dims",
                                                       "layernorm_no_affine", "module_forward"))
        _check(ort, model, data, shape)
    for name in MULTI_ACROSS_OPSETS:
        mg.manual_seed(0)
        factory, make, kwargs = {**MULTI, **MASKED}[name]
        model = factory()
        _, data = _export(model, mg.onnx._map(mg.tensor, make(3)), opset=opset, **kwargs)
        model.eval()
        with mg.no_grad():
            got, want = _run_both(ort, model, data, make(4))
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("opset", [19, 21])
@pytest.mark.parametrize("name", list(CIRCULAR))
def test_circular_padding_exports_from_opset_19(name, opset):
    ort = _ort()
    mg.manual_seed(0)
    factory, shape = CIRCULAR[name]
    model = factory()
    _, data = _export(model, mg.tensor(R.standard_normal(shape).astype(np.float32)),
                      opset=opset)
    _check(ort, model, data, shape)


def test_graph_outputs_mirror_what_the_layer_returns():
    """An LSTM's (output, (h_n, c_n)) is three graph outputs; an attention's (output, None)
    one; the shapes are what shape inference derives, the batch dim symbolic."""
    _ort()
    lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True)
    proto, _ = _export(lstm, mg.randn(3, 7, 4), output_names=["y", "h", "c"])
    dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in proto.graph.output]
    assert [o.name for o in proto.graph.output] == ["y", "h", "c"]
    assert dims[0] == ["batch", 7, 5] and dims[1][0::2] == [2, 5] == dims[2][0::2]
    attention = Call(nn.MultiheadAttention(8, 2, batch_first=True), need_weights=False)
    proto, _ = _export(attention, (mg.randn(3, 5, 8),) * 3)
    assert [o.name for o in proto.graph.output] == ["output"]
    assert [i.name for i in proto.graph.input] == ["input_0", "input_1", "input_2"]
    names = {i.name for i in proto.graph.initializer}
    assert {"layer.in_proj_weight_q_t", "layer.out_proj.weight_t"} <= names


def test_a_sequence_length_may_be_dynamic_too():
    ort = _ort()
    mg.manual_seed(4)
    model = nn.GRU(4, 5, num_layers=2, bidirectional=True)
    _, data = _export(model, mg.tensor(floats(7, 3, 4)),
                      dynamic_axes={"input": {0: "time", 1: "batch"}})
    for steps, n in ((7, 3), (2, 5), (11, 1)):
        got, want = _run_both(ort, model, data, (floats(steps, n, 4),))
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def _torch_pair(torch, build):
    """The same layer in micrograd and in torch, torch's weights micrograd's."""
    mg.manual_seed(5)
    ours, theirs = build(nn), build(torch.nn)
    theirs.load_state_dict(mg.interop.to_torch_state_dict(ours))
    return ours.eval(), theirs.eval()


TORCH = {  # name -> (layer built from an nn namespace, inputs at batch n): torch's numbers
    "rnn_relu_bidirectional": (lambda ns: ns.RNN(4, 5, 2, nonlinearity="relu",
                                                 bidirectional=True),
                               lambda n: (floats(7, n, 4),)),
    "lstm_states": (lambda ns: ns.LSTM(4, 5, num_layers=2, bidirectional=True,
                                       batch_first=True),
                    lambda n: (floats(n, 6, 4), (floats(4, n, 5), floats(4, n, 5)))),
    "cosine_similarity": (lambda ns: ns.CosineSimilarity(dim=2),
                          lambda n: (floats(n, 3, 4), floats(n, 3, 4))),
    "pairwise_distance": (lambda ns: ns.PairwiseDistance(1.5, keepdim=True),
                          lambda n: (floats(n, 4), floats(n, 4))),
    "upsample_bilinear": (lambda ns: ns.Upsample(scale_factor=1.7, mode="bilinear"),
                          lambda n: (floats(n, 2, 5, 4),)),
    "upsample_nearest_size": (lambda ns: ns.Upsample(size=(10, 12)),
                              lambda n: (floats(n, 2, 5, 4),)),
    "lstm_cell": (lambda ns: ns.LSTMCell(4, 5), lambda n: (floats(n, 4), (floats(n, 5),
                                                                      floats(n, 5)))),
    "gru_cell": (lambda ns: ns.GRUCell(4, 5), lambda n: (floats(n, 4), floats(n, 5))),
    "gru_no_bias": (lambda ns: ns.GRU(4, 5, num_layers=2, bias=False),
                    lambda n: (floats(6, n, 4), floats(2, n, 5))),
    "mha_cross": (lambda ns: ns.MultiheadAttention(8, 2, kdim=3, vdim=5),
                  lambda n: (floats(5, n, 8), floats(6, n, 3), floats(6, n, 5))),
    "embedding_bag_offsets_max": (lambda ns: ns.EmbeddingBag(10, 4, mode="max", padding_idx=3),
                                  lambda n: (indices(12), np.array([0, 3, 3, 7]))),
    "mha_padding": (lambda ns: ns.MultiheadAttention(8, 2, batch_first=True),
                    lambda n: (floats(n, 5, 8), floats(n, 6, 8), floats(n, 6, 8),
                               padding(n, 6, dead=False))),
    "encoder_layer_causal": (lambda ns: ns.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                             lambda n: (floats(n, 5, 8), causal(5))),
    "lstm_unbatched": (lambda ns: ns.LSTM(4, 5, num_layers=2, bidirectional=True),
                       lambda n: (floats(6, 4),)),
    "mha_bias_kv_zero_attn": (lambda ns: ns.MultiheadAttention(8, 2, add_bias_kv=True,
                                                               add_zero_attn=True),
                              lambda n: (floats(5, n, 8), floats(6, n, 8), floats(6, n, 8))),
    "encoder": (lambda ns: ns.TransformerEncoder(
        ns.TransformerEncoderLayer(8, 2, 16, activation="gelu", batch_first=True), 2,
        norm=ns.LayerNorm(8), enable_nested_tensor=False), lambda n: (floats(n, 5, 8),)),
    "encoder_layer_norm_first": (lambda ns: ns.TransformerEncoderLayer(8, 4, 16,
                                                                       norm_first=True),
                                 lambda n: (floats(5, n, 8),)),
}


@pytest.mark.parametrize("name", list(TORCH))
def test_the_file_computes_what_torch_computes(name):
    """The gate reordering and the attention decomposition against PyTorch itself: torch's
    layer with the micrograd layer's weights, on the same inputs as the exported file."""
    ort = _ort()
    torch = pytest.importorskip("torch", reason="PyTorch is the reference here")
    build, make = TORCH[name]
    ours, theirs = _torch_pair(torch, build)
    inputs = make(3)
    _, data = _export(ours, mg.onnx._map(mg.tensor, inputs), dynamic_batch=False)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: a for i, a in zip(session.get_inputs(),
                                                       mg.onnx._leaves(inputs))})
    with torch.no_grad():
        want = [t.numpy() for t in mg.onnx._leaves(theirs(*mg.onnx._map(torch.from_numpy,
                                                                         inputs)))
                if t is not None]
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


@pytest.mark.filterwarnings("ignore")  # the TorchScript exporter's deprecation and LSTM notes
@pytest.mark.parametrize("name", ["rnn_relu_bidirectional", "lstm_states", "gru_no_bias",
                                  "mha_cross", "gru_cell", "upsample_bilinear"])
def test_torch_onnx_export_of_the_same_layer_gives_the_same_numbers(name):
    """The file torch.onnx.export writes for torch's layer (its TorchScript exporter) and ours
    for micrograd's, with the same weights, agree in onnxruntime."""
    ort = _ort()
    torch = pytest.importorskip("torch", reason="PyTorch writes the reference file")
    build, make = TORCH[name]
    ours, theirs = _torch_pair(torch, build)
    inputs = make(3)
    flat = mg.onnx._leaves(inputs)
    _, data = _export(ours, mg.onnx._map(mg.tensor, inputs), dynamic_batch=False)
    theirs_file = io.BytesIO()
    torch.onnx.export(theirs, tuple(mg.onnx._map(torch.from_numpy, inputs)), theirs_file,
                      dynamo=False, opset_version=17)
    results = []
    for blob in (data, theirs_file.getvalue()):
        session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
        results.append(session.run(None, {i.name: a for i, a in zip(session.get_inputs(),
                                                                    flat)}))
    assert len(results[0]) == len(results[1])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


# ---- refusals ------------------------------------------------------------------------------------
class Scale(nn.Module):
    def forward(self, x):
        return x * 2


class MyLinear(nn.Linear):
    def forward(self, x):
        return super().forward(x) * 2


class FunctionalNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 6), nn.Linear(6, 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class TailNet(FunctionalNet):
    def forward(self, x):
        return self.fc2(self.fc1(x)) + 1


class OwnParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 2)
        self.scale = nn.Parameter(mg.ones(2))

    def forward(self, x):
        return self.fc(x) * self.scale


REFUSED = {  # name -> (model, input shape, exception, message)
    "unknown_layer": (lambda: nn.Sequential(nn.Linear(6, 6), Scale()), (5, 6),
                      NotImplementedError, r"layer '1' \(Scale\) is not supported.*Linear"),
    "subclass_with_own_forward": (lambda: nn.Sequential(MyLinear(6, 2)), (5, 6),
                                  NotImplementedError, r"layer '0' \(MyLinear\) is not supported"),
    "functional_between_layers": (FunctionalNet, (5, 6), NotImplementedError,
                                  r"layer 'fc2' \(Linear\) reads a tensor no layer made: "
                                  r"FunctionalNet.forward computes with operations outside"),
    "op_after_the_last_layer": (TailNet, (5, 6), NotImplementedError,
                                "the output is not what a layer returned"),
    "container_with_parameters": (OwnParameter, (5, 6), NotImplementedError,
                                  r"'<model>' \(OwnParameter\) has parameters or buffers of "
                                  "its own"),
    "batchnorm_batch_statistics": (lambda: dense(nn.BatchNorm1d(6, track_running_stats=False)),
                                   (5, 6), NotImplementedError,
                                   r"layer '1' \(BatchNorm1d\) cannot be exported: without "
                                   r"running statistics"),
    "circular_pad": (lambda: nn.Sequential(nn.CircularPad1d(1)), (5, 3, 4), NotImplementedError,
                     r"\(CircularPad1d\) cannot be exported: circular padding needs ONNX "
                     r"opset 19"),
    "circular_conv": (lambda: nn.Sequential(nn.Conv1d(3, 2, 3, padding=1,
                                                      padding_mode="circular")), (5, 3, 6),
                      NotImplementedError, r"\(Conv1d\) cannot be exported: circular padding "
                                           r"needs ONNX opset 19 \(this export writes opset 17; "
                                           r"pass opset=19 or newer\)"),
    "unbatched_conv": (lambda: nn.Sequential(nn.Conv1d(3, 2, 3)), (3, 6), NotImplementedError,
                       r"\(Conv1d\) cannot be exported: an unbatched input \(shape \(3, 6\)\)"),
    "avg_pool_ceil_overhang": (lambda: nn.Sequential(nn.AvgPool2d(2, ceil_mode=True)),
                               (5, 2, 5, 5), NotImplementedError,
                               "ceil_mode=True with a last window that hangs over"),
    "avg_pool_divisor": (lambda: nn.Sequential(nn.AvgPool2d(2, divisor_override=3)),
                         (5, 2, 4, 4), NotImplementedError, "divisor_override"),
    "adaptive_uneven": (lambda: nn.Sequential(nn.AdaptiveAvgPool2d(3)), (5, 2, 5, 5),
                        NotImplementedError, r"output size \(3, 3\) does not divide the "
                                             r"input's \(5, 5\)"),
    "negative_pad": (lambda: nn.Sequential(nn.ConstantPad1d((-1, 1), 0.0)), (5, 3, 4),
                     NotImplementedError, r"negative padding \(-1, 1\)"),
    "dtype_mismatch": (lambda: nn.Sequential(nn.Linear(6, 2).double(), nn.BatchNorm1d(2)),
                       (5, 6), TypeError,
                       r"1.weight is float32 but the model computes in float64 \(its "
                       r"input's dtype\); convert the model"),
    "no_batch_dim": (lambda: nn.Sequential(nn.Linear(6, 2)), (6,), ValueError,
                     r"dynamic_batch needs inputs with a batch dim .* got shape \(6,\) for "
                     r"'input'"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_cannot_be_exported_is_refused_by_name(name):
    _ort()
    factory, shape, error, message = REFUSED[name]
    dtype = np.float64 if name == "dtype_mismatch" else np.float32
    with pytest.raises(error, match=message):
        _export(factory(), mg.tensor(R.standard_normal(shape).astype(dtype)))


class Bags(nn.Module):
    def __init__(self):
        super().__init__()
        self.bags = nn.EmbeddingBag(10, 4, max_norm=2.0)

    def forward(self, x, offsets):
        return self.bags(x, offsets)


class OwnEncoderLayer(nn.TransformerEncoderLayer):
    def forward(self, src, *args, **kwargs):
        return super().forward(src) * 2


REFUSED_MULTI = {  # name -> (model, inputs, message); all NotImplementedError
    "lstm_projection": (lambda: nn.LSTM(4, 5, proj_size=3), (floats(6, 2, 4),),
                        r"layer '<model>' \(LSTM\) cannot be exported: proj_size"),
    "embedding_max_norm": (lambda: nn.Sequential(nn.Embedding(10, 4, max_norm=1.0)),
                           (indices(2, 3),), r"layer '0' \(Embedding\) cannot be exported: "
                                             r"max_norm renormalises"),
    "embedding_bag_max_norm": (Bags, (indices(6), np.array([0, 2, 5])),
                               r"layer 'bags' \(EmbeddingBag\) cannot be exported: max_norm"),
    "attention_is_causal": (lambda: Masked(nn.MultiheadAttention(8, 2), "attn_mask",
                                           is_causal=True),
                            (floats(5, 2, 8), np.triu(np.full((5, 5), -np.inf, np.float32), 1)),
                            r"layer 'layer' \(MultiheadAttention\) cannot be exported: "
                            r"is_causal=True \(a hint"),
    "encoder_is_causal": (lambda: Masked(nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16), 1, enable_nested_tensor=False), "mask",
        is_causal=True), (floats(5, 2, 8), np.triu(np.full((5, 5), -np.inf, np.float32), 1)),
        r"\(TransformerEncoder\) cannot be exported: is_causal=True"),
    "mask_of_another_dtype": (lambda: Masked(nn.TransformerEncoderLayer(8, 2, 16),
                                             "src_key_padding_mask"),
                              (floats(5, 2, 8), np.zeros((2, 5), np.float64)),
                              r"layer 'layer.self_attn' \(MultiheadAttention\) cannot be "
                              r"exported: key_padding_mask is float64; a bool mask or one of "
                              r"the model's dtype \(float32\)"),
    "encoder_layer_callable_activation": (lambda: nn.TransformerEncoderLayer(
        8, 2, 16, activation=lambda t: t.relu()), (floats(5, 2, 8),),
        r"\(TransformerEncoderLayer\) cannot be exported: activation <function"),
    "encoder_norm_without_converter": (lambda: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16), 1, norm=Scale(), enable_nested_tensor=False),
        (floats(5, 2, 8),), r"\(TransformerEncoder\) cannot be exported: its norm, a Scale, "
                            r"does not export"),
    "encoder_layer_own_forward": (lambda: OwnEncoderLayer(8, 2, 16), (floats(5, 2, 8),),
                                  "OwnEncoderLayer.forward computes with operations outside "
                                  "its layers"),
    "cosine_broadcast": (lambda: Call(nn.CosineSimilarity()), (floats(2, 3), floats(1, 3)),
                         r"\(CosineSimilarity\) cannot be exported: inputs of different shapes "
                         r"\(2, 3\) and \(1, 3\)"),
    "unknown_layer_bilinear": (lambda: Call(nn.Module()), (floats(2, 3),),
                               r"layer 'layer' \(Module\) is not supported"),
    "upsample_nearest_fraction": (lambda: nn.Sequential(nn.Upsample(scale_factor=1.5)),
                                  (floats(2, 3, 4, 4),), r"\(Upsample\) cannot be exported: "
                                                         r"mode 'nearest' from \(4, 4\) to "
                                                         r"\(6, 6\)"),
    "adaptive_max_indices": (lambda: nn.Sequential(nn.AdaptiveMaxPool2d(2, return_indices=True)),
                             (floats(2, 3, 4, 4),), r"\(AdaptiveMaxPool2d\) returned a tuple"),
}


@pytest.mark.parametrize("name", list(REFUSED_MULTI))
def test_layers_of_several_tensors_are_refused_by_name(name):
    _ort()
    factory, inputs, message = REFUSED_MULTI[name]
    with pytest.raises(NotImplementedError, match=message):
        _export(factory(), tuple(mg.tensor(a) for a in inputs), dynamic_batch=False)


def test_supported_layers_lists_the_new_ones():
    names = mg.onnx.supported_layers()
    for layer in ("Embedding", "EmbeddingBag", "RNN", "LSTM", "GRU", "MultiheadAttention",
                  "TransformerEncoderLayer", "TransformerEncoder", "Linear"):
        assert layer in names
    assert "RNNCell" in names and "MaxUnpool2d" in names and "MSELoss" not in names


def test_argument_errors():
    _ort()
    model = SPEC["mlp"][0]()
    x = mg.randn(5, 6)
    with pytest.raises(TypeError, match="expected a Module, got function"):
        _export(lambda v: v, x)
    with pytest.raises(TypeError, match="example_input must be a Tensor or a tuple of Tensors, "
                                        "got ndarray"):
        _export(model, x.numpy())
    with pytest.raises(TypeError, match="example_input must be floating point, int64 / int32 "
                                        "indices or bool masks, got int16"):
        _export(model, mg.ones(5, 6, dtype=mg.int16))
    with pytest.raises(ValueError, match="example_input is an empty tuple"):
        _export(model, ())
    with pytest.raises(ValueError, match=r"input_names must be a list of 1 name\(s\)"):
        _export(model, x, input_names="x")
    with pytest.raises(ValueError, match=r"output_names must be a list of 1 name\(s\) \(one per "
                                         r"output\), got \['a', 'b'\]"):
        _export(model, x, output_names=["a", "b"])
    for opset in (13, 22, "17", True):
        with pytest.raises(ValueError, match=f"opset must be one of 14 to 21, got {opset!r}"):
            _export(model, x, opset=opset)
    with pytest.raises(ValueError, match="input_names must be different names"):
        _export(Pair(), (x, x), input_names=["a", "a"])
    with pytest.raises(ValueError, match=r"dynamic_axes names \['nope'\], which are not among "
                                         r"the inputs \['input'\] or outputs \['output'\]"):
        _export(model, x, dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match=r"dynamic_batch makes dim 0 of every input the batch, "
                                         r"but 'input_1' has shape \(3, 6\)"):
        _export(Pair(), (x, mg.randn(3, 6)))
    proto, _ = _export(model, (x,))  # torch's tuple of arguments
    assert len(proto.graph.input) == 1


def test_a_fixed_shape_export_of_a_1d_input():
    ort = _ort()
    model = nn.Sequential(nn.Linear(6, 2), nn.Softmax(dim=0))
    x = mg.tensor(R.standard_normal(6).astype(np.float32))
    _, data = _export(model, x, dynamic_batch=False)
    got = ort.InferenceSession(data).run(None, {"input": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_without_onnx_the_error_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'needs the onnx package.*pip install '
                                          r'"micrograd-tensor\[onnx\]"'):
        mg.onnx.export(SPEC["mlp"][0](), mg.randn(5, 6), io.BytesIO())


def test_the_public_path_is_the_implementation():
    import micrograd.tools.onnx_export as impl
    assert mg.onnx is impl and mg.onnx.export is impl.export
