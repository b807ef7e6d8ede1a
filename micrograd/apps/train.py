"""``python -m micrograd demo`` and ``python -m micrograd train``: training from the command line.

``demo`` is the seed article's experiment: ``MLPClassifier(hidden_layer_sizes=(100, 50),
activation='relu', random_state=42)`` on the 8x8 digit images shipped with micrograd (75/25
split), trained epoch by epoch with a progress bar, then test accuracy, time per epoch and the
backend that ran; ``demo --model cnn`` trains examples/cnn_digits.py's convolutional network
(PyTorch's MNIST example) there instead. ``train`` is the PyTorch way with knobs: an
``nn.Sequential`` MLP or that CNN (``--model``), an optimizer, a ``DataLoader``, on a generated
or shipped data set. ``train --save`` writes one model file
(``mg.save``: arrays and JSON, no pickled code) holding the architecture, the preprocessing fitted
on the training data and the weights; ``predict`` serves it: rows in (CSV or .npy), predictions
out. Started by an MPI launcher (``mpirun -n 4 python -m micrograd train ...``), ``train`` runs
data-parallel: each process trains on its share of every batch (``--batch-size`` per process),
the gradients are averaged (``DistributedDataParallel``) and rank 0 alone prints and saves.
``train``'s step (gradients reset, loss, backward, update) runs through ``micrograd.compile``
where its replay applies (an MLP with sgd/adam/adamw in one process; ``--no-compile`` turns it
off), with bitwise the same weights as eager.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Any, Callable

import numpy as np

DATASETS = ("digits", "moons", "circles", "blobs", "spirals", "regression")
MODELS = ("mlp", "cnn")
DIGITS_SIDE = 8  # the shipped digits are 8x8 images, one channel
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "identity")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")
#: the optimizers whose update micrograd.compile records (RMSprop's is NumPy code it does not see)
COMPILED_OPTIMIZERS = ("sgd", "adam", "adamw")
MODEL_FORMAT = "micrograd.model"  # the "format" entry of a file written by train --save
MODEL_VERSION = 1


# ---- argument helpers ---------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _checked_float(text: str, ok, expected: str) -> float:
    """float(text) if it is finite and ``ok(value)``; else argparse's error naming ``expected``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(value) or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    return value


def _positive_float(text: str) -> float:
    return _checked_float(text, lambda v: v > 0, "a positive number")


def _fraction(text: str) -> float:
    value = _positive_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1), got {value}")
    return value


def _nonneg_float(text: str) -> float:
    return _checked_float(text, lambda v: v >= 0, "a number >= 0")


def _hidden(text: str) -> tuple[int, ...]:
    """'100,50' -> (100, 50); '' or 'none' -> () (a linear model)."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes like 100,50, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def _use_backend(parser: argparse.ArgumentParser, name: str | None) -> str:
    """Activate backend ``name`` (None: keep the default); a missing C core is a usage error."""
    import micrograd
    if name:
        try:
            micrograd.set_backend(name)
        except (RuntimeError, ValueError) as exc:
            parser.error(str(exc))
    return micrograd.get_backend()


# ---- data -------------------------------------------------------------------------------------
def load_dataset(name: str, n_samples: int, seed: int):
    """(X, y, task) for a data set name, as the data set gives them (digits: pixels 0..16;
    regression: the raw targets); task is 'classification' or 'regression'. The scaling the
    network needs is fitted on the training split (``fit_preprocessing``) and saved with it."""
    from .. import data
    if name == "digits":
        X, y = data.load_digits(return_X_y=True)
        return X, y, "classification"
    makers: dict[str, Callable] = {
        "moons": lambda: data.make_moons(n_samples, noise=0.1, random_state=seed),
        "circles": lambda: data.make_circles(n_samples, noise=0.05, factor=0.5,
                                             random_state=seed),
        "blobs": lambda: data.make_blobs(n_samples, centers=4, random_state=seed),
        "spirals": lambda: data.make_spirals(n_samples, n_classes=3, noise=0.2,
                                             random_state=seed),
    }
    if name in makers:
        X, y = makers[name]()
        return X, y, "classification"
    if name == "regression":
        X, y = data.make_regression(n_samples, n_features=8, n_informative=5, noise=5.0,
                                    random_state=seed)
        return X, y, "regression"
    raise ValueError(f"unknown data set {name!r}; choose one of {DATASETS}")


# ---- preprocessing: a standard scaler, fitted on the training split and saved with the model ----
def fit_preprocessing(X: np.ndarray, y: np.ndarray, task: str,
                      per_feature: bool = True) -> dict[str, Any]:
    """Per-feature mean and scale of ``X`` (scikit-learn's StandardScaler: a constant feature
    keeps scale 1) and, for regression, the target's mean and scale. ``per_feature=False``
    (images, for the CNN): one mean and scale for every pixel, as the MNIST example's
    ``Normalize``, so the picture the convolutions see keeps its shape; stored per feature all
    the same, so ``transform_inputs`` and the model file do not change."""
    if per_feature:
        mean, scale = X.mean(axis=0), X.std(axis=0)
    else:
        mean, scale = np.full(X.shape[1], X.mean()), np.full(X.shape[1], X.std())
    prep: dict[str, Any] = {"x_mean": mean, "x_scale": np.where(scale > 0, scale, 1.0)}
    if task == "regression":
        prep["y_mean"] = float(y.mean())
        prep["y_scale"] = float(y.std()) or 1.0
    return prep


def transform_inputs(prep: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """The network's input for raw rows ``X``: standardised, float32."""
    X = (np.asarray(X, dtype=np.float64) - np.asarray(prep["x_mean"])) / np.asarray(prep["x_scale"])
    return np.ascontiguousarray(X, dtype=np.float32)


