"""Packaging, fast checks: the distribution's name and every install hint, one version, py.typed,
what the sdist holds, and the NumPy-fallback warning's diagnosis. Building wheels and installing
them into fresh venvs is slow and lives in tests/test_dist.py, which CI runs as its own step."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import os
import tarfile
from pathlib import Path

import pytest

import micrograd
from micrograd import backends

try:
    import tomllib
except ImportError:  # Python 3.10: the test extra installs tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DIST = PYPROJECT["project"]["name"]


def test_distribution_name_is_not_the_classic_micrograd_and_imports_as_micrograd():
    """``micrograd`` on PyPI is another project (the classic scalar engine, also 0.1.0)."""
    assert DIST == "micrograd-tensor"
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["micrograd*"]
    assert PYPROJECT["project"]["scripts"] == {"micrograd": "micrograd.apps.cli:main"}


# `pip install [options] micrograd...`: the classic project's name where a package is named
WRONG_HINT = re.compile(r"pip install(?:\s+[^\s&;|`]+)*?\s+[\"']?micrograd(?![\w-])")


def _text_files():
    for folder in ("micrograd", "docs", "tests", "examples", "bench", "scripts"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".md", ".sh", ".txt") and "__pycache__" not in path.parts:
                yield path
    yield from (ROOT / "README.md", ROOT / "setup.py", ROOT / ".ci" / "run")


def test_every_install_hint_names_the_distribution():
    """``pip install`` of a name (not a path) must name this distribution: a hint that says
    ``micrograd`` or ``micrograd[extra]`` installs the other project."""
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in _text_files()
                 for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
                 if WRONG_HINT.search(line) and path.name != "test_packaging.py"]
    assert not offenders, offenders
    for path in ("micrograd/tools/viz.py", "docs/tutorial.md", "docs/explain-and-visualize.md",
                 "README.md"):
        assert f'pip install "{DIST}[viz]"' in (ROOT / path).read_text(), path


@pytest.mark.parametrize("line, bad", [
    ('pip install "micrograd[viz]"', True), ("pip install 'micrograd[viz]'", True),
    ("pip install micrograd", True), ('pip install "micrograd-tensor[viz]"', False),
    ("pip install -e .", False), ("MICROGRAD_NO_EXT=1 pip install .", False),
    ("pip install --force-reinstall --no-deps micrograd-tensor", False),
    ("pip install -U micrograd", True), ("pip install -e . && python -m micrograd demo", False),
])
def test_the_install_hint_pattern_itself(line, bad):
    assert bool(WRONG_HINT.search(line)) is bad


def test_pyproject_reads_with_every_setuptools_it_allows():
    """A fresh clone must build with the oldest setuptools the build-system allows as well as the
    newest: no PEP 639 ``license`` string (setuptools < 77 refuses it: "project.license must be
    valid exactly by one definition") and no table form either (the newest refuse that)."""
    project = PYPROJECT["project"]
    assert "license" not in project and "license-files" not in project
    assert "setuptools>=61" in PYPROJECT["build-system"]["requires"]
    assert "License ::" not in " ".join(project.get("classifiers", []))


def test_version_has_one_source():
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "micrograd.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", micrograd.__version__)


def test_py_typed_ships_and_python_versions_are_declared():
    assert (ROOT / "micrograd" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["micrograd"]
    classifiers = PYPROJECT["project"]["classifiers"]
    assert "Typing :: Typed" in classifiers
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert PYPROJECT["project"]["requires-python"] == ">=3.10"


def test_ci_tests_the_built_packages_and_other_pythons():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "MICROGRAD_DIST_DIR=" in ci and "tests/test_dist.py" in ci
    assert re.search(r"for minor in 10 12 13", ci)


@pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None,
                    reason="the sdist build runs setup.py, which probes the C compiler")
