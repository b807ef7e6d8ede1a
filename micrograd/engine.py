"""Public import path ``micrograd.engine``: the code is in micrograd/core/engine.py.

The module object is the same one (``micrograd.engine is micrograd.core.engine``), so
attributes set or patched through either path are seen through both."""
import sys

from .core import engine as _module

sys.modules[__name__] = _module