def transform_targets(prep: dict[str, Any], y: np.ndarray, task: str) -> np.ndarray:
    """Training targets: class indices as int64, or standardised regression targets (N, 1)."""
    if task == "classification":
        return np.asarray(y, dtype=np.int64)
    return ((np.asarray(y, dtype=np.float64) - prep["y_mean"]) / prep["y_scale"]) \
        .astype(np.float32)[:, None]


# ---- demo -------------------------------------------------------------------------------------
def demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="micrograd demo",
        description="Train the seed network, MLPClassifier(hidden_layer_sizes=(100, 50), "
                    "activation='relu', random_state=42), on the 1797 8x8 handwritten digits "
                    "shipped with micrograd (75/25 split), then print test accuracy, time per "
                    "epoch and the backend that ran. --model cnn trains the convolutional "
                    "network of examples/cnn_digits.py (PyTorch's MNIST example) instead.")
    parser.add_argument("--model", choices=MODELS, default="mlp",
                        help="mlp: the seed MLP (default); cnn: conv-relu-conv-relu-maxpool-"
                             "dropout-linear-relu-dropout-linear with log_softmax, Adadelta "
                             "(lr 1.0) and StepLR (gamma 0.7), as PyTorch's MNIST example")
    parser.add_argument("--max-iter", type=_positive_int, default=None, metavar="N",
                        help="epochs: at most N for the MLP (default 200; it stops earlier "
                             "when the loss stops improving, as scikit-learn's does), exactly "
                             "N for the CNN (default 8)")
    parser.add_argument("--seed", type=int, default=42,
                        help="random_state for the split, weights and shuffling (default 42)")
    parser.add_argument("--backend", choices=("c", "numpy"), default=None,
                        help="compute backend (default: C when built, else NumPy)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--compare", action="store_true",
                        help="also fit scikit-learn's MLPClassifier with the same settings "
                             "(needs scikit-learn) and print its accuracy and fit time (MLP "
                             "only: scikit-learn has no CNN)")
    args = parser.parse_args(argv)
    if args.model == "cnn" and args.compare:
        parser.error("--compare fits scikit-learn's MLPClassifier, which has no convolutional "
                     "network: it applies to --model mlp only")
    backend = _use_backend(parser, args.backend)
    if args.model == "cnn":
        return _demo_cnn(8 if args.max_iter is None else args.max_iter, args.seed, backend,
                         args.no_progress)
    max_iter = 200 if args.max_iter is None else args.max_iter

    import warnings

    from ..data import load_digits, train_test_split
    from ..tools.progress import progress
    from .sklearn import ConvergenceWarning, MLPClassifier

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25,
                                                        random_state=args.seed)
    print(f"digits: {len(X_train)} training and {len(X_test)} test images of 8x8 pixels, "
          f"10 classes")
    clf = MLPClassifier(hidden_layer_sizes=(100, 50), activation="relu",
                        random_state=args.seed)
    print(f"model: {clf!r} -> 64-100-50-10, adam, batch 200; backend {backend!r}")
    classes = np.unique(y_train)
    bar = progress(total=max_iter, desc="training", unit="epoch", disable=args.no_progress)
    start, best, stale, epochs = time.perf_counter(), np.inf, 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epochs in range(1, max_iter + 1):
            clf.partial_fit(X_train, y_train, classes=classes)
            loss = clf.loss_
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            bar.update(1)
            # scikit-learn's stopping rule: no improvement by tol for n_iter_no_change epochs
            stale = stale + 1 if loss > best - clf.tol else 0
            best = min(best, loss)
            if stale > clf.n_iter_no_change:
                bar.total = epochs  # stopped early: show the bar complete
                break
    bar.close()
    seconds = time.perf_counter() - start
    accuracy = clf.score(X_test, y_test)
    print(f"test accuracy {accuracy:.4f} ({round(accuracy * len(y_test))}/{len(y_test)}) after "
          f"{epochs} epochs, final training loss {clf.loss_:.4f}")
    print(f"time: {seconds:.2f} s of training, {seconds / epochs * 1e3:.1f} ms per epoch "
          f"on the {backend!r} backend")
    if args.compare:
        try:
            from sklearn.neural_network import MLPClassifier as SkMLP
        except ImportError:
            print("scikit-learn is not installed: pip install scikit-learn to --compare")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                sk = SkMLP(hidden_layer_sizes=(100, 50), activation="relu",
                           random_state=args.seed).fit(X_train, y_train)
                sk_seconds = time.perf_counter() - t0
            print(f"scikit-learn: test accuracy {sk.score(X_test, y_test):.4f} after "
                  f"{sk.n_iter_} epochs, {sk_seconds:.2f} s "
                  f"({sk_seconds / sk.n_iter_ * 1e3:.1f} ms per epoch)")
    return 0


