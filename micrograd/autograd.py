"""Public import path ``micrograd.autograd``: the code is in micrograd/core/autograd.py.

The module object is the same one (``micrograd.autograd is micrograd.core.autograd``), so
attributes set or patched through either path are seen through both."""
import sys

from .core import autograd as _module

sys.modules[__name__] = _module
