"""The C core's build contract: micrograd.h is the one source of the cdef, every declared kernel
exists in the compiled module, the sources compile warning-free, and asking for the C backend
really gives the C backend (no silent NumPy fallback)."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cffi import FFI

ROOT = Path(__file__).resolve().parents[1]
CSRC = ROOT / "csrc"
HEADER = CSRC / "micrograd.h"


def load_build_script():
    spec = importlib.util.spec_from_file_location("_mg_build_ffi", CSRC / "build_ffi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def declared_functions() -> list[str]:
    text = load_build_script().cdef_text()
    return re.findall(r"\b(mg_\w+)\s*\(", text)


def test_header_parses_as_cdef_without_preprocessor_lines():
    text = load_build_script().cdef_text()
    assert "#" not in "".join(line.lstrip()[:1] for line in text.splitlines())
    ffi = FFI()
    ffi.cdef(text)  # raises CDefError on anything cffi cannot parse
    names = declared_functions()
    assert len(names) == len(set(names)), "a kernel is declared twice"
    assert "mg_gemm_f32" in names and "mg_cross_entropy_f64" in names


def test_every_declared_kernel_exists_in_the_module():
    _C = pytest.importorskip("micrograd._C", reason="C core not built")
    missing = [name for name in declared_functions() if not hasattr(_C.lib, name)]
    assert not missing, f"declared in micrograd.h but missing from micrograd._C: {missing}"


@pytest.mark.skipif(shutil.which("nm") is None, reason="nm (binutils) not installed")
def test_every_exported_c_function_is_declared():
    """A non-static mg_ function in the module must be in the header (else cffi cannot call
    it, and it should have been static)."""
    _C = pytest.importorskip("micrograd._C", reason="C core not built")
    out = subprocess.run(["nm", "-D", "--defined-only", _C.__file__], capture_output=True,
                         text=True, check=True).stdout
    exported = {line.split()[-1].split(".")[0]  # "mg_exp_f32.resolver": target_clones
                for line in out.splitlines() if " mg_" in line}
    assert len(exported) > 50
    undeclared = exported - set(declared_functions())
    assert not undeclared, f"exported but not declared in micrograd.h: {sorted(undeclared)}"


def header_sections() -> set[str]:
    """The source files micrograd.h's sections name: ``/* ---- gemm.c: ...``."""
    return set(re.findall(r"^/\* ---- (\w+\.c)\b", HEADER.read_text(), flags=re.M))


def test_build_script_compiles_every_source():
    """The build compiles exactly the sources the header declares kernels for (each section of
    micrograd.h names its .c file), and no kernel body meant only to be #included."""
    sources = load_build_script().SOURCES
    assert len(sources) == len(set(sources))
    assert all(src.startswith("csrc/") and (ROOT / src).is_file() for src in sources), sources
    assert {Path(src).name for src in sources} == header_sections()
    assert header_sections() >= {"gemm.c", "linear.c", "activations.c", "softmax.c", "optim.c"}


def test_included_kernel_bodies_are_not_compiled_alone():
    """Every quoted #include in csrc names a file there, and the *_impl.h bodies are included
    by a .c file, never compiled on their own (they need T and SUFFIX defined)."""
    included = set()
    for path in CSRC.iterdir():
        if path.suffix in (".c", ".h"):
            included |= set(re.findall(r'^#include "([^"]+)"', path.read_text(), flags=re.M))
    assert all((CSRC / name).is_file() for name in included), included
    bodies = {p.name for p in CSRC.glob("*_impl.h")}
    assert bodies <= included
    assert not bodies & {Path(src).name for src in load_build_script().SOURCES}


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
@pytest.mark.parametrize("src", sorted(p.name for p in CSRC.glob("*.c")))
def test_sources_compile_without_warnings(src, tmp_path):
    for extra in ([], ["-fopenmp"]):
        out = subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-c",
                              str(CSRC / src), "-I", str(CSRC), "-o", str(tmp_path / "x.o")]
                             + extra, capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stderr


def test_backend_c_requested_is_really_c():
    pytest.importorskip("micrograd._C", reason="C core not built")
    env = dict(os.environ, MICROGRAD_BACKEND="c")
    code = "import micrograd, micrograd._C as m; print(micrograd.get_backend(), m.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    name, path = out.stdout.split()
    assert name == "c"
    assert Path(path).suffix in (".so", ".pyd")


def test_backend_matches_environment_variable():
    """When the test run itself asked for a backend, it is the one in use."""
    import micrograd
    requested = os.environ.get("MICROGRAD_BACKEND", "").strip().lower()
    if not requested:
        pytest.skip("MICROGRAD_BACKEND not set for this run")
    assert micrograd.get_backend() == requested


def test_no_kernel_body_is_a_multi_line_macro():
    """Kernel bodies are real code (the *_impl.h files), so compiler errors and sanitizer reports
    name a real line: no #define in csrc runs over more than two lines."""
    long_macros = []
    for path in sorted(CSRC.iterdir()):
        if path.suffix not in (".c", ".h"):
            continue
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.lstrip().startswith("#define"):
                j = i
                while lines[j].rstrip().endswith("\\"):
                    j += 1
                if j - i >= 2:
                    long_macros.append(f"{path.name}:{i + 1}")
    assert not long_macros, f"multi-line macros: {long_macros}"


def test_sdist_inputs_are_declared():
    """The build lists every header (and itself) as a dependency: rebuilds follow header edits
    and setuptools puts them in the sdist, without which the .c files cannot compile."""
    build = load_build_script()
    assert set(build.DEPENDS) == {f"csrc/{p.name}" for p in CSRC.glob("*.h")} | {"csrc/build_ffi.py"}