def _demo_cnn(epochs: int, seed: int, backend: str, no_progress: bool) -> int:
    """examples/cnn_digits.py's recipe on the shipped digits: batch 64, Adadelta (lr 1.0),
    StepLR (gamma 0.7 each epoch), log_softmax + nll_loss; the pixels standardised with the
    training images' mean and deviation, as the MNIST example's ``Normalize`` (on these 8x8
    digits that gains 1-3 points of test accuracy over pixels in [0, 1])."""
    from .. import nn, optim
    from ..core.random import manual_seed
    from ..data import DataLoader, TensorDataset, load_digits, train_test_split
    from ..tools.progress import progress

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25,
                                                        random_state=seed)
    prep = fit_preprocessing(X_train, y_train, "classification", per_feature=False)
    X_train, X_test = transform_inputs(prep, X_train), transform_inputs(prep, X_test)
    print(f"digits: {len(X_train)} training and {len(X_test)} test images of 8x8 pixels, "
          f"10 classes")
    manual_seed(seed)
    model = build_cnn(DIGITS_SIDE, 10)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: PyTorch's MNIST example network, convolutions padded for 8x8 images "
          f"({n_params} parameters), Adadelta lr 1.0, StepLR gamma 0.7, batch 64; backend "
          f"{backend!r}")
    opt = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    loader = DataLoader(TensorDataset(X_train, y_train.astype(np.int64)), batch_size=64,
                        shuffle=True, seed=seed)
    loss_fn = nn.NLLLoss()
    bar = progress(range(epochs), desc="training", unit="epoch", disable=no_progress)
    start = time.perf_counter()
    loss_value = float("nan")
    for _ in bar:
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        scheduler.step()
        loss_value = total / len(X_train)
        bar.set_postfix(loss=f"{loss_value:.4f}", refresh=False)
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, X_test, y_test, "classification")
    print(f"test accuracy {accuracy:.4f} ({round(accuracy * len(y_test))}/{len(y_test)}) after "
          f"{epochs} epochs, final training loss {loss_value:.4f}")
    print(f"time: {seconds:.2f} s of training, {seconds / epochs * 1e3:.1f} ms per epoch "
          f"on the {backend!r} backend")
    return 0


