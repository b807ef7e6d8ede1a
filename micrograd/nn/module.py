"""``Module`` and ``Parameter``: the base of every layer, with PyTorch's names and semantics.

One ``Module`` serves both engines. Tensor layers assign ``Parameter``s and sub-``Module``s as
attributes, and they register themselves (kept in ``_parameters`` / ``_modules`` *and* in the
instance ``__dict__``, so reading ``self.weight`` costs a plain attribute lookup).
Classic micrograd subclasses (``nn.scalar``: ``Neuron``, ``Layer``, ``MLP``, or a user's own)
never call ``super().__init__()`` and override ``parameters()`` to return lists of ``Value``s;
that keeps working: the registries are created on first use, and ``zero_grad`` sets a ``Value``'s
grad to 0 and a ``Tensor``'s to None (or zeros), as each engine expects.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator

import numpy as np

from ..core.engine import Value
from ..core.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight: ``requires_grad=True`` by default, and it
    registers itself when assigned to a ``Module`` attribute."""

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _registries(module: "Module") -> tuple[dict, dict, dict]:
    """The module's (parameters, submodules, buffers) dicts, created on first use for classic
    subclasses that never ran ``Module.__init__``."""
    d = module.__dict__
    if "_parameters" not in d:
        d["_parameters"], d["_modules"], d["_buffers"] = OrderedDict(), OrderedDict(), OrderedDict()
        d.setdefault("training", True)
    return d["_parameters"], d["_modules"], d["_buffers"]


class Module:
    """Base class of layers and models: subclass it, assign layers/Parameters in ``__init__``,
    write ``forward``; call the module to run it."""

    training: bool = True

    def __init__(self) -> None:
        _registries(self)

    # registration ----------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        params, modules, buffers = _registries(self)
        if name in params and value is not None and not isinstance(value, Parameter):
            raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                            "(a Parameter or None is required; to change its values, write "
                            f"into .data or use load_state_dict)")
        if name in modules and value is not None and not isinstance(value, Module):
            raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r} "
                            "(a Module or None is required)")
        if isinstance(value, Parameter) or (value is None and name in params):
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module) or (value is None and name in modules):
            params.pop(name, None)
            modules[name] = value
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} to buffer {name!r} "
                                "(a Tensor or None is required)")
            buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        params, modules, buffers = _registries(self)
        for registry in (params, modules, buffers):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (None registers a missing one, like a bias=False)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        params, _, _ = _registries(self)
        params[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """A non-learnable tensor that is part of the state (BatchNorm's running statistics)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        _, _, buffers = _registries(self)
        buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: "Module | None") -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        _, modules, _ = _registries(self)
        modules[name] = module
        object.__setattr__(self, name, module)

    # running ---------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # traversal -------------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, module in _registries(self)[1].items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator["Module"]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:  # depth-first, in registration order, each module once
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{k}" if name else k, m) for k, m in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_name, module in mods:
            for name, p in _registries(module)[0].items():
                if p is not None and id(p) not in seen:  # shared weights are listed once
                    seen.add(id(p))
                    yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for mod_name, module in self.named_modules(prefix):
            for name, b in _registries(module)[2].items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self) -> Iterator[Tensor]:
        for _, b in self.named_buffers():
            yield b

    # modes and gradients ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (Dropout drops, BatchNorm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: a Tensor's to None (or zeros), a classic ``Value``'s to 0."""
        for p in self.parameters():
            if isinstance(p, Value):
                p.grad = 0
            elif set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = Tensor(np.zeros(p.shape, dtype=p.data.dtype))

    # state -----------------------------------------------------------------------------------
    def state_dict(self, prefix: str = "") -> "OrderedDict[str, Tensor]":
        """Parameters and buffers by dotted name (``"0.weight"``), detached from the graph."""
        state: OrderedDict[str, Tensor] = OrderedDict()
        for name, p in self.named_parameters(prefix):
            state[name] = p.detach()
        for name, b in self.named_buffers(prefix):
            state[name] = b.detach()
        return state

    def load_state_dict(self, state_dict: dict, strict: bool = True):
        """Copy values from ``state_dict`` into the parameters and buffers, in place.

        Shapes must match. With ``strict`` (the default) missing or unexpected keys are an
        error; otherwise they are returned as ``(missing_keys, unexpected_keys)``."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        own = dict(self.named_parameters())
        own.update(self.named_buffers())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if tuple(array.shape) != tuple(target.shape):
                raise ValueError(f"load_state_dict: size mismatch for {key!r}: checkpoint has "
                                 f"shape {tuple(array.shape)}, the model {tuple(target.shape)}")
            target.data[...] = array
        return missing, unexpected

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """``to(dtype)``: cast floating-point parameters and buffers in place (a parameter that
        already has the dtype is left alone, so optimizers keep their references); a device
        ("cpu") is accepted and ignored, as ``Tensor.to``. Returns self."""
        for module in self.modules():
            params, _, buffers = _registries(module)
            for registry in (params, buffers):
                for name, t in registry.items():
                    if t is None or not t.dtype.is_floating_point:
                        continue
                    new = t.to(*args, **kwargs)
                    if new is t:
                        continue
                    if isinstance(t, Parameter):
                        new = Parameter(new.detach(), requires_grad=t.requires_grad)
                    registry[name] = new
                    object.__setattr__(module, name, new)
        return self

    def cpu(self) -> "Module":
        return self

    def float(self) -> "Module":
        return self.to("float32")

    def double(self) -> "Module":
        return self.to("float64")

    def apply(self, fn) -> "Module":
        """Call ``fn(module)`` on every submodule and self (children first), as in PyTorch."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # printing --------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses; layers override it."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self.named_children():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"
