"""Public import path ``micrograd.dtypes``: the code is in micrograd/core/dtypes.py.

The module object is the same one (``micrograd.dtypes is micrograd.core.dtypes``), so
attributes set or patched through either path are seen through both."""
import sys

from .core import dtypes as _module

sys.modules[__name__] = _module