# ---- train ------------------------------------------------------------------------------------
def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="micrograd train",
        description="Train an MLP (nn.Sequential of Linear layers and activations) or a CNN "
                    "(--model cnn: PyTorch's MNIST example network, on the digit images) with "
                    "micrograd's nn/optim/data on standardised inputs, print the loss per epoch "
                    "and the test score, optionally save the model for `predict`.",
        epilog="example: python -m micrograd train --data digits --hidden 100,50 "
               "--activation relu --epochs 20 --batch-size 64 --lr 1e-3 --optimizer adam "
               "--seed 0 --save digits.npz, then python -m micrograd predict digits.npz "
               "rows.csv; python -m micrograd train --model cnn --epochs 8")
    p.add_argument("--model", choices=MODELS, default="mlp",
                   help="mlp: Linear layers and activations (--hidden, --activation; the "
                        "default); cnn: conv-relu-conv-relu-maxpool-dropout-linear-relu-"
                        "dropout-linear with log_softmax, PyTorch's MNIST example network "
                        "(examples/cnn_digits.py), on the 8x8 digit images")
    p.add_argument("--data", choices=DATASETS, default=None,
                   help="data set: the shipped 8x8 digits, or a generated toy set "
                        "(default moons; digits, the only images, for --model cnn)")
    p.add_argument("--samples", type=_positive_int, default=None, metavar="N",
                   help="samples to generate for the toy sets (default 1000; digits always has "
                        "its 1797)")
    p.add_argument("--test-size", type=_fraction, default=0.25, metavar="F",
                   help="fraction of the data held out for testing (default 0.25)")
    p.add_argument("--hidden", type=_hidden, default=None, metavar="SIZES",
                   help="hidden layer sizes of the MLP, comma-separated (default 100,50; "
                        "'none' for a linear model)")
    p.add_argument("--activation", choices=ACTIVATIONS, default=None,
                   help="activation after each hidden layer of the MLP (default relu)")
    p.add_argument("--epochs", type=_positive_int, default=20, metavar="N",
                   help="passes over the training data (default 20)")
    p.add_argument("--batch-size", type=_positive_int, default=64, metavar="B",
                   help="mini-batch size (default 64)")
    p.add_argument("--lr", type=_positive_float, default=None, metavar="LR",
                   help="learning rate (default 1e-3 for adam/adamw/rmsprop, 0.1 for sgd)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam",
                   help="optimizer (default adam)")
    p.add_argument("--momentum", type=_nonneg_float, default=None,
                   help="momentum for sgd and rmsprop (default 0.9; adam and adamw have none)")
    p.add_argument("--weight-decay", type=_nonneg_float, default=0.0, metavar="WD",
                   help="weight decay (L2 for sgd/adam/rmsprop, decoupled for adamw; "
                        "default 0)")
    p.add_argument("--scheduler", choices=("none", "step", "cosine"), default="none",
                   help="learning-rate schedule per epoch: StepLR (x0.1 every third of the "
                        "epochs) or CosineAnnealingLR (default none)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for data generation, split, weights and shuffling (default 0)")
    p.add_argument("--backend", choices=("c", "numpy"), default=None,
                   help="compute backend (default: C when built, else NumPy)")
    p.add_argument("--save", metavar="PATH", default=None,
                   help="save the trained model to PATH: one file (mg.save's .npz format) with "
                        "the architecture, the input scaling and the weights, for `python -m "
                        "micrograd predict PATH INPUT`; PATH is checked before training")
    p.add_argument("--no-compile", action="store_true",
                   help="run every training step eagerly. By default an MLP trained with sgd, "
                        "adam or adamw in one process replays its step recorded by "
                        "micrograd.compile (bitwise the same result, less Python per step); "
                        "the CNN (dropout), rmsprop and MPI runs always train eagerly")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--quiet", action="store_true", help="print only the final result")
    return p


def build_model(n_in: int, hidden: tuple[int, ...], n_out: int, activation: str):
    """Linear -> act -> ... -> Linear, PyTorch's default initialisation."""
    from .. import nn
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
            "leaky_relu": nn.LeakyReLU, "identity": nn.Identity}
    sizes = [n_in, *hidden, n_out]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(acts[activation]())
    return nn.Sequential(*layers)


