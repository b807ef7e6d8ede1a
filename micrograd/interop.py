"""``micrograd.interop``: weights to and from the ecosystem without pickle — PyTorch state_dicts
(names and layouts as PyTorch's) and safetensors files. The code is in micrograd/tools/
(torch_interop.py, safetensors_io.py); DLPack is on the Tensor itself (``__dlpack__``,
``micrograd.from_dlpack``) and ONNX export is ``micrograd.onnx.export``."""
from .tools.safetensors_io import load_safetensors, read_safetensors_metadata, save_safetensors
from .tools.torch_interop import load_torch_state_dict, to_torch_state_dict

__all__ = ["to_torch_state_dict", "load_torch_state_dict", "save_safetensors",
           "load_safetensors", "read_safetensors_metadata"]
