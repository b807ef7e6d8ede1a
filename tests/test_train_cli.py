"""`python -m micrograd demo|train` and the progress bar."""
from __future__ import annotations

import io
import re
import subprocess
import sys

import numpy as np
import pytest

import micrograd as mg
from micrograd.apps import train as cli
from micrograd.tools.progress import ProgressBar, progress


def test_demo_trains_the_seed_network_and_reports(capsys):
    assert cli.demo(["--no-progress"]) == 0
    out = capsys.readouterr().out
    acc = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert acc > 0.95
    assert re.search(r"[\d.]+ ms per epoch on the '(c|numpy)' backend", out)
    assert "hidden_layer_sizes=(100, 50)" in out and "random_state=42" in out


def test_demo_on_numpy_backend_with_few_epochs(capsys):
    before = mg.get_backend()
    try:
        assert cli.demo(["--backend", "numpy", "--max-iter", "3", "--no-progress"]) == 0
    finally:
        mg.set_backend(before)
    out = capsys.readouterr().out
    assert "after 3 epochs" in out and "'numpy' backend" in out


def test_demo_through_python_dash_m_with_progress_bar():
    out = subprocess.run([sys.executable, "-m", "micrograd", "demo", "--max-iter", "5"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "test accuracy" in out.stdout
    assert "5/200" in out.stderr or "training" in out.stderr  # the bar goes to stderr


def _options(parser_help: str) -> set[str]:
    return set(re.findall(r"(--[a-z][a-z-]+)", parser_help))


@pytest.mark.parametrize("command, expected", [
    ("demo", {"--max-iter", "--seed", "--backend", "--no-progress", "--compare"}),
    ("train", {"--data", "--samples", "--test-size", "--hidden", "--activation", "--epochs",
               "--batch-size", "--lr", "--optimizer", "--momentum", "--weight-decay",
               "--scheduler", "--seed", "--backend", "--save", "--no-progress", "--quiet"}),
])
def test_help_documents_every_option(command, expected, capsys):
    with pytest.raises(SystemExit) as exc:
        getattr(cli, command)(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert expected <= _options(text)
    for option in expected:  # each option line carries a description
        assert re.search(re.escape(option) + r"[^\n]*\n?\s+\S", text)


def test_train_digits_and_save_loadable_state(tmp_path, capsys):
    path = tmp_path / "digits.npz"
    code = cli.train(["--data", "digits", "--hidden", "32", "--epochs", "3", "--batch-size",
                      "64", "--lr", "0.01", "--seed", "1", "--save", str(path), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert "epoch 3/3" in out
    acc = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert acc > 0.85
    state = mg.load(path)
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    model = cli.build_model(64, (32,), 10, "relu")
    model.load_state_dict(state)
    X, y = mg.data.load_digits(return_X_y=True)
    assert cli.evaluate(model, X / 16, y, "classification") > 0.85


@pytest.mark.parametrize("args", [
    ["--data", "moons", "--optimizer", "sgd", "--scheduler", "cosine"],
    ["--data", "spirals", "--optimizer", "rmsprop", "--activation", "tanh"],
    ["--data", "circles", "--optimizer", "adamw", "--weight-decay", "0.01",
     "--scheduler", "step"],
    ["--data", "blobs", "--hidden", "none", "--lr", "0.05"],
    ["--data", "regression", "--activation", "gelu"],
])
def test_train_runs_every_data_set_and_optimizer(args, capsys):
    assert cli.train(args + ["--epochs", "15", "--samples", "300", "--quiet"]) == 0
    out = capsys.readouterr().out
    score = float(re.search(r"test (?:accuracy|R\^2) (-?\d\.\d+)", out).group(1))
    assert score > 0.8, out


@pytest.mark.parametrize("args", [
    ["--epochs", "0"], ["--lr", "-1"], ["--hidden", "10,x"], ["--hidden", "0"],
    ["--data", "mnist"], ["--test-size", "1.5"], ["--optimizer", "lbfgs"],
])
def test_train_rejects_bad_arguments(args, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.train(args)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_unavailable_backend_is_a_usage_error(monkeypatch, capsys):
    from micrograd import backends
    monkeypatch.delitem(backends.REGISTRY, "c", raising=False)
    with pytest.raises(SystemExit) as exc:
        cli.demo(["--backend", "c"])
    assert exc.value.code == 2 and "C backend is not available" in capsys.readouterr().err


def test_builtin_progress_bar_output():
    buf = io.StringIO()
    bar = ProgressBar(range(4), desc="fit", unit="epoch", file=buf, mininterval=0.0)
    seen = []
    for i in bar:
        bar.set_postfix(loss=0.5 / (i + 1))
        seen.append(i)
    assert seen == [0, 1, 2, 3]
    text = buf.getvalue()
    assert text.endswith("\n") and "fit: 100%|" in text and "4/4" in text
    assert "loss=0.125" in text and "epoch/s" in text
    quiet = io.StringIO()
    with ProgressBar(total=3, file=quiet, disable=True) as b:
        b.update(3)
    assert quiet.getvalue() == ""
    unknown = io.StringIO()
    b = ProgressBar(iter([1, 2]), file=unknown, mininterval=0.0)
    assert list(b) == [1, 2] and "2it" in unknown.getvalue()
    with pytest.raises(TypeError):
        len(ProgressBar(iter([1])))


def test_progress_prefers_tqdm_and_can_be_forced_builtin(monkeypatch):
    monkeypatch.setenv("MICROGRAD_PROGRESS", "builtin")
    bar = progress(range(2), disable=True)
    assert isinstance(bar, ProgressBar)
    monkeypatch.delenv("MICROGRAD_PROGRESS")
    try:
        import tqdm  # noqa: F401
    except ImportError:
        assert isinstance(progress(range(2), disable=True), ProgressBar)
    else:
        assert type(progress(range(2), disable=True)).__module__.startswith("tqdm")
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert isinstance(progress(range(2), disable=True), ProgressBar)


def test_load_dataset_names_and_error():
    for name in cli.DATASETS:
        X, y, task = cli.load_dataset(name, 50, 0)
        assert len(X) == len(y) and X.ndim == 2
        assert task == ("regression" if name == "regression" else "classification")
    X, _, _ = cli.load_dataset("digits", 50, 0)
    assert X.max() == 1.0 and np.all(X >= 0)
    with pytest.raises(ValueError, match="unknown data set"):
        cli.load_dataset("mnist", 10, 0)