def cnn_layers(nn: Any, side: int, n_out: int = 10, padding: int = 1,
               dropout: bool = True) -> list:
    """The layers of PyTorch's MNIST example network (examples/cnn_digits.py's ``Net``, in
    its order, so a seed gives both the same weights) for one-channel images of ``side`` x
    ``side`` pixels: conv 1->32, relu, conv 32->64, relu, 2x2 max pool, dropout 0.25, flatten,
    linear -> 128, relu, dropout 0.5, linear -> ``n_out``, log_softmax. ``padding`` 1 keeps the
    size through the 3x3 convolutions (the 8x8 digits; unpadded they leave 2x2), 0 is the
    example's 28x28 network. ``nn`` is ``micrograd.nn`` or ``torch.nn``: the benchmark builds
    PyTorch's side of the comparison from the same list. ``dropout=False`` leaves the two
    dropouts out (a benchmark step that must repeat exactly)."""
    pooled = (side - 4 + 4 * padding) // 2
    if pooled < 1:
        raise ValueError(f"cnn_layers: {side}x{side} images with padding {padding} leave "
                         "nothing to pool after the two 3x3 convolutions")
    drop1, drop2 = ([nn.Dropout(0.25)], [nn.Dropout(0.5)]) if dropout else ([], [])
    return [nn.Conv2d(1, 32, 3, 1, padding), nn.ReLU(), nn.Conv2d(32, 64, 3, 1, padding),
            nn.ReLU(), nn.MaxPool2d(2), *drop1, nn.Flatten(),
            nn.Linear(64 * pooled * pooled, 128), nn.ReLU(), *drop2, nn.Linear(128, n_out),
            nn.LogSoftmax(dim=1)]


def build_cnn(side: int, n_out: int, padding: int = 1):
    """``cnn_layers`` behind an ``Unflatten``: the network takes rows of ``side * side`` pixels,
    as the MLP takes rows of features, so training, ``evaluate``, the model file and
    ``predict`` serve both alike."""
    from .. import nn
    return nn.Sequential(nn.Unflatten(1, (1, side, side)), *cnn_layers(nn, side, n_out, padding))


def model_from(architecture: dict[str, Any]):
    """The network an architecture entry (of a model file) describes, freshly initialised."""
    arch = architecture
    if arch["kind"] == "cnn":
        return build_cnn(arch["side"], arch["n_out"], arch["padding"])
    return build_model(arch["n_in"], tuple(arch["hidden"]), arch["n_out"], arch["activation"])


def make_optimizer(name: str, params, lr: float | None, momentum: float, weight_decay: float):
    from .. import optim
    if name == "sgd":
        return optim.SGD(params, lr=0.1 if lr is None else lr, momentum=momentum,
                         weight_decay=weight_decay)
    lr = 1e-3 if lr is None else lr
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def training_step(net, loss_fn, opt, compiled: bool) -> Callable:
    """``step(x, y) -> loss``: gradients reset, loss, backward, optimizer update. With
    ``compiled`` it is ``micrograd.compile``'s replay of it. The caller passes ``compiled`` only
    for what the replay covers (an MLP of Linear layers and activations, a loss of its
    outputs, an SGD/Adam/AdamW update, one process), so the step never falls back to eager
    with compile's warning: the CNN draws dropout masks, RMSprop updates in NumPy, and
    DistributedDataParallel averages gradients between processes, none of which it records.
    Either way the weights are bitwise the same."""
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss
    if not compiled:
        return step
    from ..compile import compile as mg_compile
    return mg_compile(step)


def forward_rows(model, X: np.ndarray) -> np.ndarray:
    """``model``'s outputs for network-ready rows ``X`` (float32), in eval mode, without a
    graph; the model is left in the mode it had."""
    from ..core.autograd import no_grad
    from ..core.creation import from_numpy
    was_training = model.training
    model.eval()
    with no_grad():
        out = model(from_numpy(np.ascontiguousarray(X, dtype=np.float32)))._array
    model.train(was_training)
    return out


def evaluate(model, X: np.ndarray, y: np.ndarray, task: str) -> float:
    """Accuracy (classification) or R^2 (regression) of ``model`` on network-ready rows ``X``
    and targets ``y`` (R^2 is the same for standardised and raw targets)."""
    out = forward_rows(model, X)
    if task == "classification":
        return float((out.argmax(axis=1) == y).mean())
    out = out[:, 0].astype(np.float64)
    return float(1 - ((y - out) ** 2).sum() / ((y - y.mean()) ** 2).sum())


# ---- model files: train --save writes one, predict reads it -------------------------------------
def check_save_path(path: str, option: str = "--save") -> None:
    """Raise ``ValueError`` when ``path`` cannot be written, so the mistake shows before
    training, not after it: its folder must exist and take a new file (that is how the save
    writes: a temporary file renamed over the target), and ``path`` must not be a folder."""
    target = os.path.realpath(path)  # a symlink is written through to its target
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        raise ValueError(f"{option} {path}: is a directory; give a file name such as "
                         f"{os.path.join(path, 'model.npz')}")
    if not os.path.isdir(folder):
        raise ValueError(f"{option} {path}: the directory {folder} does not exist")
    probe = os.path.join(folder, f".micrograd-save-check-{os.getpid()}")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise ValueError(f"{option} {path}: cannot create a file in {folder} "
                         f"({exc.strerror})") from None
    os.remove(probe)
    if os.path.exists(target) and not os.access(target, os.W_OK):
        raise ValueError(f"{option} {path}: the file exists and is not writable")


