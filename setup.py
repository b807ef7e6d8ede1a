"""setup.py exists only to hand the C core to cffi; all metadata lives in pyproject.toml.

What it adds to a plain setuptools build, and why:

* **The C core is required unless declined.** pip hides a build's output unless it fails, so a
  C core that silently failed to build would leave the user on the slow NumPy backend with no
  word from pip. A missing compiler (or any compile error) therefore stops the install with a
  message naming the cause and both ways on: install a C compiler, or ask for the NumPy-only
  build with ``MICROGRAD_NO_EXT=1``.
* **abi3 wheels.** cffi's API mode compiles against the stable ABI (``Py_LIMITED_API``, the
  module is ``_C.abi3.so``), so the wheel is tagged ``cp310-abi3``: one wheel for every CPython
  from 3.10 on (free-threaded builds have no stable ABI yet and get their own tag).
* **No debug info** in the shared object (``-g0``, strip at link time), whatever ``-g`` the
  interpreter's own CFLAGS carry; kept when ``MICROGRAD_SANITIZE`` or ``MICROGRAD_CFLAGS`` asks
  for debugging.
* **No stale module.** Every build starts from an empty ``build/lib*/micrograd``, so an old
  ``build/`` folder (another version, other flags, another Python's suffix) never ships its
  shared object; an in-place build (``pip install -e .``) removes the other ``micrograd/_C.*``
  modules, which would otherwise shadow the new one.
"""
from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

from setuptools import setup

try:
    from setuptools.command.build import build
except ImportError:  # setuptools < 62.4 (the floor is 61)
    from distutils.command.build import build
from setuptools.command.build_ext import build_ext

NO_EXT = os.environ.get("MICROGRAD_NO_EXT", "") not in ("", "0")
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
NO_COMPILER_HELP = """\
micrograd: error: the C core could not be built:
    {error}
Install a C compiler and Python's headers and run the install again (Debian/Ubuntu:
apt-get install gcc python3-dev; Fedora: dnf install gcc python3-devel; macOS:
xcode-select --install), or install without the C core on purpose, on the slower NumPy
backend: set MICROGRAD_NO_EXT=1 and run the same pip command."""


def _wants_debug_info() -> bool:
    flags = os.environ.get("MICROGRAD_CFLAGS", "").split()
    return bool(os.environ.get("MICROGRAD_SANITIZE")) or any(f.startswith("-g") for f in flags)


class CleanBuild(build):
    """``build`` that first empties its own ``micrograd`` output folder (see the module doc)."""

    def run(self) -> None:
        shutil.rmtree(Path(self.build_lib) / "micrograd", ignore_errors=True)
        super().run()


class CoreBuildExt(build_ext):
    """``build_ext`` for the C core: release flags, no stale in-place module, clear failure."""

    def run(self) -> None:
        if self.inplace or getattr(self, "editable_mode", False):  # pip install -e . / build_ext --inplace
            self._remove_other_modules_in_source()
        try:
            super().run()
        except Exception as exc:  # e.g. no compiler found while setting up
            raise SystemExit(NO_COMPILER_HELP.format(error=exc)) from exc

    def _remove_other_modules_in_source(self) -> None:
        """Delete ``micrograd/_C.*`` modules other than the one this build writes: Python
        prefers ``_C.cpython-3XY-*.so`` (``python csrc/build_ffi.py``) over ``_C.abi3.so``, so
        an old one would shadow the new build."""
        build_py = self.get_finalized_command("build_py")
        for ext in self.extensions:
            fullname = self.get_ext_fullname(ext.name)
            package, _, stem = fullname.rpartition(".")
            keep = os.path.basename(self.get_ext_filename(fullname))
            for old in Path(build_py.get_package_dir(package)).glob(f"{stem}.*"):
                if old.suffix in (".so", ".pyd") and old.name != keep:
                    old.unlink()

    def build_extension(self, ext) -> None:
        if self.compiler.compiler_type == "unix" and not _wants_debug_info():
            ext.extra_compile_args = [*ext.extra_compile_args, "-g0"]  # after the CFLAGS' -g
            ext.extra_link_args = [*ext.extra_link_args, "-Wl,-S"]  # strip debug sections
        try:
            super().build_extension(ext)
        except Exception as exc:  # compiler missing, CompileError, LinkError ...
            raise SystemExit(NO_COMPILER_HELP.format(error=exc)) from exc


setup(
    cffi_modules=[] if NO_EXT else ["csrc/build_ffi.py:ffibuilder"],
    cmdclass={"build": CleanBuild, "build_ext": CoreBuildExt},
    options={} if NO_EXT or FREE_THREADED else {"bdist_wheel": {"py_limited_api": "cp310"}},
)
