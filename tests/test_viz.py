"""micrograd.viz: DOT text of fixed graphs (no dependency), rendering and plots (optional)."""
from __future__ import annotations

import random
import re
import shutil

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F
from micrograd import Tensor, nn
from micrograd.nn.module import has_forward_hooks
from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.viz import (Dot, draw_dot, feature_maps, plot_conv_filters,
                           plot_decision_boundary, plot_feature_maps, plot_loss)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def neuron():
    """o = tanh(x1*w1 + x2*w2 + b), the classic single neuron, after backward()."""
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.5)
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    return o, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, n=n, o=o)


def boxes(source: str) -> dict[str, str]:
    return dict(re.findall(r'^  (n\d+) \[label="\{ (.*) \}", shape=record\];$', source, re.M))


def ops(source: str) -> dict[str, str]:
    return dict(re.findall(r'^  (n\d+_op) \[label="(.*)", shape=ellipse\];$', source, re.M))


def edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^  (\w+) -> (\w+);$", source, re.M)


def test_dot_text_of_a_neuron():
    o, names = neuron()
    dot = draw_dot(o, names=names)
    src = dot.source
    assert str(dot) == src and src.startswith("digraph micrograd {\n  rankdir=LR;\n")
    # topological order: x1 w1 (x1*w1) x2 w2 (x2*w2) (sum) b n o -> 10 boxes, 5 ops
    # by hand: n = 2*-3 + 0*1 + 6.5 = 0.5, o = tanh(0.5) = 0.4621, do/dn = 1 - o^2 = 0.7864,
    # which flows unchanged through both +; then dx1 = w1 * 0.7864, dw1 = x1 * 0.7864, ...
    assert boxes(src) == {
        "n0": "x1 | data 2.0000 | grad -2.3593",
        "n1": "w1 | data -3.0000 | grad 1.5729",
        "n2": "v2 | data -6.0000 | grad 0.7864",
        "n3": "x2 | data 0.0000 | grad 0.7864",
        "n4": "w2 | data 1.0000 | grad 0.0000",
        "n5": "v5 | data 0.0000 | grad 0.7864",
        "n6": "v6 | data -6.0000 | grad 0.7864",
        "n7": "b | data 6.5000 | grad 0.7864",
        "n8": "n | data 0.5000 | grad 0.7864",
        "n9": "o | data 0.4621 | grad 1.0000",
    }
    assert ops(src) == {"n2_op": "*", "n5_op": "*", "n6_op": "+", "n8_op": "+", "n9_op": "tanh"}
    assert sorted(edges(src)) == sorted([
        ("n0", "n2_op"), ("n1", "n2_op"), ("n2_op", "n2"),
        ("n3", "n5_op"), ("n4", "n5_op"), ("n5_op", "n5"),
        ("n2", "n6_op"), ("n5", "n6_op"), ("n6_op", "n6"),
        ("n6", "n8_op"), ("n7", "n8_op"), ("n8_op", "n8"),
        ("n8", "n9_op"), ("n9_op", "n9"),
    ])


def test_a_reused_value_gets_one_box_and_one_edge_per_use():
    x = Value(3.0)
    y = x * x
    src = draw_dot(y, rankdir="TB").source
    assert "rankdir=TB;" in src
    assert len(boxes(src)) == 2 and edges(src).count(("n0", "n1_op")) == 2


def test_special_characters_in_names_are_escaped():
    a = Value(1.0)
    src = draw_dot(a + 1, names={"a{x|y}<z>": a}).source
    assert '"{ a\\{x\\|y\\}\\<z\\> | data 1.0000 | grad 0.0000 }"' in src


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(Value(1.0), rankdir="up")
    with pytest.raises(TypeError, match="Value or Tensor"):
        draw_dot(3.0)
    with pytest.raises(ValueError, match="suffix"):
        draw_dot(Value(1.0)).save("graph")
    chain = Value(0.0)
    for _ in range(10):
        chain = chain + 1
    with pytest.raises(ValueError, match="11 values, more than max_nodes=10"):
        draw_dot(chain, max_nodes=10)
    assert draw_dot(chain, max_nodes=None).source.count("shape=record") == 11


