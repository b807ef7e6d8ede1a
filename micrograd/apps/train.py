"""``python -m micrograd demo`` and ``python -m micrograd train``: training from the command line.

``demo`` is the seed article's experiment: ``MLPClassifier(hidden_layer_sizes=(100, 50),
activation='relu', random_state=42)`` on the 8x8 digit images shipped with micrograd (75/25
split), trained epoch by epoch with a progress bar, then test accuracy, time per epoch and the
backend that ran. ``train`` is the PyTorch way with knobs: an ``nn.Sequential`` MLP, an optimizer,
a ``DataLoader``, on a generated or shipped data set, optionally saved with ``mg.save``.
"""
from __future__ import annotations

import argparse
import time
from typing import Callable

import numpy as np

DATASETS = ("digits", "moons", "circles", "blobs", "spirals", "regression")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "identity")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")


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
    """(X, y, task) for a data set name; task is 'classification' or 'regression'."""
    from .. import data
    if name == "digits":
        X, y = data.load_digits(return_X_y=True)
        return X / 16.0, y, "classification"  # pixels 0..16 -> [0, 1]
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
        return X, (y - y.mean()) / y.std(), "regression"
    raise ValueError(f"unknown data set {name!r}; choose one of {DATASETS}")


# ---- demo -------------------------------------------------------------------------------------
def demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="micrograd demo",
        description="Train the seed network, MLPClassifier(hidden_layer_sizes=(100, 50), "
                    "activation='relu', random_state=42), on the 1797 8x8 handwritten digits "
                    "shipped with micrograd (75/25 split), then print test accuracy, time per "
                    "epoch and the backend that ran.")
    parser.add_argument("--max-iter", type=_positive_int, default=200, metavar="N",
                        help="maximum number of epochs (default 200; training stops earlier "
                             "when the loss stops improving, as scikit-learn's does)")
    parser.add_argument("--seed", type=int, default=42,
                        help="random_state for the split, weights and shuffling (default 42)")
    parser.add_argument("--backend", choices=("c", "numpy"), default=None,
                        help="compute backend (default: C when built, else NumPy)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--compare", action="store_true",
                        help="also fit scikit-learn's MLPClassifier with the same settings "
                             "(needs scikit-learn) and print its accuracy and fit time")
    args = parser.parse_args(argv)
    backend = _use_backend(parser, args.backend)

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
    bar = progress(total=args.max_iter, desc="training", unit="epoch",
                   disable=args.no_progress)
    start, best, stale, epochs = time.perf_counter(), np.inf, 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epochs in range(1, args.max_iter + 1):
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


# ---- train ------------------------------------------------------------------------------------
def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="micrograd train",
        description="Train an MLP (nn.Sequential of Linear layers and activations) with "
                    "micrograd's nn/optim/data, print the loss per epoch and the test "
                    "score, optionally save the weights.",
        epilog="example: python -m micrograd train --data digits --hidden 100,50 "
               "--activation relu --epochs 20 --batch-size 64 --lr 1e-3 --optimizer adam "
               "--seed 0 --save digits.npz")
    p.add_argument("--data", choices=DATASETS, default="moons",
                   help="data set: the shipped 8x8 digits, or a generated toy set "
                        "(default moons)")
    p.add_argument("--samples", type=_positive_int, default=1000, metavar="N",
                   help="samples to generate for the toy sets (default 1000; digits has 1797)")
    p.add_argument("--test-size", type=_fraction, default=0.25, metavar="F",
                   help="fraction of the data held out for testing (default 0.25)")
    p.add_argument("--hidden", type=_hidden, default=(100, 50), metavar="SIZES",
                   help="hidden layer sizes, comma-separated (default 100,50; 'none' for a "
                        "linear model)")
    p.add_argument("--activation", choices=ACTIVATIONS, default="relu",
                   help="activation after each hidden layer (default relu)")
    p.add_argument("--epochs", type=_positive_int, default=20, metavar="N",
                   help="passes over the training data (default 20)")
    p.add_argument("--batch-size", type=_positive_int, default=64, metavar="B",
                   help="mini-batch size (default 64)")
    p.add_argument("--lr", type=_positive_float, default=None, metavar="LR",
                   help="learning rate (default 1e-3 for adam/adamw/rmsprop, 0.1 for sgd)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam",
                   help="optimizer (default adam)")
    p.add_argument("--momentum", type=_nonneg_float, default=0.9,
                   help="momentum for sgd and rmsprop (default 0.9)")
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
                   help="save the trained model's state_dict with mg.save (an .npz file)")
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