def test_sdist_holds_what_the_build_needs_and_nothing_built(tmp_path):
    """The sdist carries csrc (every .c, every header, build_ffi.py), setup.py, pyproject.toml,
    the licence, py.typed and the shipped data; never a shared object, object file, generated C,
    the tests or the benchmarks. (test_dist.py builds and installs it.)"""
    pytest.importorskip("build", reason="needs the 'build' package (pip install build)")
    setuptools = pytest.importorskip("setuptools", reason="building without isolation needs "
                                     "the build requirements installed")
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis",
        ".pytest_cache", ".benchmarks"))
    (src / "micrograd" / "_C.cpython-399-stale.so").write_bytes(b"stale")  # must not ship
    out = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation",
                          "--skip-dependency-check", "--outdir", str(tmp_path / "dist"),
                          str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    # setuptools >= 69.3 normalises the name (PEP 625); older ones keep the hyphen
    assert sdist.name in {f"{dist}-{micrograd.__version__}.tar.gz"
                          for dist in ("micrograd_tensor", "micrograd-tensor")}
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    csrc = {f"csrc/{p.name}" for p in (ROOT / "csrc").iterdir()
            if p.suffix in (".c", ".h") or p.name == "build_ffi.py"}
    assert csrc <= names, csrc - names
    assert {"setup.py", "pyproject.toml", "MANIFEST.in", "LICENSE", "README.md",
            "micrograd/py.typed", "micrograd/data/digits.npz", "micrograd/__init__.py"} <= names
    assert not [n for n in names if n.endswith((".so", ".pyd", ".o", "_C.c"))]
    assert not [n for n in names if n.startswith(("tests/", "bench/", "build/", ".venv"))]


# ---- the NumPy-fallback warning: which micrograd, whether an installed copy has the core ------
def _fake_package(folder: Path, with_core: bool) -> Path:
    (folder / "micrograd").mkdir(parents=True)
    (folder / "micrograd" / "__init__.py").write_text("")
    if with_core:
        (folder / "micrograd" / "_C.abi3.so").write_bytes(b"")
    return folder / "micrograd"


@pytest.fixture
def missing_core(monkeypatch):
    monkeypatch.setattr(backends, "C_IMPORT_ERROR",
                        ModuleNotFoundError("No module named 'micrograd._C'"))


def test_source_folder_hiding_an_installed_copy_says_so(tmp_path, monkeypatch, missing_core):
    clone = tmp_path / "clone"
    (clone / "csrc").mkdir(parents=True)
    package = _fake_package(clone, with_core=False)
    installed = _fake_package(tmp_path / "site-packages", with_core=True)
    _fake_package(tmp_path / "other", with_core=False)  # a copy without a core is no answer
    monkeypatch.setattr(backends, "PACKAGE", package)
    monkeypatch.setattr(sys, "path", [str(clone), str(tmp_path / "other"),
                                      str(tmp_path / "site-packages")])
    assert backends.copies_with_core() == [installed.resolve()]
    advice = backends.missing_core_advice()
    assert f"This micrograd is {package}, which has no compiled core" in advice
    assert f"it hides the installed copy {installed.resolve()}, which has one" in advice
    assert "Run from another folder" in advice and f"`pip install -e {clone}`" in advice


def test_source_folder_without_an_installed_copy(tmp_path, monkeypatch, missing_core):
    clone = tmp_path / "clone"
    (clone / "csrc").mkdir(parents=True)
    monkeypatch.setattr(backends, "PACKAGE", _fake_package(clone, with_core=False))
    monkeypatch.setattr(sys, "path", [str(clone)])
    advice = backends.missing_core_advice()
    assert "no installed copy with a C core was found" in advice
    assert f"(needs a C compiler): `pip install -e {clone}`" in advice


def test_installed_copy_without_its_core(tmp_path, monkeypatch):
    package = _fake_package(tmp_path / "site-packages", with_core=False)
    monkeypatch.setattr(backends, "PACKAGE", package)
    monkeypatch.setattr(backends, "C_IMPORT_ERROR", ImportError("undefined symbol: mg_x"))
    advice = backends.missing_core_advice()
    assert f"This micrograd is {package}, whose compiled core does not load" in advice
    assert "pip install --force-reinstall --no-deps micrograd-tensor" in advice


def test_the_warning_and_the_c_error_carry_the_diagnosis(monkeypatch):
    """End to end, in a process where the compiled core cannot be imported."""
    package = Path(micrograd.__file__).resolve().parent
    code = ("import sys; sys.modules['micrograd._C'] = None\n"
            "import micrograd; print(micrograd.__file__)")
    env = {k: v for k, v in os.environ.items() if k != "MICROGRAD_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env, cwd=package.parent)  # imports this same package
    assert out.returncode == 0, out.stderr
    assert "C core not available" in out.stderr and f"This micrograd is {package}" in out.stderr
    assert "Set MICROGRAD_BACKEND=numpy to silence this warning." in out.stderr
    monkeypatch.delitem(backends.REGISTRY, "c", raising=False)
    with pytest.raises(RuntimeError, match=r"C backend is not available .* This micrograd is "):
        backends.lookup("c")
