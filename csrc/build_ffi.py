"""Build script for the cffi API-mode extension ``micrograd._C``.

``setup.py`` names ``csrc/build_ffi.py:ffibuilder`` in ``cffi_modules``;
``python csrc/build_ffi.py`` builds the module in place (``micrograd/_C*.so``) for a fast
edit-compile loop.

The cdef is read from ``micrograd.h`` with its ``#`` lines dropped, so the header stays the single
source of truth. Optional flags (OpenMP) are probed with a tiny compile first, so a compiler without
them still builds a working, slower core. Environment knobs:

* ``MICROGRAD_SANITIZE=1``  build with ``-fsanitize=address,undefined`` (see scripts/sanitize.sh)
* ``MICROGRAD_CFLAGS="..."`` extra compiler flags appended last
"""
from __future__ import annotations

import os
import shlex
import tempfile
from pathlib import Path

from cffi import FFI

CSRC = Path(__file__).resolve().parent
ROOT = CSRC.parent
HEADER = CSRC / "micrograd.h"
# setuptools wants source paths relative to the project root (setup.py's directory).
# Only the .c files are compiled; the headers include the *_impl.h kernel bodies (each compiled
# once per dtype by its .c file), so they are dependencies: a change rebuilds the module, and
# setuptools ships them (and this script) in the sdist.
SOURCES = sorted(f"csrc/{p.name}" for p in CSRC.glob("*.c"))
DEPENDS = sorted(f"csrc/{p.name}" for p in CSRC.glob("*.h")) + ["csrc/build_ffi.py"]
INCLUDE = "csrc"
if __name__ == "__main__":  # the in-place build compiles in a temporary directory
    SOURCES = [str(ROOT / src) for src in SOURCES]
    DEPENDS = [str(ROOT / dep) for dep in DEPENDS]
    INCLUDE = str(CSRC)


def cdef_text(header: Path = HEADER) -> str:
    """The header without preprocessor lines: what cffi's cdef accepts."""
    lines = header.read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def compiler_accepts(flags: list[str]) -> bool:
    """True when the platform C compiler compiles and links a tiny OpenMP program with ``flags``."""
    try:
        from setuptools._distutils.ccompiler import new_compiler
        from setuptools._distutils.errors import CCompilerError, DistutilsError
        from setuptools._distutils.sysconfig import customize_compiler
    except ImportError:  # pragma: no cover - very old setuptools
        return False
    cc = new_compiler()
    customize_compiler(cc)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "probe.c"
        src.write_text("#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n")
        try:
            objs = cc.compile([str(src)], output_dir=tmp, extra_postargs=flags)
            cc.link_executable(objs, str(Path(tmp) / "probe"), extra_postargs=flags)
        except (CCompilerError, DistutilsError, OSError):
            return False
    return True


def build_flags() -> tuple[list[str], list[str]]:
    """(compile args, link args): -O3 always, OpenMP when the compiler has it."""
    if os.environ.get("MICROGRAD_SANITIZE"):
        san = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
               "-fno-sanitize-recover=undefined", "-DMG_NO_CLONES"]
        compile_args, link_args = ["-std=c11"] + san, list(san)
    else:
        compile_args, link_args = ["-std=c11", "-O3", "-Wall", "-Wextra"], []
    # ISO C mode turns off a*b+c -> fma contraction; allow it (where the CPU has FMA), as
    # NumPy's BLAS does: faster polynomials, and sums like -inf + 1e38*4 stay -inf
    compile_args.append("-ffp-contract=fast")
    # sqrt() must not set errno (nothing reads it), else a loop calling it cannot vectorise
    compile_args.append("-fno-math-errno")
    if compiler_accepts(["-fopenmp"]):
        compile_args.append("-fopenmp")
        link_args.append("-fopenmp")
    extra = shlex.split(os.environ.get("MICROGRAD_CFLAGS", ""))
    return compile_args + extra, link_args + extra


ffibuilder = FFI()
ffibuilder.cdef(cdef_text())
_compile_args, _link_args = build_flags()
ffibuilder.set_source(
    "micrograd._C",
    '#include "micrograd.h"',
    sources=SOURCES,
    depends=DEPENDS,
    include_dirs=[INCLUDE],
    extra_compile_args=_compile_args,
    extra_link_args=_link_args,
)


def build_in_place() -> Path:
    """Compile in a temporary directory and install the module as the only micrograd/_C*.so
    (a stale module under another suffix, e.g. an older _C.abi3.so from pip, would shadow or be
    shadowed by the new one depending on the interpreter's suffix order)."""
    import shutil
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(ffibuilder.compile(tmpdir=tmp, verbose=False))
        target = ROOT / "micrograd" / built.name
        for old in (ROOT / "micrograd").glob("_C.*.so"):
            old.unlink()
        shutil.copyfile(built, target.with_suffix(".tmp"))
        os.replace(target.with_suffix(".tmp"), target)  # atomic for concurrent importers
    return target


if __name__ == "__main__":
    print(build_in_place())
