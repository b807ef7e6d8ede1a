"""`python -m micrograd demo|train` and the progress bar."""
from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import stat
import subprocess
import sys
import warnings
from pathlib import Path

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
    ("demo", {"--model", "--max-iter", "--seed", "--backend", "--no-progress", "--compare"}),
    ("train", {"--model", "--data", "--samples", "--test-size", "--hidden", "--activation",
               "--epochs", "--batch-size", "--lr", "--optimizer", "--momentum", "--weight-decay",
               "--scheduler", "--seed", "--backend", "--save", "--no-compile", "--no-progress",
               "--quiet"}),
    ("predict", {"--out", "--backend"}),
])
def test_help_documents_every_option(command, expected, capsys):
    with pytest.raises(SystemExit) as exc:
        getattr(cli, command)(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert expected <= _options(text)
    for option in expected:  # each option line carries a description
        assert re.search(re.escape(option) + r"[^\n]*\n?\s+\S", text)


def test_train_digits_save_and_predict(tmp_path, capsys):
    """One file holds architecture, preprocessing and weights; predict serves it on raw rows."""
    path = tmp_path / "digits.npz"
    code = cli.train(["--data", "digits", "--hidden", "32", "--epochs", "3", "--batch-size",
                      "64", "--lr", "0.01", "--seed", "1", "--save", str(path), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert "epoch 3/3" in out and f"predict {path}" in out
    acc = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert acc > 0.85
    contents = mg.load(path, weights_only=True)  # plain mg.save content: no pickled code
    assert contents["format"] == "micrograd.model" and contents["version"] == 1
    assert contents["architecture"] == {"kind": "mlp", "task": "classification", "n_in": 64,
                                        "hidden": [32], "n_out": 10, "activation": "relu",
                                        "data": "digits"}
    assert list(contents["state_dict"]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    X, y = mg.data.load_digits(return_X_y=True)
    prep = contents["preprocessing"]
    np.testing.assert_allclose(prep["x_mean"], X.mean(axis=0), atol=0.5)  # the training split's
    assert np.all(prep["x_scale"] > 0)
    model = cli.build_model(64, (32,), 10, "relu")  # the state_dict alone still loads as before
    model.load_state_dict(contents["state_dict"])
    expected = cli.forward_rows(model, cli.transform_inputs(prep, X)).argmax(axis=1)
    assert (expected == y).mean() > 0.85

    np.save(tmp_path / "rows.npy", X[:40])
    assert cli.predict([str(path), str(tmp_path / "rows.npy")]) == 0
    printed = np.array(capsys.readouterr().out.split(), dtype=np.int64)
    np.testing.assert_array_equal(printed, expected[:40])
    header = ",".join(f"pixel{i}" for i in range(64))
    np.savetxt(tmp_path / "rows.csv", X[:40], delimiter=",", header=header, comments="")
    assert cli.predict([str(path), str(tmp_path / "rows.csv"), "--out",
                        str(tmp_path / "labels.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"), expected[:40])
    assert cli.predict([str(path), str(tmp_path / "rows.csv"), "--out",
                        str(tmp_path / "labels.csv")]) == 0
    assert (tmp_path / "labels.csv").read_text().split() == [str(v) for v in expected[:40]]


def test_predict_through_python_dash_m(tmp_path):
    path = tmp_path / "moons.npz"
    assert cli.train(["--data", "moons", "--samples", "200", "--epochs", "5", "--quiet",
                      "--save", str(path)]) == 0
    X, y = mg.data.make_moons(50, noise=0.1, random_state=3)
    np.savetxt(tmp_path / "rows.csv", X, delimiter=",")
    out = subprocess.run([sys.executable, "-m", "micrograd", "predict", str(path),
                          str(tmp_path / "rows.csv")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    labels = np.array(out.stdout.split(), dtype=np.int64)
    assert len(labels) == 50 and (labels == y).mean() > 0.8


def test_regression_predictions_are_in_the_targets_units(tmp_path, capsys):
    path = tmp_path / "reg.npz"
    assert cli.train(["--data", "regression", "--samples", "400", "--epochs", "30",
                      "--quiet", "--save", str(path)]) == 0
    X, y, _ = cli.load_dataset("regression", 400, 0)  # the raw targets (std about 100)
    np.save(tmp_path / "rows.npy", X)
    capsys.readouterr()
    assert cli.predict([str(path), str(tmp_path / "rows.npy")]) == 0
    pred = np.array(capsys.readouterr().out.split(), dtype=np.float64)
    assert y.std() > 20
    r2 = 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert r2 > 0.8, r2


def test_saved_model_has_the_usual_mode_and_a_symlink_writes_its_target(tmp_path, capsys):
    """As numpy and torch save: 0644 under umask 022, and the link stays a link."""
    target, link = tmp_path / "real.npz", tmp_path / "link.npz"
    link.symlink_to(target)
    old = os.umask(0o022)
    try:
        assert cli.train(["--data", "moons", "--samples", "100", "--epochs", "1", "--quiet",
                          "--save", str(link)]) == 0
    finally:
        os.umask(old)
    assert link.is_symlink() and target.is_file()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    np.savetxt(tmp_path / "rows.csv", np.zeros((3, 2)), delimiter=",")
    capsys.readouterr()
    assert cli.predict([str(link), str(tmp_path / "rows.csv")]) == 0
    assert len(capsys.readouterr().out.split()) == 3


def _refuse_training(monkeypatch):
    """Make any training attempt fail the test: the checks must come first."""
    def fail(*args, **kwargs):
        raise AssertionError("training started before the save path was checked")
    monkeypatch.setattr(cli, "build_model", fail)
    monkeypatch.setattr(cli, "load_dataset", fail)


def test_save_path_is_checked_before_training(tmp_path, monkeypatch, capsys):
    _refuse_training(monkeypatch)
    cases = [
        (tmp_path / "missing" / "model.npz", r"directory .*missing does not exist"),
        (tmp_path, r"is a directory"),
    ]
    for path, message in cases:
        with pytest.raises(SystemExit) as exc:
            cli.train(["--save", str(path)])
        assert exc.value.code == 2
        assert re.search(message, capsys.readouterr().err)


def test_unwritable_save_folder_is_refused_before_training(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores the mode: use a folder nobody can write
            folder = Path("/sys")
            if os.access(folder, os.W_OK) and not _cannot_create_in(folder):
                pytest.skip("no folder that refuses new files is available to this user")
        _refuse_training(monkeypatch)
        with pytest.raises(SystemExit) as exc:
            cli.train(["--save", str(folder / "model.npz")])
        assert exc.value.code == 2
        assert re.search(r"--save .*model\.npz: cannot create a file in", capsys.readouterr().err)
    finally:
        (tmp_path / "locked").chmod(0o700)


def _cannot_create_in(folder: Path) -> bool:
    try:
        (folder / "mg-probe").open("x").close()
    except OSError:
        return True
    (folder / "mg-probe").unlink()
    return False


def test_options_that_do_not_apply_warn(capsys):
    assert cli.train(["--data", "digits", "--samples", "300", "--optimizer", "adam",
                      "--momentum", "0.5", "--hidden", "none", "--activation", "tanh",
                      "--epochs", "1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning: --momentum applies to sgd and rmsprop; adam ignores it" in err
    assert "warning: --samples applies to the generated data sets; digits" in err
    assert "warning: --activation tanh has no effect on a linear model" in err
    assert cli.train(["--data", "moons", "--samples", "100", "--hidden", "none",
                      "--activation", "relu", "--epochs", "1", "--quiet"]) == 0
    assert "warning: --activation relu has no effect" in capsys.readouterr().err
    assert cli.train(["--data", "moons", "--samples", "100", "--optimizer", "sgd",
                      "--momentum", "0.5", "--epochs", "1", "--quiet"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_diverging_loss_stops_with_a_clear_message(tmp_path, capsys):
    path = tmp_path / "never.npz"
    code = cli.train(["--data", "regression", "--samples", "200", "--optimizer", "sgd",
                      "--lr", "1000", "--epochs", "5", "--quiet", "--save", str(path)])
    assert code == 1
    err = capsys.readouterr().err
    assert re.search(r"error: the loss became (nan|inf) at epoch 1, batch \d+: training "
                     r"diverged \(learning rate 1000 with sgd\); try a smaller --lr", err), err
    assert not path.exists()


def test_predict_errors_name_the_problem(tmp_path, capsys):
    path = tmp_path / "moons.npz"
    assert cli.train(["--data", "moons", "--samples", "100", "--epochs", "1", "--quiet",
                      "--save", str(path)]) == 0
    capsys.readouterr()
    bare = tmp_path / "state.npz"
    mg.save(cli.build_model(2, (4,), 2, "relu").state_dict(), bare)
    (tmp_path / "three.csv").write_text("1,2,3\n4,5,6\n")
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    (tmp_path / "words.csv").write_text("a,b\n1,x\n")
    (tmp_path / "nan.csv").write_text("1,2\nnan,0\n")
    (tmp_path / "empty.csv").write_text("x,y\n")
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2)))
    cases = [
        ([str(bare), "three.csv"], r"state\.npz is not a model file written by `micrograd "
                                   r"train --save`"),
        ([str(path), "three.csv"], r"three\.csv: the model takes rows of 2 features, got an "
                                   r"array of shape \(2, 3\)"),
        ([str(path), "ragged.csv"], r"ragged\.csv: rows have different numbers of columns"),
        ([str(path), "words.csv"], r"words\.csv: expected comma-separated numbers"),
        ([str(path), "nan.csv"], r"nan\.csv: row 1 holds NaN or infinity"),
        ([str(path), "empty.csv"], r"empty\.csv: the model takes rows of 2 features, got an "
                                   r"array of shape \(0, 0\)"),
        ([str(path), "cube.npy"], r"cube\.npy: the model takes rows of 2 features, got an "
                                  r"array of shape \(2, 2, 2\)"),
        ([str(path), "absent.csv"], r"absent\.csv: cannot read it"),
        ([str(path), "three.csv", "--out", str(tmp_path / "no" / "p.csv")],
         r"--out .*p\.csv: the directory .*no does not exist"),
    ]
    for args, message in cases:
        args = [a if a.startswith(("/", "-")) else str(tmp_path / a) for a in args]
        with pytest.raises(SystemExit) as exc:
            cli.predict(args)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert re.search(message, err), (args, err)


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


def _trained_weights(args: list[str], path) -> tuple[dict, str]:
    """(the saved state_dict as arrays, the result line without its timing) of a train run in
    which micrograd.compile must not fall back to eager with its warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli.train(args + ["--save", str(path), "--no-progress", "--quiet"]) == 0
    state = mg.load(path, weights_only=True)["state_dict"]
    return ({k: np.asarray(v._array if hasattr(v, "_array") else v) for k, v in state.items()},
            out.getvalue().split(";")[0])


@pytest.mark.parametrize("data", ["moons", "regression"])
@pytest.mark.parametrize("activation, optimizer",  # every activation, every optimizer
                         list(zip(cli.ACTIVATIONS, cli.OPTIMIZERS * 2)))
def test_compiled_training_step_gives_the_eager_weights(activation, optimizer, data,
                                                        tmp_path, backend):
    """The step runs through micrograd.compile by default (sgd/adam/adamw) without a
    warning, and --no-compile's eager steps train bitwise the same weights and scores."""
    args = ["--data", data, "--samples", "300", "--hidden", "16,8", "--activation", activation,
            "--optimizer", optimizer, "--epochs", "3", "--batch-size", "64", "--weight-decay",
            "0.01", "--scheduler", "cosine", "--seed", "3"]
    on, on_line = _trained_weights(args, tmp_path / "on.npz")
    off, off_line = _trained_weights(args + ["--no-compile"], tmp_path / "off.npz")
    assert on_line == off_line and sorted(on) == sorted(off)
    for name in on:
        np.testing.assert_array_equal(on[name], off[name])


@pytest.mark.parametrize("args, compiled", [
    ([], True), (["--optimizer", "sgd"], True), (["--optimizer", "adamw"], True),
    (["--no-compile"], False), (["--optimizer", "rmsprop"], False),
    (["--model", "cnn", "--data", "digits"], False),
])
def test_compile_is_used_where_its_replay_applies(args, compiled, monkeypatch, capsys):
    """An MLP with sgd, adam or adamw in one process; the CNN draws dropout masks and RMSprop
    updates in NumPy, which the replay would not repeat, so they train eagerly. (The step is
    only made here: the run stops before training.)"""
    class Made(Exception):
        pass

    def spy(net, loss_fn, opt, use_compile):
        raise Made(use_compile)
    monkeypatch.setattr(cli, "training_step", spy)
    with pytest.raises(Made) as made:
        cli.train(args + ["--epochs", "1", "--samples", "100", "--quiet"])
    assert made.value.args == (compiled,)


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
    assert X.max() == 16.0 and np.all(X >= 0)  # raw pixels: the scaling is fitted and saved
    with pytest.raises(ValueError, match="unknown data set"):
        cli.load_dataset("mnist", 10, 0)


def test_top_level_help_usage_and_version():
    from micrograd.apps import cli as top
    run = [sys.executable, "-m", "micrograd"]
    out = subprocess.run(run + ["--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.startswith("usage: python -m micrograd [-h] [--version] <command>")
    for name in top.COMMANDS:
        assert re.search(rf"^  {name} +\S", out.stdout, re.M), name
    out = subprocess.run(run + ["--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == f"micrograd {mg.__version__}\n"
    out = subprocess.run(run + ["frobnicate"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "usage: python -m micrograd" in out.stderr
    assert "error: unknown command 'frobnicate'" in out.stderr
    assert top.main([]) == 2


# ---- the CNN: demo --model cnn, train --model cnn, and its identity with the example's Net ------
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "cnn_digits.py"


def test_demo_cnn_trains_the_example_network(capsys):
    assert cli.demo(["--model", "cnn", "--max-iter", "3", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "PyTorch's MNIST example network" in out and "151306 parameters" in out
    assert "Adadelta lr 1.0, StepLR gamma 0.7, batch 64" in out
    assert re.search(r"after 3 epochs, final training loss [\d.]+", out)
    assert float(re.search(r"test accuracy (\d\.\d+)", out).group(1)) > 0.93
    assert re.search(r"[\d.]+ ms per epoch on the '(c|numpy)' backend", out)


def test_demo_cnn_refuses_compare(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.demo(["--model", "cnn", "--compare"])
    assert exc.value.code == 2
    assert "--compare fits scikit-learn's MLPClassifier, which has no convolutional network" \
        in capsys.readouterr().err


def test_train_cnn_save_and_predict(tmp_path, capsys):
    path = tmp_path / "cnn.npz"
    assert cli.train(["--model", "cnn", "--epochs", "2", "--seed", "3", "--save", str(path),
                      "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "data digits:" in out and "8x8 images, standardised as a whole" in out
    assert "(1): Conv2d(1, 32, kernel_size=(3, 3)" in out and "(12): LogSoftmax(dim=1)" in out
    assert float(re.search(r"test accuracy (\d\.\d+)", out).group(1)) > 0.85
    contents = mg.load(path, weights_only=True)
    assert contents["architecture"] == {"kind": "cnn", "task": "classification", "n_in": 64,
                                        "side": 8, "padding": 1, "n_out": 10,
                                        "data": "digits"}
    assert list(contents["state_dict"]) == ["1.weight", "1.bias", "3.weight", "3.bias",
                                            "8.weight", "8.bias", "11.weight", "11.bias"]
    prep = contents["preprocessing"]  # one mean and one scale for every pixel
    assert np.ptp(prep["x_mean"]) == 0 and np.ptp(prep["x_scale"]) == 0
    X, y = mg.data.load_digits(return_X_y=True)
    model, _ = cli.load_model(str(path))
    expected = cli.forward_rows(model, cli.transform_inputs(prep, X[:50])).argmax(axis=1)
    assert (expected == y[:50]).mean() > 0.8
    np.save(tmp_path / "rows.npy", X[:50])
    assert cli.predict([str(path), str(tmp_path / "rows.npy")]) == 0
    np.testing.assert_array_equal(np.array(capsys.readouterr().out.split(), dtype=np.int64),
                                  expected)


def test_train_cnn_options(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.train(["--model", "cnn", "--data", "moons"])
    assert exc.value.code == 2
    assert "--model cnn trains on images: use --data digits" in capsys.readouterr().err
    assert cli.train(["--model", "cnn", "--hidden", "10", "--activation", "tanh", "--epochs",
                      "1", "--batch-size", "256", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning: --hidden applies to --model mlp; the CNN's layers are fixed" in err
    assert "warning: --activation applies to --model mlp" in err


def _example_net():
    if not EXAMPLE.exists():
        pytest.skip("examples/ is not beside the tests (an installed copy)")
    spec = importlib.util.spec_from_file_location("cnn_digits_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Net


@pytest.mark.parametrize("training", [False, True])
def test_the_cli_cnn_is_the_example_network(training):
    """Same seed, same weights (in the same order) and the same outputs, dropout included:
    the CLI's Sequential and examples/cnn_digits.py's Net are one network."""
    Net = _example_net()
    mg.manual_seed(5)
    net = Net(8, padding=1)
    mg.manual_seed(5)
    seq = cli.build_cnn(8, 10)
    theirs, ours = net.state_dict(), seq.state_dict()
    assert [tuple(v.shape) for v in theirs.values()] == [tuple(v.shape) for v in ours.values()]
    for a, b in zip(theirs.values(), ours.values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    net.train(training)
    seq.train(training)
    x = np.random.default_rng(0).standard_normal((5, 64)).astype(np.float32)
    mg.manual_seed(9)
    want = net(mg.tensor(x.reshape(5, 1, 8, 8))).detach().numpy()
    mg.manual_seed(9)
    np.testing.assert_allclose(seq(mg.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-6)


def test_cnn_layers_build_the_same_network_in_torch(backend):
    torch = pytest.importorskip("torch")
    mg.manual_seed(0)
    ours = mg.nn.Sequential(*cli.cnn_layers(mg.nn, 8, dropout=False)).to(mg.float64)
    theirs = torch.nn.Sequential(*cli.cnn_layers(torch.nn, 8, dropout=False)).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    r = np.random.default_rng(1)
    x, g = r.standard_normal((3, 1, 8, 8)), r.standard_normal((3, 10))
    mx, tx = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    my, ty = ours(mx), theirs(tx)
    my.backward(mg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(my.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    assert len(cli.cnn_layers(mg.nn, 28, padding=0)) == 12  # the example's 28x28 network
    with pytest.raises(ValueError, match=r"cnn_layers: 4x4 images with padding 0 leave nothing"):
        cli.cnn_layers(mg.nn, 4, padding=0)
