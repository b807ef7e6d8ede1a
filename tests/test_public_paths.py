"""The import paths users write keep working after the code moved into core/, tools/ and apps/:
each public path is the very module object that holds the code (not a copy), and the
torch-style paths PyTorch code uses exist."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import micrograd

PUBLIC = {  # public path: where the code is
    "micrograd.engine": "micrograd.core.engine",
    "micrograd.autograd": "micrograd.core.autograd",
    "micrograd.autograd.function": "micrograd.core.function",
    "micrograd.dtypes": "micrograd.core.dtypes",
    "micrograd.explain": "micrograd.tools.explain",
    "micrograd.viz": "micrograd.tools.viz",
    "micrograd.sklearn": "micrograd.apps.sklearn",
    "micrograd.onnx": "micrograd.tools.onnx_export",
}


@pytest.mark.parametrize("public,real", PUBLIC.items())
def test_public_path_is_the_module_itself(public, real):
    assert importlib.import_module(public) is importlib.import_module(real)


def test_torch_style_attribute_paths():
    """What `import micrograd as torch` code reaches through attributes alone."""
    torch = micrograd
    assert torch.utils.data.DataLoader is micrograd.data.DataLoader
    assert callable(torch.onnx.export) and callable(torch.linalg.vector_norm)
    assert callable(micrograd.interop.load_torch_state_dict)
    assert torch.autograd.Function is importlib.import_module("micrograd.core.function").Function
    assert torch.autograd.function.Function is torch.autograd.Function
    assert torch.autograd.detect_anomaly is importlib.import_module(
        "micrograd.core.anomaly").detect_anomaly
    assert callable(torch.explain)            # the function; the module is micrograd.explain


def test_classic_import_in_a_fresh_interpreter():
    """`from micrograd.engine import Value` as the first import of a program (classic micrograd
    code), and `micrograd.explain` staying the function after `import micrograd.explain`."""
    code = ("from micrograd.engine import Value\n"
            "import micrograd, micrograd.explain\n"
            "v = Value(2.0) * Value(3.0); v.backward()\n"
            "assert v.data == 6.0 and callable(micrograd.explain)\n"
            "from micrograd.autograd.function import once_differentiable\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
