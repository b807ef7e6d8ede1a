"""See the graph and the training: computation graphs as DOT/SVG/PNG, loss curves, decision maps,
a convolutional network's filters and feature maps.

``draw_dot(root)`` needs nothing installed: it returns a ``Dot`` whose ``source`` (and ``str()``)
is Graphviz DOT text. Rendering it to SVG or PNG, or inline in Jupyter, uses the optional
``graphviz`` package and Graphviz's ``dot`` program. ``feature_maps(model, x)`` returns each
convolution's output for one input as arrays. ``plot_loss``, ``plot_decision_boundary``,
``plot_conv_filters`` and ``plot_feature_maps`` use the optional matplotlib (its Agg canvas:
no display needed, and pyplot's global state is left alone). Install the extras with ``pip install "micrograd-tensor[viz]"`` (the distribution's
name; the package imports as ``micrograd``), plus ``apt-get install graphviz`` or ``brew install
graphviz`` for ``dot``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .explain import array_text, node_names, num, op_label
from ..core.graph import toposort

_RENDER_HINT = ("rendering DOT needs the optional 'graphviz' package and Graphviz's 'dot' program "
                "(pip install 'micrograd-tensor[viz]'; apt-get install graphviz or brew install "
                "graphviz); the DOT text itself is always available as .source")


class Dot:
    """A drawn graph: DOT text (``.source``), renderable when Graphviz is installed."""

    def __init__(self, source: str, format: str = "svg") -> None:
        self.source = source
        self.format = format

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"<Dot graph: {self.source.count(' [label=')} nodes, format={self.format!r}>"

    def to_graphviz(self) -> Any:
        """A ``graphviz.Source`` of this graph (needs the ``graphviz`` package)."""
        try:
            import graphviz
        except ImportError as err:
            raise ImportError(_RENDER_HINT) from err
        return graphviz.Source(self.source, format=self.format)

    def pipe(self, format: str | None = None) -> bytes:
        """The rendered bytes (SVG text, PNG image, ...) in ``format`` (default ``self.format``)."""
        graph = self.to_graphviz()
        try:
            return graph.pipe(format=format or self.format)
        except Exception as err:     # graphviz.ExecutableNotFound when `dot` is not on PATH
            if type(err).__name__ == "ExecutableNotFound":
                raise RuntimeError(_RENDER_HINT) from err
            raise

    def save(self, path: str | Path) -> Path:
        """Write the graph to ``path``; the suffix picks the format (.dot/.gv need no Graphviz)."""
        path = Path(path)
        fmt = path.suffix.lstrip(".").lower()
        if not fmt:
            raise ValueError(f"save: path {str(path)!r} needs a suffix such as .svg, .png or .dot")
        if fmt in ("dot", "gv"):
            path.write_text(self.source)
        else:
            path.write_bytes(self.pipe(fmt))
        return path

    def _repr_svg_(self) -> str | None:
        """Jupyter shows the SVG inline; ``None`` (plain repr) when Graphviz is missing."""
        try:
            return self.pipe("svg").decode("utf-8")
        except (ImportError, RuntimeError):
            return None


def draw_dot(root: Any, format: str = "svg", rankdir: str = "LR",
             names: Mapping[str, Any] | None = None, max_nodes: int | None = 1000) -> Dot:
    """Draw the graph that produced ``root`` (a ``Value`` or a ``Tensor``).

    Each value is a box showing its name, data and grad (for tensors: shape, dtype and the first
    few numbers); each op is an oval between its inputs and its output. Names follow
    ``micrograd.explain``: those given in ``names`` (e.g. ``locals()``), else ``v<i>``.
    A graph of more than ``max_nodes`` values is refused (unreadable, and Graphviz would take
    minutes to lay it out): draw a smaller example, or pass ``max_nodes=None``.
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_dot: rankdir must be one of LR, RL, TB, BT, got {rankdir!r}")
    if not isinstance(format, str) or not format:
        raise ValueError(f"draw_dot: format must be a non-empty string such as 'svg', "
                         f"got {format!r}")
    if not hasattr(root, "_prev"):
        raise TypeError(f"draw_dot: expected a micrograd Value or Tensor, "
                        f"got {type(root).__name__}")
    order = toposort(root)
    if max_nodes is not None and len(order) > max_nodes:
        raise ValueError(f"draw_dot: the graph has {len(order)} values, more than max_nodes="
                         f"{max_nodes}; draw a smaller example or pass max_nodes=None")
    name = node_names(order, names)
    index = {id(node): i for i, node in enumerate(order)}
    lines = ["digraph micrograd {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=11];']
    for i, node in enumerate(order):
        fields = [name[id(node)]] + _describe(node)
        label = " | ".join(_escape(f) for f in fields)
        lines.append(f'  n{i} [label="{{ {label} }}", shape=record];')
        op = _op_name(node)
        if node._prev:
            lines.append(f'  n{i}_op [label="{_escape(op)}", shape=ellipse];')
            lines.append(f"  n{i}_op -> n{i};")
            for child in node._prev:
                lines.append(f"  n{index[id(child)]} -> n{i}_op;")
    lines.append("}")
    return Dot("\n".join(lines) + "\n", format)


def _op_name(node: Any) -> str:
    if hasattr(node, "_op"):
        return node._op or "?"
    ctx = getattr(node, "_ctx", None)
    return op_label(ctx) if ctx is not None else "?"


def _describe(node: Any) -> list[str]:
    """The fields of a node's box: data and grad (Value), or shape/dtype, data and grad (Tensor)."""
    if hasattr(node, "_local_grads"):
        return [f"data {node.data:.4f}", f"grad {node.grad:.4f}"]
    import numpy as np  # tensors hold NumPy arrays: numpy is already loaded
    data = np.asarray(node._array)
    grad = node.grad
    if grad is None:
        grad_text = "grad None"
    else:
        grad_text = f"grad {_few(np.asarray(getattr(grad, 'data', grad)))}"
    return [f"shape {tuple(data.shape)} {data.dtype}", f"data {_few(data)}", grad_text]


def _few(array: Any, k: int = 6) -> str:
    """A small array in full (nested lists); a bigger one as its first numbers and an ellipsis."""
    if array.size <= k:
        return array_text(array)
    return "[" + ", ".join(num(x) for x in array.reshape(-1)[:4]) + ", ...]"


def _escape(text: str) -> str:
    """Escape the characters that are special inside a DOT record label."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


# ---- training plots (matplotlib, optional) ---------------------------------------------------
def _figure(size: tuple[float, float]) -> Any:
    """A matplotlib Figure on the Agg canvas, without touching pyplot's global state."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("plotting needs the optional matplotlib: "
                          "pip install 'micrograd-tensor[viz]'") from err
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def plot_loss(history: Any, path: str | Path | None = "loss.png", *, title: str | None = None,
              xlabel: str = "epoch", logy: bool = False) -> Any:
    """Plot a loss curve and save it as a PNG at ``path`` (unless ``path`` is None).

    ``history`` is a sequence of numbers, a dict of name -> sequence (one line each, e.g.
    ``{"train": [...], "validation": [...]}``), or a fitted estimator with ``loss_curve_``.
    The default title says what is drawn: "Training loss per epoch" for an estimator's
    ``loss_curve_``, "Loss per epoch" for a plain sequence, "train and validation loss per
    epoch" for a dict (``xlabel`` names the step). Every curve is in the legend.
    Returns the matplotlib Figure.
    """
    fitted = hasattr(history, "loss_curve_")
    if fitted:
        history = history.loss_curve_
    curves = dict(history) if isinstance(history, Mapping) else {
        "training loss" if fitted else "loss": history}
    if not curves:
        raise ValueError("plot_loss: history is empty")
    if title is None:
        if isinstance(history, Mapping):
            names = [str(name) for name in curves]
            title = (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1
                     else names[0]) + f" loss per {xlabel}"
        else:
            title = f"{'Training loss' if fitted else 'Loss'} per {xlabel}"
    fig = _figure((6, 4))
    ax = fig.add_subplot()
    for label, values in curves.items():
        ys = [float(v) for v in values]
        if not ys:
            raise ValueError(f"plot_loss: history {label!r} has no values")
        ax.plot(range(1, len(ys) + 1), ys, label=str(label), marker="." if len(ys) < 40 else None)
    ax.set(title=title, xlabel=xlabel, ylabel="loss (log scale)" if logy else "loss")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def plot_decision_boundary(model: Any, X: Any, y: Any, path: str | Path | None = "boundary.png",
                           *, resolution: int = 150, title: str = "Decision boundary",
                           xlabel: str = "feature 0", ylabel: str = "feature 1") -> Any:
    """Colour the plane by the class ``model`` predicts, with the points ``X`` (N, 2) on top.

    The axes are ``X``'s two columns (``xlabel``, ``ylabel``); the legend names each true
    class's marker colour, and the shading behind the points is the predicted class.

    ``model`` may be a scikit-learn style estimator (``predict``), a tensor ``nn.Module`` or a
    scalar ``micrograd.nn.MLP`` (one output: class = output > 0; several: argmax), or any
    function from an (N, 2) array to labels or scores. Saves a PNG at ``path`` unless it is None;
    returns the matplotlib Figure.
    """
    import numpy as np
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"plot_decision_boundary: y must have shape ({X.shape[0]},), "
                         f"got {y.shape}")
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"plot_decision_boundary: resolution must be an int >= 2, "
                         f"got {resolution!r}")
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 0.1
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    labels = np.asarray(_predictor(model)(grid)).reshape(-1)
    if labels.shape[0] != grid.shape[0]:
        raise ValueError(f"plot_decision_boundary: the model returned {labels.shape[0]} "
                         f"predictions for {grid.shape[0]} points")
    classes = np.unique(np.concatenate([np.unique(y), np.unique(labels)]))
    codes = np.searchsorted(classes, labels).reshape(xx.shape)
    fig = _figure((5, 4.5))
    ax = fig.add_subplot()
    ax.contourf(xx, yy, codes, levels=np.arange(len(classes) + 1) - 0.5, cmap="coolwarm", alpha=0.3)
    points = ax.scatter(X[:, 0], X[:, 1], c=np.searchsorted(classes, y), cmap="coolwarm",
                        vmin=0, vmax=max(len(classes) - 1, 1), edgecolors="k", s=20)
    handles, _ = points.legend_elements(num=None)   # a marker per class present in y, in order
    ax.legend(handles, [f"class {c}" for c in np.unique(y)], title="true class (shading: "
              "predicted)", fontsize=8, title_fontsize=8)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def _predictor(model: Any) -> Callable[[Any], Any]:
    """A function from an (N, 2) float64 array to N class labels, for the kinds of model we know."""
    import numpy as np
    if hasattr(model, "predict"):
        return model.predict
    if not callable(model):
        raise TypeError(f"plot_decision_boundary: model must have predict() or be callable, "
                        f"got {type(model).__name__}")

    def to_labels(scores: Any) -> Any:
        scores = np.asarray(getattr(scores, "data", scores), dtype=np.float64)
        if scores.ndim == 2 and scores.shape[1] > 1:
            return scores.argmax(axis=1)
        return (scores.reshape(-1) > 0).astype(np.int64)

    from ..core.engine import Value
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    if params and isinstance(params[0], Value):  # a scalar MLP of Values: one point at a time
        def scalar(grid: Any) -> Any:
            outs = [model([float(a), float(b)]) for a, b in grid]
            return to_labels([[o.data] if not isinstance(o, Sequence) else [v.data for v in o]
                              for o in outs])
        return scalar
    if params:                                   # a tensor nn.Module
        def tensor(grid: Any) -> Any:
            import micrograd as mg
            with mg.no_grad():
                return to_labels(model(mg.Tensor(grid.astype(params[0]._array.dtype))))
        return tensor
    return lambda grid: to_labels(model(grid))


