"""Backend registry: selection at import, switching, fallback warning, clear errors."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import micrograd
from micrograd import backends


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "MICROGRAD_BACKEND"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-W", "always", "-c", code], env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_get_set_and_use_backend():
    start = micrograd.get_backend()
    assert start in micrograd.available_backends()
    with micrograd.use_backend("numpy"):
        assert micrograd.get_backend() == "numpy"
        assert micrograd.core.settings.settings.backend is backends.REGISTRY["numpy"]
    assert micrograd.get_backend() == start
    micrograd.set_backend("numpy")
    try:
        assert micrograd.get_backend() == "numpy"
    finally:
        micrograd.set_backend(start)


def test_use_backend_restores_after_an_exception():
    start = micrograd.get_backend()
    with pytest.raises(KeyError):
        with micrograd.use_backend("numpy"):
            raise KeyError("boom")
    assert micrograd.get_backend() == start


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        micrograd.set_backend("cuda")


def test_environment_variable_chooses_numpy():
    out = run_python("import micrograd; print(micrograd.get_backend())", MICROGRAD_BACKEND="numpy")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "numpy"
    assert "Warning" not in out.stderr


def test_environment_variable_chooses_c(c_backend):
    out = run_python("import micrograd; print(micrograd.get_backend())", MICROGRAD_BACKEND="c")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "c"


def test_ci_asks_for_c_and_gets_it():
    """When the environment asks for the C backend, this process really runs it (guards against
    testing the NumPy path by accident, e.g. a source tree without the compiled module)."""
    if os.environ.get("MICROGRAD_BACKEND") != "c":
        pytest.skip("MICROGRAD_BACKEND=c not set for this run")
    assert micrograd.get_backend() == "c"


MISSING_C = "import sys; sys.modules['micrograd._C'] = None\n"


def test_missing_c_core_falls_back_to_numpy_with_one_warning():
    code = MISSING_C + ("import micrograd, micrograd.backends\n"
                        "import importlib; print(micrograd.get_backend())")
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "numpy"
    assert out.stderr.count("C core not available") == 1


def test_asking_for_c_when_missing_is_an_error():
    out = run_python(MISSING_C + "import micrograd", MICROGRAD_BACKEND="c")
    assert out.returncode != 0
    assert "C backend is not available" in out.stderr
    out = run_python(MISSING_C + "import micrograd; micrograd.set_backend('c')",
                     MICROGRAD_BACKEND="numpy")
    assert out.returncode != 0
    assert "C backend is not available" in out.stderr


def test_bad_thread_count_is_rejected(c_backend):
    out = run_python("import micrograd", MICROGRAD_NUM_THREADS="zero")
    assert out.returncode != 0
    assert "MICROGRAD_NUM_THREADS" in out.stderr


def _protocol_methods() -> dict:
    from micrograd.backends.base import Backend
    return {name: fn for name, fn in vars(Backend).items()
            if callable(fn) and not name.startswith("_")}


@pytest.mark.parametrize("name", sorted(backends.REGISTRY))
def test_backend_implements_the_interface_with_its_signatures(name):
    """Every method of base.Backend exists on each registered backend with the same parameter
    names, kinds and defaults, and the backend has no public method the interface lacks."""
    import inspect
    backend = backends.REGISTRY[name]
    wanted = _protocol_methods()
    assert "sgd_step" in wanted and "adam_step" in wanted and "matmul" in wanted

    def params(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]
    for method, spec in wanted.items():
        assert hasattr(backend, method), f"{name} backend lacks {method}"
        assert params(getattr(type(backend), method)) == params(spec), \
            f"{name}.{method}{inspect.signature(getattr(type(backend), method))} differs " \
            f"from base.Backend.{method}{inspect.signature(spec)}"
    public = {m for m in dir(backend) if not m.startswith("_") and callable(getattr(backend, m))}
    assert public <= set(wanted), f"not in base.Backend: {sorted(public - set(wanted))}"


def test_test_backends_variable_keeps_only_those_backends_tests(monkeypatch):
    """CI's sanitizer jobs and other Pythons set MICROGRAD_TEST_BACKENDS=c: tests/conftest.py's
    collection hook then keeps the per-backend tests' C runs (the ``backend`` fixture, a
    ``backend_name`` or ``be`` parameter, by name or backend object) and every other test."""
    import types

    import conftest

    def item(**params):
        return types.SimpleNamespace(callspec=types.SimpleNamespace(params=params))
    numpy_runs = [item(backend="numpy"), item(backend_name="numpy", dtype="float32"),
                  item(be="numpy"), item(be=backends.REGISTRY["numpy"])]
    others = [item(backend="c"), item(be=types.SimpleNamespace(name="c")), item(dtype="float64"),
              types.SimpleNamespace()]  # the last: a test without parameters
    dropped = []
    config = types.SimpleNamespace(hook=types.SimpleNamespace(
        pytest_deselected=lambda items: dropped.extend(items)))
    items = numpy_runs + others
    monkeypatch.delenv("MICROGRAD_TEST_BACKENDS", raising=False)
    conftest.pytest_collection_modifyitems(config, items)
    assert items == numpy_runs + others and not dropped
    monkeypatch.setenv("MICROGRAD_TEST_BACKENDS", "c")
    conftest.pytest_collection_modifyitems(config, items)
    assert items == others and dropped == numpy_runs