def test_save_dot_text_needs_no_graphviz(tmp_path):
    dot = draw_dot(Value(2.0) * 3)
    path = dot.save(tmp_path / "g.dot")
    assert path.read_text() == dot.source
    assert repr(dot) == "<Dot graph: 3 nodes, format='svg'>"


def needs_graphviz():
    pytest.importorskip("graphviz", reason="rendering needs the optional graphviz package")
    if shutil.which("dot") is None:
        pytest.skip("rendering needs Graphviz's dot program (apt-get install graphviz)")


def test_render_svg_png_and_jupyter(tmp_path):
    needs_graphviz()
    o, names = neuron()
    dot = draw_dot(o, names=names)
    svg = dot._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg.count('class="node"') == 15 and svg.count('class="edge"') == 14
    assert ">tanh<" in svg and ">x1<" in svg
    png = draw_dot(o, format="png").pipe()
    assert png.startswith(PNG_MAGIC)
    assert dot.save(tmp_path / "n.png").read_bytes().startswith(PNG_MAGIC)


def test_jupyter_repr_is_none_without_rendering(monkeypatch):
    def unavailable(self, format=None):
        raise ImportError("no graphviz")
    monkeypatch.setattr(Dot, "pipe", unavailable)
    assert draw_dot(Value(1.0))._repr_svg_() is None


# ---- plots -------------------------------------------------------------------------------------
def needs_matplotlib():
    pytest.importorskip("matplotlib", reason="plots need the optional matplotlib")


def test_plot_loss_saves_png_with_the_history(tmp_path):
    needs_matplotlib()
    history = [1.0, 0.5, 0.25, 0.2]
    fig = plot_loss(history, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes().startswith(PNG_MAGIC)
    (line,) = fig.axes[0].lines
    assert list(line.get_xdata()) == [1, 2, 3, 4] and list(line.get_ydata()) == history


def test_plot_loss_dict_and_estimator(tmp_path):
    needs_matplotlib()
    fig = plot_loss({"train": [3, 2, 1], "validation": [3, 2.5, 2.4]}, None, logy=True)
    ax = fig.axes[0]
    assert [ln.get_label() for ln in ax.lines] == ["train", "validation"]
    assert ax.get_yscale() == "log" and ax.get_legend() is not None

    class Fitted:
        loss_curve_ = [0.9, 0.4]
    assert list(plot_loss(Fitted(), None).axes[0].lines[0].get_ydata()) == [0.9, 0.4]
    with pytest.raises(ValueError, match="history 'loss' has no values"):
        plot_loss([], None)
    with pytest.raises(ValueError, match="history is empty"):
        plot_loss({}, None)


def test_plot_decision_boundary_uses_predict_on_a_grid_covering_the_data(tmp_path):
    needs_matplotlib()
    X = np.array([[-1.0, 0.0], [1.0, 2.0], [0.5, -1.0]])
    y = np.array([0, 1, 1])
    seen = []

    class Threshold:
        def predict(self, grid):
            seen.append(grid)
            return (grid[:, 0] > 0).astype(int)

    fig = plot_decision_boundary(Threshold(), X, y, tmp_path / "b.png", resolution=20)
    assert (tmp_path / "b.png").read_bytes().startswith(PNG_MAGIC)
    (grid,) = seen
    assert grid.shape == (400, 2)
    assert (grid.min(axis=0) < X.min(axis=0)).all() and (grid.max(axis=0) > X.max(axis=0)).all()
    scatter = fig.axes[0].collections[-1]
    np.testing.assert_array_equal(scatter.get_offsets(), X)


def test_plot_decision_boundary_with_scalar_mlp_and_plain_function():
    needs_matplotlib()
    random.seed(0)
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1])
    plot_decision_boundary(MLP(2, [4, 1]), X, y, None, resolution=4)
    calls = []
    plot_decision_boundary(lambda g: calls.append(g.shape) or g[:, 1] - 0.5, X, y, None,
                           resolution=3)
    assert calls == [(9, 2)]


