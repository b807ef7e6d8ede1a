"""Public import path ``micrograd.onnx`` (``micrograd.onnx.export``, as ``torch.onnx.export``):
the code is in micrograd/tools/onnx_export.py.

The module object is the same one (``micrograd.onnx is micrograd.tools.onnx_export``), so
attributes set or patched through either path are seen through both (``CONVERTERS`` too)."""
import sys

from .tools import onnx_export as _module

sys.modules[__name__] = _module