def save_model(path: str, model, architecture: dict[str, Any], preprocessing: dict[str, Any],
               classes: np.ndarray | None) -> None:
    """One file with everything ``predict`` needs: architecture, preprocessing, weights."""
    from ..tools.serialization import save
    save({"format": MODEL_FORMAT, "version": MODEL_VERSION, "architecture": architecture,
          "preprocessing": preprocessing, "classes": classes,
          "state_dict": model.state_dict()}, path)


def load_model(path: str):
    """(model, file contents) for a file written by ``train --save``; ``ValueError`` naming the
    file when it is not one."""
    from ..tools.serialization import load
    contents = load(path, weights_only=True)
    if not isinstance(contents, dict) or contents.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path} is not a model file written by `micrograd train --save` "
                         "(a bare state_dict has no architecture: load it with mg.load and "
                         "model.load_state_dict)")
    if contents.get("version") != MODEL_VERSION:
        raise ValueError(f"{path}: model file version {contents.get('version')!r}; this "
                         f"micrograd reads version {MODEL_VERSION}")
    model = model_from(contents["architecture"])
    model.load_state_dict(contents["state_dict"])
    model.eval()
    return model, contents


def read_rows(path: str, n_features: int) -> np.ndarray:
    """The rows to predict from a .npy file or a CSV file (comma-separated numbers, an optional
    header line); ``ValueError`` naming the file and what is wrong with it."""
    if path.endswith(".npy"):
        try:
            X = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable .npy array ({exc})") from None
    else:
        try:
            with open(path, encoding="utf-8") as f:
                lines = [line for line in f.read().splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: cannot read it ({exc})") from None
        if lines and not _is_numeric_row(lines[0]):
            lines = lines[1:]  # a header line
        try:
            rows = [[float(v) for v in line.split(",")] for line in lines]
        except ValueError as exc:
            raise ValueError(f"{path}: expected comma-separated numbers ({exc})") from None
        widths = sorted({len(row) for row in rows})
        if len(widths) > 1:
            raise ValueError(f"{path}: rows have different numbers of columns: {widths}")
        X = np.array(rows, dtype=np.float64).reshape(len(rows), widths[0] if rows else 0)
    if X.ndim == 1 and X.size == n_features:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != n_features or len(X) == 0:
        raise ValueError(f"{path}: the model takes rows of {n_features} features, got an array "
                         f"of shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: expected numbers, got dtype {X.dtype}")
    if not np.isfinite(X).all():
        row = int(np.argwhere(~np.isfinite(X))[0, 0])
        raise ValueError(f"{path}: row {row} holds NaN or infinity")
    return X


def _is_numeric_row(line: str) -> bool:
    try:
        [float(v) for v in line.split(",")]
    except ValueError:
        return False
    return True


def predict_rows(model, contents: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """Predictions for raw rows ``X``: class labels, or regression values in the target's
    units."""
    prep = contents["preprocessing"]
    out = forward_rows(model, transform_inputs(prep, X))
    if contents["architecture"]["task"] == "classification":
        return np.asarray(contents["classes"])[out.argmax(axis=1)]
    return out[:, 0].astype(np.float64) * prep["y_scale"] + prep["y_mean"]


def predict(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="micrograd predict",
        description="Predict with a model saved by `python -m micrograd train --save MODEL`: "
                    "read rows of raw features (as the data set gives them; the model file "
                    "holds the scaling), print one prediction per line (a class label, or a "
                    "value for regression).",
        epilog="example: python -m micrograd predict digits.npz rows.csv --out labels.csv")
    parser.add_argument("model", metavar="MODEL", help="a file written by train --save")
    parser.add_argument("input", metavar="INPUT",
                        help="rows to predict: a .npy array of shape (rows, features), or a CSV "
                             "file of comma-separated numbers (an optional header line)")
    parser.add_argument("--out", metavar="FILE", default=None,
                        help="write the predictions to FILE instead of stdout (.npy: a NumPy "
                             "array; anything else: one per line)")
    parser.add_argument("--backend", choices=("c", "numpy"), default=None,
                        help="compute backend (default: C when built, else NumPy)")
    args = parser.parse_args(argv)
    _use_backend(parser, args.backend)
    try:
        if args.out is not None:
            check_save_path(args.out, "--out")
        model, contents = load_model(args.model)
        X = read_rows(args.input, contents["architecture"]["n_in"])
    except (OSError, RuntimeError, ValueError) as exc:
        parser.error(str(exc))
    predictions = predict_rows(model, contents, X)
    fmt = "%d" if predictions.dtype.kind in "iub" else "%.9g"
    if args.out is None:
        np.savetxt(sys.stdout, predictions, fmt=fmt)
    elif args.out.endswith(".npy"):
        np.save(args.out, predictions)
    else:
        np.savetxt(args.out, predictions, fmt=fmt)
    return 0


# ---- train --------------------------------------------------------------------------------------
def _join_mpi_job(parser: argparse.ArgumentParser) -> tuple[int, int]:
    """(rank, world size). Started by an MPI launcher with several processes: join the job
    (``micrograd.distributed``, mpi4py); otherwise (0, 1), and MPI is never imported."""
    from .. import distributed
    if not distributed.is_mpi_launched():
        return 0, 1
    try:
        distributed.init_process_group("mpi")
    except RuntimeError as exc:
        parser.error(f"started by an MPI launcher with several processes, but {exc}")
    return distributed.get_rank(), distributed.get_world_size()


def _global_mean(value: float, count: int) -> tuple[float, int]:
    """(the mean of the ranks' batch losses weighted by their sizes, the global batch size):
    every rank gets the same numbers, so all stop together on a nan."""
    from ..core.creation import from_numpy
    from ..distributed import all_reduce
    stats = np.array([value * count, count], dtype=np.float64)
    all_reduce(from_numpy(stats))
    return float(stats[0] / stats[1]), int(stats[1])


def _options_that_do_not_apply(args) -> list[str]:
    """Warnings for options the run ignores (each names the option and why)."""
    notes = []
    if args.model == "cnn":
        notes += [f"{option} applies to --model mlp; the CNN's layers are fixed"
                  for option, value in (("--hidden", args.hidden),
                                        ("--activation", args.activation)) if value is not None]
    if args.momentum is not None and args.optimizer not in MOMENTUM_OPTIMIZERS:
        notes.append(f"--momentum applies to sgd and rmsprop; {args.optimizer} ignores it")
    if args.samples is not None and args.data == "digits":
        notes.append("--samples applies to the generated data sets; digits always has its "
                     "1797 images")
    if args.model == "mlp" and args.hidden == () and args.activation is not None:
        notes.append(f"--activation {args.activation} has no effect on a linear model "
                     "(--hidden none)")
    return notes


def train(argv: list[str]) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.data is None:
        args.data = "digits" if args.model == "cnn" else "moons"
    if args.model == "cnn" and args.data != "digits":
        parser.error(f"--model cnn trains on images: use --data digits (the 8x8 digit images); "
                     f"{args.data} is a table of features, for --model mlp")
    backend = _use_backend(parser, args.backend)
    if args.save is not None:
        try:
            check_save_path(args.save)
        except ValueError as exc:
            parser.error(str(exc))
    rank, world = _join_mpi_job(parser)
    if rank:  # rank 0 speaks for the job
        args.quiet = args.no_progress = True
    for note in _options_that_do_not_apply(args) if rank == 0 else ():
        print(f"micrograd train: warning: {note}", file=sys.stderr)
    # the defaults of the options above (None there: "not given", for the warnings)
    momentum = 0.9 if args.momentum is None else args.momentum
    samples = 1000 if args.samples is None else args.samples
    activation = "relu" if args.activation is None else args.activation
    hidden = (100, 50) if args.hidden is None else args.hidden

    from .. import nn
    from ..data import DataLoader, TensorDataset, train_test_split
    from ..data.distributed import DistributedSampler
    from ..nn.parallel import DistributedDataParallel
    from ..tools.progress import progress
    from ..core.random import manual_seed

    manual_seed(args.seed)
    X, y, task = load_dataset(args.data, samples, args.seed)
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=args.test_size, stratify=stratify, random_state=args.seed)
    prep = fit_preprocessing(X_train, y_train, task, per_feature=args.model == "mlp")
    Xt_train, Xt_test = transform_inputs(prep, X_train), transform_inputs(prep, X_test)
    targets = transform_targets(prep, y_train, task)
    classes = np.unique(y) if task == "classification" else None
    n_out = int(y.max()) + 1 if task == "classification" else 1
    if args.model == "cnn":
        architecture = {"kind": "cnn", "task": task, "n_in": int(X.shape[1]),
                        "side": DIGITS_SIDE, "padding": 1, "n_out": n_out, "data": args.data}
    else:
        architecture = {"kind": "mlp", "task": task, "n_in": int(X.shape[1]),
                        "hidden": list(hidden), "n_out": n_out, "activation": activation,
                        "data": args.data}
    model = model_from(architecture)
    net = DistributedDataParallel(model) if world > 1 else model  # what the steps call
    opt = make_optimizer(args.optimizer, model.parameters(), args.lr, momentum,
                         args.weight_decay)
    scheduler = None
    if args.scheduler == "step":
        from ..optim.lr_scheduler import StepLR
        scheduler = StepLR(opt, step_size=max(args.epochs // 3, 1), gamma=0.1)
    elif args.scheduler == "cosine":
        from ..optim.lr_scheduler import CosineAnnealingLR
        scheduler = CosineAnnealingLR(opt, T_max=args.epochs)
    if args.model == "cnn":  # its last layer is log_softmax
        loss_fn = nn.NLLLoss()
    else:
        loss_fn = nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()
    dataset = TensorDataset(Xt_train, targets)
    sampler = DistributedSampler(dataset, seed=args.seed) if world > 1 else None
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=sampler is None,
                        sampler=sampler, seed=args.seed if sampler is None else None)
    compiled = (not args.no_compile and args.model == "mlp" and world == 1
                and args.optimizer in COMPILED_OPTIMIZERS)
    step = training_step(net, loss_fn, opt, compiled)
    metric = "accuracy" if task == "classification" else "R^2"
    if not args.quiet:
        n_params = sum(p.numel() for p in model.parameters())
        scaling = ("standardised" if args.model == "mlp"
                   else f"{DIGITS_SIDE}x{DIGITS_SIDE} images, standardised as a whole")
        print(f"data {args.data}: {len(X_train)} train / {len(X_test)} test samples, "
              f"{X.shape[1]} features ({scaling}); backend {backend!r}")
        print(f"model ({n_params} parameters):\n{model}")
        print(f"optimizer {type(opt).__name__}, lr {opt.param_groups[0]['lr']}, "
              f"batch size {args.batch_size}, {args.epochs} epochs")
        if world > 1:
            print(f"data-parallel over {world} MPI processes: batch size {args.batch_size} "
                  f"per process, {args.batch_size * world} per step")
    start = time.perf_counter()
    bar = progress(range(args.epochs), desc="training", unit="epoch",
                   disable=args.no_progress or args.quiet)
    for epoch in bar:
        total, count = 0.0, 0
        if sampler is not None:
            sampler.set_epoch(epoch)
        for batch, (xb, yb) in enumerate(loader):
            value, size = step(xb, yb).item(), len(xb)
            if world > 1:
                value, size = _global_mean(value, size)
            if not math.isfinite(value):
                bar.close()
                if rank == 0:
                    print(f"micrograd train: error: the loss became {value} at epoch "
                          f"{epoch + 1}, batch {batch + 1}: training diverged (learning rate "
                          f"{opt.param_groups[0]['lr']:g} with {args.optimizer}); try a "
                          "smaller --lr. Nothing was saved.", file=sys.stderr)
                return 1
            total += value * size
            count += size
        if scheduler is not None:
            scheduler.step()
        bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
        if not args.quiet and args.no_progress:
            print(f"epoch {epoch + 1}/{args.epochs}: loss {total / count:.4f}")
    seconds = time.perf_counter() - start
    if rank:  # the replicas hold rank 0's weights: it evaluates, prints and saves
        return 0
    y_eval_train = y_train if task == "classification" else targets[:, 0]
    y_eval_test = y_test if task == "classification" \
        else transform_targets(prep, y_test, task)[:, 0]
    train_score = evaluate(model, Xt_train, y_eval_train, task)
    test_score = evaluate(model, Xt_test, y_eval_test, task)
    print(f"train {metric} {train_score:.4f}, test {metric} {test_score:.4f}; "
          f"{seconds / args.epochs * 1e3:.1f} ms per epoch on the {backend!r} backend")
    if args.save:
        save_model(args.save, model, architecture, prep, classes)
        print(f"saved the model (architecture, input scaling, weights) to {args.save}; "
              f"predict with: python -m micrograd predict {args.save} INPUT")
    return 0
