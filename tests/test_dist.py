"""Packaging, slow checks on the built sdist and wheel (CI's packaging step runs them after
``python -m build --outdir DIR`` with ``MICROGRAD_DIST_DIR=DIR``; without it they skip).

The wheel: abi3 tag matching its ``_C.abi3.so``, no debug info, only the package inside. The
sdist: installs on its own into a fresh venv, where the demo runs on the C core. A machine
without a compiler gets pip's normal error output naming the fix; ``MICROGRAD_NO_EXT=1`` gives a
pure wheel; a stale ``build/`` folder or in-place module never ends up being the one imported.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

import micrograd

ROOT = Path(__file__).resolve().parents[1]
DIST_DIR = os.environ.get("MICROGRAD_DIST_DIR")
pytestmark = pytest.mark.skipif(
    not DIST_DIR, reason="packaging step: set MICROGRAD_DIST_DIR to a folder holding "
                         "`python -m build --outdir`'s sdist and wheel (.ci/run does)")
NAME = "micrograd_tensor"
VERSION = micrograd.__version__
TIMEOUT = 600


def _one(pattern: str) -> Path:
    found = sorted(Path(DIST_DIR).glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {DIST_DIR}, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def wheel() -> Path:
    return _one(f"{NAME}-{VERSION}-*.whl")


@pytest.fixture(scope="module")
def sdist() -> Path:
    return _one(f"{NAME}-{VERSION}.tar.gz")


def _run(args: list, cwd=None, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MICROGRAD_BACKEND")}
    env.update(env_extra or {})
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=TIMEOUT)


def _pip_wheel(source: Path, out: Path, **env) -> subprocess.CompletedProcess:
    """pip's own output for building ``source`` (no -v), with this interpreter's setuptools."""
    return _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "-w", out, source], env_extra=env)


def _unpacked_sdist(sdist: Path, into: Path) -> Path:
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(sdist) as tar:
        tar.extractall(into, **safe)
    return into / f"{NAME}-{VERSION}"


def _platform_tag() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


# ---- the wheel ----------------------------------------------------------------------------------
def test_wheel_is_abi3_and_its_tag_matches_the_extension(wheel):
    assert sysconfig.get_config_var("Py_GIL_DISABLED") in (None, 0)  # abi3 needs the GIL build
    assert wheel.name == f"{NAME}-{VERSION}-cp310-abi3-{_platform_tag()}.whl"
    with zipfile.ZipFile(wheel) as zf:
        modules = [n for n in zf.namelist() if n.startswith("micrograd/_C")]
        meta = zf.read(f"{NAME}-{VERSION}.dist-info/WHEEL").decode()
    assert modules == ["micrograd/_C.abi3.so"]
    assert f"Tag: cp310-abi3-{_platform_tag()}" in meta and "Root-Is-Purelib: false" in meta


@pytest.mark.skipif(shutil.which("readelf") is None, reason="readelf (binutils) not installed")
def test_wheel_shared_object_has_no_debug_info(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as zf:
        so = Path(zf.extract("micrograd/_C.abi3.so", tmp_path))
    sections = _run(["readelf", "-S", "-W", so]).stdout
    assert ".text" in sections
    assert ".debug_" not in sections, sections


def test_wheel_holds_the_package_and_nothing_else(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    dist_info = f"{NAME}-{VERSION}.dist-info/"
    assert all(n.startswith(("micrograd/", dist_info)) for n in names), sorted(names)
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "micrograd").rglob("*.py")}
    assert sources <= names, sources - names
    assert {"micrograd/py.typed", "micrograd/data/digits.npz",
            "micrograd/data/DIGITS_LICENSE.txt"} <= names
    # the licence: dist-info/licenses/ from setuptools 77 on (metadata 2.4), dist-info/ before
    assert {f"{dist_info}licenses/LICENSE", f"{dist_info}LICENSE"} & names, sorted(names)
    assert not [n for n in names if n.endswith((".c", ".h", ".o", ".pyc"))]


# ---- the sdist, installed on its own -------------------------------------------------------------
@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    out = _run([sys.executable, "-m", "venv", venv])
    assert out.returncode == 0, out.stderr
    return venv / "bin" / "python"


def test_sdist_installs_into_a_fresh_venv_and_the_demo_runs_on_c(sdist, fresh_venv, tmp_path):
    out = _run([fresh_venv, "-m", "pip", "install", sdist])
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    site = _run([fresh_venv, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                cwd=tmp_path).stdout.strip()
    code = "import micrograd, micrograd._C as c; print(micrograd.__file__); print(c.__file__)"
    out = _run([fresh_venv, "-c", code], cwd=tmp_path)  # outside the source folder
    assert out.returncode == 0, out.stderr
    package, core = out.stdout.split()
    assert package == str(Path(site) / "micrograd" / "__init__.py")
    assert core == str(Path(site) / "micrograd" / "_C.abi3.so")
    demo = _run([fresh_venv, "-m", "micrograd", "demo", "--max-iter", "3", "--no-progress"],
                cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "on the 'c' backend" in demo.stdout and "C core not available" not in demo.stderr
    version = _run([fresh_venv, "-m", "micrograd", "--version"], cwd=tmp_path)
    assert version.stdout == f"micrograd {VERSION}\n"
    script = Path(fresh_venv).parent / "micrograd"  # the console script
    assert _run([script, "info"], cwd=tmp_path).stdout.startswith(f"micrograd {VERSION}")


def test_editable_install_is_not_shadowed_by_an_old_in_place_module(sdist, fresh_venv, tmp_path):
    """``python csrc/build_ffi.py`` leaves ``micrograd/_C.cpython-3XY-*.so``, which Python
    prefers over ``_C.abi3.so``: ``pip install -e .`` removes it."""
    tree = _unpacked_sdist(sdist, tmp_path)
    stale = tree / "micrograd" / f"_C{sysconfig.get_config_var('EXT_SUFFIX')}"
    stale.write_bytes(b"an old build")
    out = _run([fresh_venv, "-m", "pip", "install", "-e", tree])
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    out = _run([fresh_venv, "-c", "import micrograd._C as c; print(c.__file__)"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tree / "micrograd" / "_C.abi3.so")
    assert not stale.exists()


# ---- builds that must not go quietly wrong -------------------------------------------------------
def test_no_compiler_stops_the_install_in_pips_normal_output(sdist, tmp_path):
    out = _pip_wheel(sdist, tmp_path, CC=str(tmp_path / "no-such-cc"))
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "micrograd: error: the C core could not be built" in text, text[-4000:]
    assert "no-such-cc" in text and "apt-get install gcc python3-dev" in text
    assert "MICROGRAD_NO_EXT=1" in text
    assert not list(tmp_path.glob("*.whl"))


def test_no_ext_on_purpose_builds_a_pure_wheel(sdist, tmp_path):
    out = _pip_wheel(sdist, tmp_path, MICROGRAD_NO_EXT="1")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    (built,) = tmp_path.glob("*.whl")
    assert built.name == f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(built) as zf:
        assert not [n for n in zf.namelist() if n.startswith("micrograd/_C")]


def test_stale_build_folder_never_ships_an_old_module(sdist, tmp_path):
    tree = _unpacked_sdist(sdist, tmp_path / "src")
    build_lib = tree / "build" / f"lib.{sysconfig.get_platform()}-{sys.implementation.cache_tag}"
    (build_lib / "micrograd").mkdir(parents=True)
    (build_lib / "micrograd" / f"_C{sysconfig.get_config_var('EXT_SUFFIX')}").write_bytes(b"old")
    (build_lib / "micrograd" / "_C.abi3.so").write_bytes(b"old")
    (build_lib / "micrograd" / "removed_module.py").write_text("OLD = True\n")
    out = _pip_wheel(tree, tmp_path / "out")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    (built,) = (tmp_path / "out").glob("*.whl")
    with zipfile.ZipFile(built) as zf:
        modules = [n for n in zf.namelist() if n.startswith("micrograd/_C")]
        assert modules == ["micrograd/_C.abi3.so"]
        assert zf.read("micrograd/_C.abi3.so")[:4] == b"\x7fELF"  # built now, not the old one
        assert "micrograd/removed_module.py" not in zf.namelist()