def evaluate(model, X: np.ndarray, y: np.ndarray, task: str) -> float:
    """Accuracy (classification) or R^2 (regression) of ``model`` on (X, y), without a graph."""
    from ..core.autograd import no_grad
    from ..core.creation import from_numpy
    model.eval()
    with no_grad():
        out = model(from_numpy(np.ascontiguousarray(X, dtype=np.float32)))._array
    model.train()
    if task == "classification":
        return float((out.argmax(axis=1) == y).mean())
    out = out[:, 0].astype(np.float64)
    return float(1 - ((y - out) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def train(argv: list[str]) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    backend = _use_backend(parser, args.backend)

    from .. import nn
    from ..data import DataLoader, TensorDataset, train_test_split
    from ..tools.progress import progress
    from ..core.random import manual_seed
    from ..tools.serialization import save

    manual_seed(args.seed)
    X, y, task = load_dataset(args.data, args.samples, args.seed)
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=args.test_size, stratify=stratify, random_state=args.seed)
    n_out = int(y.max()) + 1 if task == "classification" else 1
    model = build_model(X.shape[1], args.hidden, n_out, args.activation)
    opt = make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum,
                         args.weight_decay)
    scheduler = None
    if args.scheduler == "step":
        from ..optim.lr_scheduler import StepLR
        scheduler = StepLR(opt, step_size=max(args.epochs // 3, 1), gamma=0.1)
    elif args.scheduler == "cosine":
        from ..optim.lr_scheduler import CosineAnnealingLR
        scheduler = CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()
    targets = y_train.astype(np.int64) if task == "classification" \
        else y_train.astype(np.float32)[:, None]
    loader = DataLoader(TensorDataset(X_train.astype(np.float32), targets),
                        batch_size=args.batch_size, shuffle=True, seed=args.seed)
    metric = "accuracy" if task == "classification" else "R^2"
    if not args.quiet:
        n_params = sum(p.numel() for p in model.parameters())
        print(f"data {args.data}: {len(X_train)} train / {len(X_test)} test samples, "
              f"{X.shape[1]} features; backend {backend!r}")
        print(f"model ({n_params} parameters):\n{model}")
        print(f"optimizer {type(opt).__name__}, lr {opt.param_groups[0]['lr']}, "
              f"batch size {args.batch_size}, {args.epochs} epochs")
    start = time.perf_counter()
    bar = progress(range(args.epochs), desc="training", unit="epoch",
                   disable=args.no_progress or args.quiet)
    for epoch in bar:
        total, count = 0.0, 0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            count += len(xb)
        if scheduler is not None:
            scheduler.step()
        bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
        if not args.quiet and args.no_progress:
            print(f"epoch {epoch + 1}/{args.epochs}: loss {total / count:.4f}")
    seconds = time.perf_counter() - start
    train_score = evaluate(model, X_train, y_train, task)
    test_score = evaluate(model, X_test, y_test, task)
    print(f"train {metric} {train_score:.4f}, test {metric} {test_score:.4f}; "
          f"{seconds / args.epochs * 1e3:.1f} ms per epoch on the {backend!r} backend")
    if args.save:
        save(model.state_dict(), args.save)
        print(f"saved state_dict to {args.save} (load with mg.load and "
              f"model.load_state_dict)")
    return 0