# ---- convolutional networks: filters and feature maps (matplotlib, optional) -----------------
def _grid_shape(count: int) -> tuple[int, int]:
    """(rows, columns) of a near-square grid holding ``count`` images."""
    import math
    cols = max(1, math.ceil(math.sqrt(count)))
    return max(1, math.ceil(count / cols)), cols


def _bare(ax: Any) -> None:
    """An image's axes without ticks (pixels have no useful scale), its frame kept."""
    ax.set_xticks([])
    ax.set_yticks([])


def plot_conv_filters(conv: Any, path: str | Path | None = "filters.png", *,
                      max_filters: int = 64, title: str | None = None) -> Any:
    """Draw a convolution's kernels as a grid of small images, one colour scale for all.

    ``conv`` is an ``nn.Conv2d`` or its weight, a tensor or array of shape (out, in, kh, kw).
    Each kernel ``weight[o, c]`` is one image (titled ``out o`` for one input channel, else
    ``o, c``), blue negative and red positive around a white zero, so the filters can be
    compared with each other; the first ``max_filters`` kernels in (out, in) order are shown,
    and the title says how many there are. Saves a PNG at ``path`` unless it is None; returns
    the matplotlib Figure.
    """
    import numpy as np
    weight = getattr(conv, "weight", conv)
    w = np.asarray(getattr(weight, "_array", weight), dtype=np.float64)
    if w.ndim != 4:
        raise ValueError(f"plot_conv_filters: expected an nn.Conv2d or a weight of shape "
                         f"(out, in, kh, kw), got shape {w.shape}")
    if not isinstance(max_filters, int) or max_filters < 1:
        raise ValueError(f"plot_conv_filters: max_filters must be an int >= 1, "
                         f"got {max_filters!r}")
    n_out, n_in = w.shape[:2]
    total = n_out * n_in
    shown = min(total, max_filters)
    if shown == 0:
        raise ValueError(f"plot_conv_filters: the weight of shape {w.shape} has no kernels")
    kernels = w.reshape(total, *w.shape[2:])[:shown]
    rows, cols = _grid_shape(shown)
    fig = _figure((1.2 * cols + 1.2, 1.2 * rows + 0.8))
    axes = fig.subplots(rows, cols, squeeze=False)
    limit = float(np.abs(kernels).max()) or 1.0
    image = None
    for i, ax in enumerate(axes.flat):
        if i >= shown:
            ax.set_axis_off()
            continue
        o, c = divmod(i, n_in)
        image = ax.imshow(kernels[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"out {o}" if n_in == 1 else f"{o}, {c}", fontsize=8)
        _bare(ax)
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    fig.supxlabel("kernel column", fontsize=9)
    fig.supylabel("kernel row", fontsize=9)
    kh, kw = w.shape[2:]
    what = "" if shown == total else f" (the first {shown} of {total})"
    fig.suptitle(title or f"{n_out}x{n_in} convolution kernels of {kh}x{kw}{what}"
                 + ("" if n_in == 1 else ": output, input channel"))
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def feature_maps(model: Any, x: Any, layers: Sequence[str] | None = None) -> dict[str, Any]:
    """{layer name: its output for the one sample ``x``, a NumPy array (channels, H, W)}, in
    the order of ``layers``, after ``"input"``: what the first layer to run received, when that
    is an image batch (for a network that takes rows of pixels, the image it makes of them).
    ``x`` is one sample without the batch dimension (what ``dataset[i]`` gives); it runs as a
    batch of one, in eval mode, without a graph (the model's mode is restored).
    ``layers`` are names from ``model.named_modules()`` whose output is an image batch
    (N, C, H, W); by default every ``nn.Conv2d``."""
    import numpy as np
    from ..core.autograd import no_grad
    from ..core.tensor import Tensor
    from ..nn.conv import Conv2d
    modules = dict(model.named_modules())
    if layers is None:
        layers = [name for name, m in modules.items() if isinstance(m, Conv2d)]
        if not layers:
            raise ValueError(f"feature_maps: {type(model).__name__} has no nn.Conv2d; name "
                             "the layers to show with layers=[...]")
    unknown = [name for name in layers if name not in modules or name == ""]
    if unknown:
        raise ValueError(f"feature_maps: no layer named {unknown[0]!r}; the model's layers "
                         f"are {[name for name in modules if name]}")
    params = list(model.parameters())
    dtype = params[0]._array.dtype if params else np.float32
    sample = np.asarray(getattr(x, "_array", x), dtype=dtype)
    batch = Tensor(sample[None])
    seen: dict[str, Any] = {}

    def keep(name: str) -> Callable:
        def hook(module: Any, args: tuple, output: Any) -> None:
            inputs = args[0]._array if args and isinstance(args[0], Tensor) else None
            if not seen and inputs is not None and inputs.ndim == 4:
                seen["input"] = inputs[0]
            out = getattr(output, "_array", None)
            if out is None or out.ndim != 4:
                raise ValueError(f"feature_maps: layer {name!r} ({type(module).__name__}) "
                                 f"gave {'no tensor' if out is None else f'shape {out.shape}'}"
                                 ", not an image batch (N, C, H, W)")
            seen[name] = out[0]
        return hook
    handles = [modules[name].register_forward_hook(keep(name)) for name in layers]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(batch)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return {name: np.array(seen[name]) for name in ("input", *layers) if name in seen}


def plot_feature_maps(model: Any, x: Any, path: str | Path | None = "feature_maps.png", *,
                      layers: Sequence[str] | None = None, max_maps: int = 16,
                      title: str = "Feature maps") -> Any:
    """Draw what each convolution of ``model`` makes of one input: a row per layer (the input
    image first), the first ``max_maps`` channels of its output across, each map on its own
    colour scale (viridis: dark low, yellow high). ``x`` is one sample without the batch
    dimension; ``layers`` as ``feature_maps`` (default: every ``nn.Conv2d``). Row labels
    name the layer, its type and its output's shape. Saves a PNG at ``path`` unless it is
    None; returns the matplotlib Figure.
    """
    if not isinstance(max_maps, int) or max_maps < 1:
        raise ValueError(f"plot_feature_maps: max_maps must be an int >= 1, got {max_maps!r}")
    maps = feature_maps(model, x, layers)
    modules = dict(model.named_modules())
    cols = min(max_maps, max(m.shape[0] for m in maps.values()))
    fig = _figure((1.3 * cols + 1.5, 1.4 * len(maps) + 0.8))
    axes = fig.subplots(len(maps), cols, squeeze=False)
    for row, (name, fmap) in zip(axes, maps.items()):
        kind = (f"input to layer {list(maps)[1]}" if name == "input"
                else f"layer {name}: {type(modules[name]).__name__}")
        row[0].set_ylabel(f"{kind}\n{fmap.shape[0]} x {fmap.shape[1]}x{fmap.shape[2]}",
                          fontsize=8)
        for c, ax in enumerate(row):
            if c >= fmap.shape[0]:
                ax.set_axis_off()
                continue
            ax.imshow(fmap[c], cmap="viridis")
            ax.set_title(f"ch {c}", fontsize=7)
            _bare(ax)
    fig.supxlabel("output channel (each map: pixel column across, row down)", fontsize=9)
    fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