def test_plot_decision_boundary_validates_inputs():
    needs_matplotlib()
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        plot_decision_boundary(lambda g: g[:, 0], np.zeros((3, 3)), np.zeros(3), None)
    with pytest.raises(ValueError, match="y must have shape"):
        plot_decision_boundary(lambda g: g[:, 0], np.zeros((3, 2)), np.zeros(2), None)
    with pytest.raises(ValueError, match="returned 1 predictions"):
        plot_decision_boundary(lambda g: np.zeros(1), np.zeros((3, 2)), np.zeros(3), None,
                               resolution=2)


def test_dot_text_of_a_tensor_graph():
    x = Tensor([1.0, -2.0], requires_grad=True)
    w = Tensor([3.0, 0.5], requires_grad=True)
    y = (x * w + x).sum()
    y.backward(retain_graph=True)
    src = draw_dot(y, names={"x": x, "w": w, "y": y}).source
    # leaves keep .grad (dy/dx = w + 1, dy/dw = x); intermediate tensors do not, as in PyTorch
    assert boxes(src) == {
        "n0": "x | shape (2,) float32 | data [1.0, -2.0] | grad [4.0, 1.5]",
        "n1": "w | shape (2,) float32 | data [3.0, 0.5] | grad [1.0, -2.0]",
        "n2": "v2 | shape (2,) float32 | data [3.0, -1.0] | grad None",
        "n3": "v3 | shape (2,) float32 | data [4.0, -3.0] | grad None",
        "n4": "y | shape () float32 | data 1.0 | grad None",
    }
    assert ops(src) == {"n2_op": "Mul", "n3_op": "Add", "n4_op": "Sum"}
    assert sorted(edges(src)) == sorted([("n0", "n2_op"), ("n1", "n2_op"), ("n2_op", "n2"),
                                         ("n2", "n3_op"), ("n0", "n3_op"), ("n3_op", "n3"),
                                         ("n3", "n4_op"), ("n4_op", "n4")])


def test_big_tensors_show_their_first_numbers():
    a = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    src = draw_dot(a * 2).source
    assert "{ v0 | shape (3, 4) float64 | data [0.0, 1.0, 2.0, 3.0, ...] | grad None }" in src


def test_plot_decision_boundary_with_a_tensor_module(tmp_path):
    needs_matplotlib()
    import micrograd as mg
    from micrograd import nn
    from micrograd.viz import _predictor
    model = nn.Linear(2, 2)
    with mg.no_grad():       # scores (y, x): class 1 wins exactly where x > y
        model.weight._array[...] = [[0.0, 1.0], [1.0, 0.0]]
        model.bias._array[...] = 0.0
    grid = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.1]])
    assert _predictor(model)(grid).tolist() == [0, 1, 1]
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    plot_decision_boundary(model, X, np.array([0, 1]), tmp_path / "t.png", resolution=3)
    assert (tmp_path / "t.png").read_bytes().startswith(PNG_MAGIC)


def test_missing_extras_give_an_install_hint(monkeypatch):
    import sys
    for name in ("graphviz", "matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)       # as if not installed
    dot = draw_dot(Value(1.0) * 2)
    with pytest.raises(ImportError, match=r"micrograd-tensor\[viz\]"):
        dot.pipe("svg")
    assert dot._repr_svg_() is None and "digraph" in str(dot)     # DOT text still works
    with pytest.raises(ImportError, match=r"matplotlib: pip install 'micrograd-tensor\[viz\]'"):
        plot_loss([1.0, 0.5], None)
    with pytest.raises(ImportError, match=r"matplotlib: pip install 'micrograd-tensor\[viz\]'"):
        plot_conv_filters(np.zeros((2, 1, 3, 3)), None)


def test_missing_dot_program_is_a_clear_error(monkeypatch):
    graphviz = pytest.importorskip("graphviz", reason="needs the graphviz package to fake it")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match="Graphviz's 'dot' program"):
        draw_dot(Value(1.0)).pipe("svg")
    assert graphviz is not None


# ---- convolutional networks: filters and feature maps --------------------------------------------
def _images(fig):
    """(the axes that show an image, their arrays) in grid order."""
    shown = [ax for ax in fig.axes if ax.images]
    return shown, [np.asarray(ax.images[0].get_array()) for ax in shown]


