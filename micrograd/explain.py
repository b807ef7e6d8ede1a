"""Public import path ``micrograd.explain``: the code is in micrograd/tools/explain.py.

The module object is the same one (``micrograd.explain is micrograd.tools.explain``), so
attributes set or patched through either path are seen through both."""
import sys

from .tools import explain as _module

sys.modules[__name__] = _module
