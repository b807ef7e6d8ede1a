"""Public import path ``micrograd.viz``: the code is in micrograd/tools/viz.py.

The module object is the same one (``micrograd.viz is micrograd.tools.viz``), so
attributes set or patched through either path are seen through both."""
import sys

from .tools import viz as _module

sys.modules[__name__] = _module
