"""Public import path ``micrograd.sklearn``: the code is in micrograd/apps/sklearn.py.

The module object is the same one (``micrograd.sklearn is micrograd.apps.sklearn``), so
attributes set or patched through either path are seen through both."""
import sys

from .apps import sklearn as _module

sys.modules[__name__] = _module
