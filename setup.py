"""setup.py exists only to hand the C core to cffi; all metadata lives in pyproject.toml.

The extension is optional: if the C compiler is missing or fails, the install still succeeds and
micrograd runs on its NumPy backend (it warns once at import). ``MICROGRAD_NO_EXT=1`` skips the
build on purpose.
"""
import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """build_ext that reports a failed C build instead of failing the whole install."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # compiler missing, CompileError, LinkError ...
            self._report(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._report(exc)

    @staticmethod
    def _report(exc):
        print(f"WARNING: micrograd's C core was not built ({exc}); the NumPy backend will be used.",
              file=sys.stderr)


skip = os.environ.get("MICROGRAD_NO_EXT", "") not in ("", "0")
setup(
    cffi_modules=[] if skip else ["csrc/build_ffi.py:ffibuilder"],
    cmdclass={"build_ext": OptionalBuildExt},
)
