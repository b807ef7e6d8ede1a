"""Public import path ``micrograd.autograd``: the code is in micrograd/core/autograd.py.

The module object is the same one (``micrograd.autograd is micrograd.core.autograd``), so
attributes set or patched through either path are seen through both. ``micrograd.autograd.
function`` is micrograd/core/function.py, as ``torch.autograd.function`` is torch's."""
import sys

from .core import autograd as _module
from .core import function as _function

sys.modules[__name__] = _module
sys.modules[__name__ + ".function"] = _function
_module.function = _function