def test_plot_conv_filters_draws_every_kernel_on_one_scale(tmp_path):
    pytest.importorskip("matplotlib")
    mg.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3)
    fig = plot_conv_filters(conv, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes().startswith(PNG_MAGIC)
    w = conv.weight.detach().numpy().astype(np.float64)
    axes, arrays = _images(fig)
    assert len(arrays) == 6
    for i, a in enumerate(arrays):
        np.testing.assert_array_equal(a, w[i // 2, i % 2])
    assert [ax.get_title() for ax in axes] == ["0, 0", "0, 1", "1, 0", "1, 1", "2, 0", "2, 1"]
    limit = np.abs(w).max()
    assert all(ax.images[0].get_clim() == (-limit, limit) for ax in axes)
    assert fig._suptitle.get_text() == "3x2 convolution kernels of 3x3: output, input channel"
    assert any(ax.get_ylabel() == "weight" for ax in fig.axes)   # the colour bar
    # a weight array, one input channel, a cap on the number shown
    fig = plot_conv_filters(np.arange(5 * 9.0).reshape(5, 1, 3, 3), None, max_filters=4)
    axes, arrays = _images(fig)
    assert [ax.get_title() for ax in axes] == ["out 0", "out 1", "out 2", "out 3"]
    np.testing.assert_array_equal(arrays[3], np.arange(27.0, 36.0).reshape(3, 3))
    assert "(the first 4 of 5)" in fig._suptitle.get_text()


def _small_cnn():
    mg.manual_seed(1)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 3, 3),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 4))


