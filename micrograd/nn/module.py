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

import itertools
from collections import OrderedDict
from typing import Any, Callable, Iterator

import numpy as np

from ..core.engine import Value
from ..core.errors import OpError
from ..core.tensor import Tensor

#: set by micrograd.compile while it records a step: ``hook(module)`` on every module call (a
#: replay holds only while each module is in the train/eval mode it was recorded in)
_call_hook: Callable | None = None
#: how many times a forward hook was registered or removed, on any module: micrograd.compile
#: compares the modules' hooks with the recorded ones only after this moved
forward_hook_changes = 0


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight: ``requires_grad=True`` by default, and it
    registers itself when assigned to a ``Module`` attribute."""

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        if isinstance(data, Tensor):
            data = data._array
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


def _unique_modules(root: "Module") -> list:
    """``root.modules()`` as a list: root and every submodule, depth-first in registration
    order, each once (the traversal of ``named_modules`` without the names)."""
    seen: set = set()
    out = []
    stack = [root]
    while stack:
        module = stack.pop()
        if module in seen:
            continue
        seen.add(module)
        out.append(module)
        d = module.__dict__
        kids = d["_modules"] if "_modules" in d else _registries(module)[1]
        if kids:
            stack.extend(reversed([m for m in kids.values() if m is not None]))
    return out


class StateDictKeyError(RuntimeError, KeyError):
    """Missing or unexpected keys in a strict ``load_state_dict``: a RuntimeError as PyTorch
    raises, and a KeyError as micrograd raised before."""

    __str__ = BaseException.__str__  # the message as written, not KeyError's quoted repr


class RemovableHandle:
    """What ``register_forward_hook`` and ``register_forward_pre_hook`` return: ``remove()``
    unregisters the hook (also on leaving a ``with`` block)."""

    _ids = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        global forward_hook_changes
        if self.hooks.pop(self.id, None) is not None:
            forward_hook_changes += 1

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _add_hook(module: "Module", registry: str, hook: Callable, prepend: bool,
              with_kwargs: bool) -> RemovableHandle:
    """Register ``hook`` in the module's ``registry`` dict (created on first use; the class's
    empty one is shared and never written), first when ``prepend``."""
    if not callable(hook):
        raise TypeError(f"{registry.strip('_')}: hook must be callable, "
                        f"got {type(hook).__name__}")
    hooks = module.__dict__.get(registry)
    if hooks is None:
        hooks = OrderedDict()
        object.__setattr__(module, registry, hooks)
    global forward_hook_changes
    forward_hook_changes += 1
    handle = RemovableHandle(hooks)
    hooks[handle.id] = (hook, with_kwargs)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def has_forward_hooks(module: "Module") -> bool:
    """True when calling ``module`` runs hooks: code that bypasses ``__call__`` (Sequential's
    fused Linear + activation) must not then, or the hooks would be skipped."""
    return bool(module._forward_pre_hooks or module._forward_hooks)


class Module:
    """Base class of layers and models: subclass it, assign layers/Parameters in ``__init__``,
    write ``forward``; call the module to run it."""

    training: bool = True
    _forward_pre_hooks: dict = {}  # per instance once a hook is registered (_add_hook)
    _forward_hooks: dict = {}

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

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A non-learnable tensor that is part of the module (BatchNorm's running statistics):
        in ``state_dict`` unless ``persistent=False``, cast by ``to``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: buffer name must be a non-empty string without "
                           f"'.', got {name!r}")
        params, modules, buffers = _registries(self)
        if name not in buffers and (name in params or name in modules or hasattr(self, name)):
            raise KeyError(f"register_buffer: attribute {name!r} already exists")
        buffers[name] = tensor
        transient = self.__dict__.setdefault("_non_persistent_buffers_set", set())
        if persistent:
            transient.discard(name)
        else:
            transient.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register ``module`` (or None) as the submodule ``name``, as assigning ``self.name =
        module`` does."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        _, modules, _ = _registries(self)
        modules[name] = module
        object.__setattr__(self, name, module)

    # running ---------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The module's computation; each layer defines it. Call the module (``m(x)``) rather
        than ``m.forward(x)``, so its hooks run."""
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``forward``, with the forward pre-hooks before it and the forward hooks after it."""
        if _call_hook is not None:  # micrograd.compile is recording a step
            _call_hook(self)
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        for hook, with_kwargs in list(self._forward_pre_hooks.values()):
            if with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook registered with_kwargs=True must "
                                           f"return None or (args, kwargs), got {result!r}")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook, with_kwargs in list(self._forward_hooks.values()):
            result = hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` runs before ``forward``; returning a value replaces the
        positional arguments (a non-tuple becomes a 1-tuple). With ``with_kwargs``:
        ``hook(module, args, kwargs)`` returning None or ``(args, kwargs)``."""
        return _add_hook(self, "_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` runs after ``forward``; returning a value replaces
        the output. With ``with_kwargs``: ``hook(module, args, kwargs, output)``."""
        return _add_hook(self, "_forward_hooks", hook, prepend, with_kwargs)

    # traversal -------------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Direct submodules by attribute name; one registered under two names is listed once."""
        seen: set[int] = set()
        for name, module in _registries(self)[1].items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        """The direct submodules, in registration order."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """Self and every submodule, depth-first in registration order, with dotted names; a
        module reachable twice is listed once unless ``remove_duplicate=False`` (PyTorch's
        signature: ``memo`` is the set of modules already listed)."""
        seen = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in seen:
                    continue
                seen.add(module)
            yield name, module
            kids = [(f"{name}.{k}" if name else k, m)
                    for k, m in _registries(module)[1].items() if m is not None]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator["Module"]:
        """Self and every submodule, depth-first in registration order (each once)."""
        for _, module in self.named_modules():
            yield module

    def _named_members(self, registry: int, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        """Parameters (registry 0) or buffers (2) by dotted name; a tensor shared by several
        modules (tied weights) is listed once unless ``remove_duplicate=False``."""
        seen: set[int] = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                if recurse else iter([(prefix, self)]))
        for mod_name, module in mods:
            for name, t in _registries(module)[registry].items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{mod_name}.{name}" if mod_name else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) for self's parameters and, with ``recurse``, its submodules'
        (a shared one once unless ``remove_duplicate=False``)."""
        return self._named_members(0, prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Self's learnable Parameters and, with ``recurse``, its submodules' (what an optimizer
        takes): ``named_parameters``' order and de-duplication without building the names (a
        training step may call it every time, e.g. for a weight penalty)."""
        seen: set[int] = set()
        for module in _unique_modules(self) if recurse else (self,):
            d = module.__dict__
            for p in (d["_parameters"] if "_parameters" in d else _registries(module)[0]).values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, Tensor) for self's buffers and, with ``recurse``, its submodules'
        (running statistics and the like)."""
        return self._named_members(2, prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Self's buffers and, with ``recurse``, its submodules' (non-learnable state such as
        BatchNorm's running mean)."""
        for _, b in self.named_buffers(recurse=recurse):
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
        """Set ``requires_grad`` on every parameter (False freezes the module); returns self."""
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
                p.grad = Tensor(np.zeros(p.shape, dtype=p._array.dtype))

    # state -----------------------------------------------------------------------------------
    def state_dict(self, prefix: str = "") -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name (``"0.weight"``), detached from
        the graph, in PyTorch's order (each module's parameters, then its buffers, then its
        children); a tensor shared by several modules appears under each name (PyTorch)."""
        entries = [*self.named_parameters(prefix, remove_duplicate=False),
                   *self._persistent_buffers(prefix)]
        order = {name: i for i, (name, _) in
                 enumerate(self.named_modules(prefix=prefix, remove_duplicate=False))}
        owner = [order.get(name.rpartition(".")[0], len(order)) for name, _ in entries]
        ranked = sorted(range(len(entries)), key=owner.__getitem__)  # stable: params first
        return OrderedDict((entries[i][0], entries[i][1].detach()) for i in ranked)

    def _persistent_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Buffers that belong in ``state_dict``: not registered with ``persistent=False``."""
        for mod_name, module in self.named_modules(prefix=prefix, remove_duplicate=False):
            transient = module.__dict__.get("_non_persistent_buffers_set", ())
            for name, b in _registries(module)[2].items():
                if b is not None and name not in transient:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> tuple[list, list]:
        """Copy values from ``state_dict`` into the parameters and buffers, in place.

        Shapes must match. With ``strict`` (the default) missing or unexpected keys are an
        error; otherwise they are returned as ``(missing_keys, unexpected_keys)``."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        own = dict(self.named_parameters(remove_duplicate=False))
        own.update(self._persistent_buffers())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise StateDictKeyError(f"Error(s) in loading state_dict for "
                                    f"{type(self).__name__}: missing keys {missing}, "
                                    f"unexpected keys {unexpected}")
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value._array if isinstance(value, Tensor) else np.asarray(value)
            if tuple(array.shape) != tuple(target.shape):
                raise OpError(f"load_state_dict: size mismatch for {key!r}: checkpoint has "
                                 f"shape {tuple(array.shape)}, the model {tuple(target.shape)}")
            target._array[...] = array
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
        """self: everything already lives on the CPU (the only device of this build)."""
        return self

    def float(self) -> "Module":
        """Cast floating-point parameters and buffers to float32 in place; returns self."""
        return self.to("float32")

    def double(self) -> "Module":
        """Cast floating-point parameters and buffers to float64 in place; returns self."""
        return self.to("float64")

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every submodule and then on self, children first, recursively (as
        PyTorch: a module shared by two parents is visited twice). Typical use: weight init."""
        for module in self.children():
            module.apply(fn)
        fn(self)
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