def test_feature_maps_are_each_layers_output_for_one_sample(backend):
    model = _small_cnn()
    model.train()
    x = np.random.default_rng(2).standard_normal((1, 6, 6)).astype(np.float32)
    maps = feature_maps(model, x)
    assert list(maps) == ["input", "0", "2"]
    np.testing.assert_array_equal(maps["input"], x)
    first = F.conv2d(mg.tensor(x[None]), model[0].weight, model[0].bias, padding=1)
    second = F.conv2d(first.relu(), model[2].weight, model[2].bias)
    np.testing.assert_allclose(maps["0"], first.detach().numpy()[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(maps["2"], second.detach().numpy()[0], rtol=1e-6, atol=1e-6)
    assert model.training                                    # the mode is restored
    assert not any(has_forward_hooks(m) for m in model.modules())   # and the hooks removed
    chosen = feature_maps(model, x, layers=["1", "3"])
    assert list(chosen) == ["input", "1", "3"]
    np.testing.assert_array_equal(chosen["input"], maps["0"])     # what layer 1 received
    np.testing.assert_allclose(chosen["3"], maps["2"].reshape(3, 2, 2, 2, 2).max((2, 4)))


def test_plot_feature_maps_rows_of_layers(tmp_path):
    pytest.importorskip("matplotlib")
    model = _small_cnn()
    x = np.random.default_rng(3).standard_normal((1, 6, 6)).astype(np.float32)
    maps = feature_maps(model, x)
    fig = plot_feature_maps(model, x, tmp_path / "m.png", max_maps=2)
    assert (tmp_path / "m.png").read_bytes().startswith(PNG_MAGIC)
    axes, arrays = _images(fig)
    expected = [maps["input"][0], maps["0"][0], maps["0"][1], maps["2"][0], maps["2"][1]]
    assert len(arrays) == len(expected)
    for got, want in zip(arrays, expected):
        np.testing.assert_array_equal(got, want)
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels == ["input to layer 0\n1 x 6x6", "layer 0: Conv2d\n2 x 6x6",
                      "layer 2: Conv2d\n3 x 4x4"]
    assert [ax.get_title() for ax in axes] == ["ch 0", "ch 0", "ch 1", "ch 0", "ch 1"]
    assert fig._suptitle.get_text() == "Feature maps"


def test_a_trained_cli_cnn_filters_and_feature_maps(tmp_path):
    """The user's path: train the CNN from the command line, load it, draw it."""
    pytest.importorskip("matplotlib")
    from micrograd.apps import train as cli
    path = tmp_path / "cnn.npz"
    assert cli.train(["--model", "cnn", "--epochs", "1", "--quiet", "--save", str(path)]) == 0
    model, contents = cli.load_model(str(path))
    X, _ = mg.data.load_digits(return_X_y=True)
    row = cli.transform_inputs(contents["preprocessing"], X[:1])[0]    # 64 pixels
    fig = plot_feature_maps(model, row, tmp_path / "maps.png")
    axes, arrays = _images(fig)
    assert len(arrays) == 1 + 16 + 16 and arrays[0].shape == (8, 8)
    np.testing.assert_allclose(arrays[0], row.reshape(8, 8))
    fig = plot_conv_filters(model[1], tmp_path / "filters.png")
    assert len(_images(fig)[1]) == 32
    assert (tmp_path / "filters.png").read_bytes().startswith(PNG_MAGIC)


def test_conv_plots_validate_their_arguments():
    model = _small_cnn()
    x = np.zeros((1, 6, 6), np.float32)
    with pytest.raises(ValueError, match=r"expected an nn.Conv2d or a weight of shape "
                                         r"\(out, in, kh, kw\), got shape \(2, 3\)"):
        plot_conv_filters(np.zeros((2, 3)), None)
    with pytest.raises(ValueError, match="max_filters must be an int >= 1, got 0"):
        plot_conv_filters(model[0], None, max_filters=0)
    with pytest.raises(ValueError, match="max_maps must be an int >= 1, got 0"):
        plot_feature_maps(model, x, None, max_maps=0)
    with pytest.raises(ValueError, match=r"no layer named 'conv9'; the model's layers are "
                                         r"\['0', '1', '2', '3', '4', '5'\]"):
        feature_maps(model, x, layers=["conv9"])
    with pytest.raises(ValueError, match=r"layer '5' \(Linear\) gave shape \(1, 4\), not an "
                                         r"image batch"):
        feature_maps(model, x, layers=["5"])
    with pytest.raises(ValueError, match="Sequential has no nn.Conv2d; name the layers"):
        feature_maps(nn.Sequential(nn.Linear(2, 2)), np.zeros(2, np.float32))
    assert not any(has_forward_hooks(m) for m in model.modules())


def test_draw_dot_shows_the_activation_sequential_fused_into_linear():
    """Sequential(Linear, ReLU, Linear) runs as Linear+ReLU then Linear: the ReLU is drawn."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    loss = model(mg.randn(2, 3)).sum()
    ops = re.findall(r'n\d+_op \[label="([^"]*)"', draw_dot(loss).source)
    assert ops == ["Linear+ReLU", "Linear", "Sum"]
    plain = nn.Sequential(nn.Linear(3, 1))(mg.randn(2, 3)).sum()   # no activation: no "+"
    assert re.findall(r'n\d+_op \[label="([^"]*)"', draw_dot(plain).source) == ["Linear", "Sum"]


def test_every_plot_labels_its_axes_and_has_a_legend_or_colour_key():
    """Each figure says what its axes are; line and scatter plots name their series."""
    needs_matplotlib()
    fig = plot_loss([1.0, 0.5, 0.3], None)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "loss",
                                                                  "Loss per epoch")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss"]

    class Fitted:
        loss_curve_ = [0.9, 0.4]
    ax = plot_loss(Fitted(), None).axes[0]
    assert ax.get_title() == "Training loss per epoch"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training loss"]
    ax = plot_loss({"train": [3, 2], "validation": [3, 2.5]}, None, xlabel="step",
                   logy=True).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "step", "loss (log scale)", "train and validation loss per step")
    assert plot_loss([1.0], None, title="mine").axes[0].get_title() == "mine"

    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    y = np.array([0, 1, 2, 1, 0])
    ax = plot_decision_boundary(lambda g: (g[:, 0] > 1).astype(int), X, y, None,
                                resolution=5).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("feature 0", "feature 1")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]

    fig = plot_conv_filters(np.ones((2, 1, 3, 3)), None)
    assert fig.get_supxlabel() == "kernel column" and fig.get_supylabel() == "kernel row"
    fig = plot_feature_maps(_small_cnn(), np.zeros((1, 6, 6), np.float32), None)
    assert fig.get_supxlabel().startswith("output channel")
