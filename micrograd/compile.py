"""``micrograd.compile``: a training step recorded while it runs eagerly, then replayed without
building Tensors or a graph (in the spirit of ``torch.compile`` and tinygrad's ``TinyJit``).

    step = mg.compile(step_fn)          # or @mg.compile on the definition
    loss = step(x, y)                   # calls 1 and 2 run eagerly and are recorded
    loss = step(x, y)                   # from call 3 on: the recorded plan is replayed

**What is recorded.** While a call runs eagerly the recorder sees three things: every backend
kernel call (the thread's backend is wrapped by a proxy), with which arrays each call reads
(the step's tensor arguments, arrays that live across steps such as parameters and buffers,
constants, or the result of an earlier call) and which it returns; every op of the Tensor layer
(through ``tensor._recorder``, a hook in ``apply_op`` that costs one global load when nothing is
recorded); and every ``optimizer.step`` update (``Optimizer._update`` of a parameter, found from
the SGD/Adam kernel call it makes). At the end it notes each parameter's final ``.grad`` and
what the step returned (a Tensor, or a Python number read with ``item()``/``float()``).

**Why two recordings.** Calls 1 and 2 are both recorded and must agree: the same kernels with
the same non-array arguments, the same arrays in the same roles. Agreement is the guard against
Python control flow that depends on values, and it sorts the arrays the kernels read that no
kernel made: the same object both times is state, read where it lives at replay (parameters,
buffers); different objects with bitwise-equal contents are constants (the backward's seed of
ones, a loss's 1/N factor, a zeroed ``.grad``); anything else changes from call to call outside
the kernels (random draws, a tensor made from data inside the step) and cannot be replayed.

**The replay** is the recorded calls as straight-line Python (generated once per plan): each
kernel called on the arrays of the recording's roles, with the new arguments' arrays in place of
the recorded ones; the optimizer update is the optimizer's own ``_update`` on the parameter's
storage (so a changed learning rate, Adam's step count and the state stay the optimizer's);
then each ``.grad`` is set as eager left it and the outputs are returned as the step returned
them (a Tensor outside any graph; a float). Same kernels, same order, same inputs: parameters,
gradients, optimizer state and losses are bitwise equal to eager.

**Fallback.** A call runs eagerly, with a one-time ``RuntimeWarning`` naming the reason
(``fullgraph=True`` raises it instead), when its step cannot be replayed: an op the recorder does
not know (only the primitives of core/ops.py whose math is all backend calls), an optimizer
other than SGD/Adam/AdamW (their updates are NumPy code the recorder does not see), a tensor's
value read (``item``, ``bool``, ``float``, ``tolist``, ``numpy``) before the step's last kernel,
random numbers drawn (dropout: the generator's draws are NumPy code, so the step stays eager),
an in-place change other than the optimizer's, tensor hooks, anomaly mode, a graph that leaves
the step without backward, or recordings that disagree. A new key (argument shapes, dtypes,
requires_grad, other arguments, backend, grad mode) is recorded anew, up to ``MAX_PLANS`` keys;
a plan whose parameters, optimizer or state were replaced since is dropped and re-recorded.

**Limits** (the contract, as with CUDA graphs): Python side effects in the step (printing,
counters) run on the recorded calls only; library code that decides from values says so
(``tensor.depends_on_values``: the class losses' labels, ignored or out of range), and a call
whose arguments would make it decide otherwise runs eagerly; a tensor made inside the step from
data that happened to be equal on calls 1 and 2 is taken for a constant: pass data as
arguments.
"""
from __future__ import annotations

import functools
import sys
import threading
import warnings
from typing import Any, Callable

import numpy as np

from .core import ops
from .core import tensor as _tensor
from .core.random import generator
from .core.settings import settings, thread_value
from .core.tensor import Tensor, _bump, wrap_array
from .optim.adam import Adam
from .optim.optimizer import Optimizer
from .optim.sgd import SGD

__all__ = ["compile"]

#: how many argument keys (shapes, dtypes, ...) one compiled step keeps plans for
MAX_PLANS = 8
#: the primitives whose forward and backward are backend calls only (Sum's full-reduction
#: backward fills with NumPy: recorded as a ``fill``); the others compute with NumPy directly
_UNRECORDED = {ops.ScatterReduce, ops.CopySlices, ops.IndexPut, ops.Overwrite,
               ops.ForbiddenView, ops.AsStrided, ops.Erfinv}
RECORDED_OPS = frozenset(
    c for c in vars(ops).values()
    if isinstance(c, type) and issubclass(c, ops.Function) and c is not ops.Function
    and c.__module__ == ops.__name__ and c not in _UNRECORDED)
#: Tensor methods that hand a value to Python: guarded while recording
_VALUE_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__",
                "__array__")
_ORIGINAL_READS = {name: getattr(Tensor, name) for name in _VALUE_READS}
#: the optimizers whose ``_update`` is exactly one backend kernel call
_OPT_UPDATES = (SGD._update, Adam._update)
_LOCK = threading.RLock()  # one recording at a time: the value-read guards patch Tensor


class NotCapturable(Exception):
    """Why a step cannot be replayed (the message is the warning's reason)."""


# ---- recording -------------------------------------------------------------------------------
class _Proxy:
    """The thread's backend while a step is recorded: each kernel call is passed on and noted."""

    def __init__(self, real: Any, rec: _Recorder) -> None:
        self._real, self._rec = real, rec

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if name.startswith("_") or not callable(attr):
            return attr
        rec = self._rec
        if name in ("sgd_step", "adam_step"):
            def call(*args, **kwargs):
                rec.optimizer_update()
                return attr(*args, **kwargs)
        else:
            def call(*args, **kwargs):
                encoded = rec.enc(args), rec.enc(kwargs)  # before the call: what it reads
                out = attr(*args, **kwargs)
                rec.add("k", name, encoded, out)
                return out
        self.__dict__[name] = call
        return call


class _Recorder:
    """One eager call of the step, recorded. Arrays are named by their role: ``("in", k)`` the
    k-th tensor argument, ``("t", j, path)`` what call j returned, ``("ext", e)`` the e-th array
    no kernel made (sorted into state or constant by comparing two recordings)."""

    def __init__(self, arrays: list) -> None:
        self.thread = threading.get_ident()
        self.names: dict[int, tuple] = {}
        self.pinned: list = []  # every array named stays alive, so ids stay unique
        for k, a in enumerate(arrays):
            self._name(a, ("in", k))
        self.ext: list[tuple[np.ndarray, np.ndarray]] = []  # (array, its contents when read)
        self.owners: dict[int, Tensor] = {}  # id(array) -> the leaf Tensor holding it
        self.calls: list[tuple] = []         # (kind, what, encoded arguments)
        self.reads: list[tuple] = []         # (calls so far, method, name, value)
        self.tensors: dict[int, tuple] = {}  # id -> (Tensor, its version when first seen)
        self.leaves: dict[int, tuple] = {}   # id -> (leaf requiring grad, its .grad then)
        self.bumps: dict[int, int] = {}      # id(p) -> optimizer updates of p
        self.guards: list[tuple] = []        # (argument k, summarize, its summary)
        self.problem: str | None = None
        self.active = False

    def fail(self, reason: str) -> None:
        if self.problem is None:
            self.problem = reason

    def _name(self, a: np.ndarray, name: tuple) -> None:
        self.names[id(a)] = name
        self.pinned.append(a)

    def ref(self, a: np.ndarray) -> tuple:
        name = self.names.get(id(a))
        if name is None:
            name = ("ext", len(self.ext))
            self.ext.append((a, a.copy()))
            self._name(a, name)
        return name

    def enc(self, v: Any) -> Any:
        """v with its arrays replaced by their names (comparable between recordings)."""
        if isinstance(v, np.ndarray):
            return self.ref(v)
        if isinstance(v, np.generic) and id(v) in self.names:  # a kernel's 0-d result
            return self.names[id(v)]
        if isinstance(v, (tuple, list)):
            return ("seq", type(v), tuple(self.enc(x) for x in v))
        if isinstance(v, dict):
            return ("dict", tuple((k, self.enc(x)) for k, x in v.items()))
        if isinstance(v, Tensor):
            self.fail("a kernel was handed a Tensor")
        return ("v", v)

    def add(self, kind: str, what: Any, encoded: Any, out: Any) -> None:
        j = len(self.calls)
        self.calls.append((kind, what, encoded))
        for path, a in _arrays(out):
            if id(a) not in self.names:  # a kernel may hand back its input (a no-op reshape)
                self._name(a, ("t", j, path))

    # the hooks ---------------------------------------------------------------------------------
    def on_op(self, fn: ops.Function, inputs: tuple, out: Tensor) -> None:
        """tensor._recorder: every op of the Tensor layer, after it ran."""
        if threading.get_ident() != self.thread or not self.active:
            return
        cls = type(fn)
        if cls not in RECORDED_OPS:
            self.fail(f"op {cls.__name__} is not recorded (it computes with NumPy directly)")
        elif cls is ops.Sum and fn.axes is None and not fn.keepdims and fn.needs_input_grad:
            fn.backward = functools.partial(self._sum_backward, fn.backward, fn.shape)
        for t in (*inputs, out):
            if id(t) not in self.tensors:
                self.tensors[id(t)] = (t, 0 if t._vc is None else t._vc.n)
                if t._hooks:
                    self.fail("a tensor has hooks (register_hook): they run Python code")
                if t._ctx is None:
                    self.owners[id(t._array)] = t
                    if t.requires_grad:
                        self.leaves[id(t)] = (t, t._grad)

    def _sum_backward(self, backward: Callable, shape: tuple, g: np.ndarray) -> tuple:
        """Sum's full-reduction backward fills with NumPy (ops.Sum): noted as a ``fill``."""
        grads = backward(g)
        if self.active and threading.get_ident() == self.thread:
            self.add("fill", shape, self.enc((g, grads[0].dtype)), grads[0])
        return grads

    def optimizer_update(self) -> None:
        """An SGD/Adam kernel call: noted as its optimizer's update of one parameter (the
        ``Optimizer.step`` frame names the optimizer, parameter, state and group)."""
        frame = sys._getframe(2)
        while frame is not None and frame.f_code is not Optimizer.step.__code__:
            frame = frame.f_back
        if frame is None:
            self.fail("an optimizer kernel was called outside Optimizer.step")
            return
        f = frame.f_locals
        opt, p, state, group = f["self"], f["p"], f["state"], f["group"]
        if type(opt)._update not in _OPT_UPDATES:
            self.fail(f"optimizer {type(opt).__name__} is not recorded")
            return
        self.bumps[id(p)] = self.bumps.get(id(p), 0) + 1
        self.tensors.setdefault(id(p), (p, 0 if p._vc is None else p._vc.n))
        self.calls.append(("opt", (opt, p, state, group), self.enc(p.grad._array)))

    def on_guard(self, a: np.ndarray, summarize: Callable) -> None:
        """tensor._value_guard: library code decided something from ``a``'s values."""
        if not (self.active and threading.get_ident() == self.thread):
            return
        name = self.names.get(id(a))
        if name is None or name[0] != "in":
            self.fail("library code decides from the values of an array that is not an "
                      "argument of the step (e.g. labels made inside it): pass it as an argument")
        else:
            self.guards.append((name[1], summarize, summarize(a)))

    def on_read(self, name: str, t: Tensor, value: Any) -> None:
        if self.active and threading.get_ident() == self.thread:
            self.reads.append((len(self.calls), name, self.ref(t._array), value))

    # a whole call ------------------------------------------------------------------------------
    def run(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        with _LOCK:
            gen = generator()
            state = gen.bit_generator.state
            saved = _tensor._recorder, _tensor._value_guard
            _tensor._recorder, _tensor._value_guard = self.on_op, self.on_guard
            for name in _VALUE_READS:
                setattr(Tensor, name, _guarded(name))
            _ACTIVE.append(self)
            self.active = True
            try:
                with thread_value("backend", _Proxy(settings.backend, self)):
                    result = fn(*args, **kwargs)
            finally:
                self.active = False
                _ACTIVE.pop()
                _tensor._recorder, _tensor._value_guard = saved
                if not _ACTIVE:
                    for name, method in _ORIGINAL_READS.items():
                        setattr(Tensor, name, method)
            if generator() is not gen or gen.bit_generator.state != state:
                self.fail("the step draws random numbers (dropout, a random factory): the "
                          "draws are NumPy code the replay would not repeat")
            self.finish(result)
        return result

    def finish(self, result: Any) -> None:
        """The checks that need the whole call, and its outcome: grads and outputs."""
        if any(at < len(self.calls) for at, *_ in self.reads):
            self.fail("the step reads a tensor's value (item, bool, float, tolist, numpy) "
                      "before its last kernel: Python control flow may depend on it")
        for t, then in self.tensors.values():
            now = 0 if t._vc is None else t._vc.n
            if now - then != self.bumps.get(id(t), 0) and id(t) not in self.bumps:
                self.fail("the step changes a tensor in place (other than the optimizer's "
                          "update); in-place writes are not recorded")
        self.grads = []
        for p, before in self.leaves.values():
            grad = p._grad
            if grad is None:
                self.grads.append((p, None, None))
            else:
                keep = grad is before
                self.grads.append((p, keep, self.ref(grad._array)))
        self.result = self.output(result)

    def output(self, v: Any) -> tuple:
        if v is None or isinstance(v, (str, bool)):
            return ("v", v)
        if isinstance(v, Tensor):
            if v._ctx is not None and not v._ctx.freed:
                self.fail("the step returns a tensor whose graph is still needed (backward "
                          "is not called inside it): compile the whole training step")
            return ("tensor", self.ref(v._array))
        if isinstance(v, (tuple, list)):
            return ("seq", type(v), tuple(self.output(x) for x in v))
        for _, name, array, value in reversed(self.reads):
            if value is v:
                return ("read", name, array)
        self.fail(f"the step returns a {type(v).__name__} that is not read from a tensor")
        return ("v", None)


_ACTIVE: list[_Recorder] = []


def _guarded(name: str) -> Callable:
    method = _ORIGINAL_READS[name]

    def read(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        value = method(self, *args, **kwargs)
        if _ACTIVE:
            _ACTIVE[-1].on_read(name, self, value)
        return value
    read.__name__ = read.__qualname__ = name
    return read


def _arrays(out: Any, path: tuple = ()) -> list:
    """(path, array) for every array in a kernel's result (an array or nested tuples)."""
    if isinstance(out, (np.ndarray, np.generic)):  # NumPy's full sum is a scalar
        return [(path, out)]
    if isinstance(out, tuple):
        return [x for i, o in enumerate(out) for x in _arrays(o, path + (i,))]
    return []


# ---- the plan: two recordings compared, turned into straight-line code -----------------------
class _Plan:
    """A replayable step: ``run(arrays)`` does what the eager step did, given its arguments'
    arrays; ``valid()`` checks that what the plan reads in place is still the step's state."""

    def __init__(self, r1: _Recorder, r2: _Recorder, backend: Any) -> None:
        for r in (r1, r2):
            if r.problem:
                raise NotCapturable(r.problem)
        if (r1.calls, r1.result) != (r2.calls, r2.result) or len(r1.ext) != len(r2.ext) \
                or [(p, k, a) for p, k, a in r1.grads] != [(p, k, a) for p, k, a in r2.grads]:
            raise NotCapturable("the two recorded calls ran different kernels: Python control "
                                "flow in the step depends on values")
        if [(k, v) for k, _, v in r1.guards] != [(k, v) for k, _, v in r2.guards]:
            raise NotCapturable("library code decided differently from the two recorded calls' "
                                "values (e.g. which labels a loss ignores)")
        self.guards = [(k, summarize, v) for k, summarize, v in r2.guards]
        scope: dict[str, Any] = {"wrap": wrap_array, "bump": _bump, "full": np.full,
                                 "keep_grad": _keep_grad, **{f"R_{n}": m for n, m in
                                                             _ORIGINAL_READS.items()}}
        self.checks: list[tuple] = []  # (tensor, array it must hold)
        for e, ((a1, s1), (a2, s2)) in enumerate(zip(r1.ext, r2.ext)):
            if a1 is a2:  # state: read where it lives
                scope[f"e{e}"] = a2
                owner = r2.owners.get(id(a2))
                if owner is not None:
                    self.checks.append((owner, a2))
            elif s1.dtype == s2.dtype and s1.shape == s2.shape and \
                    s1.tobytes() == s2.tobytes():
                scope[f"e{e}"] = s2  # a constant
            else:
                raise NotCapturable(
                    f"the step reads an array of shape {s2.shape} that no recorded kernel made "
                    "and whose values change from call to call (a tensor made from data or "
                    "random numbers inside the step): pass it as an argument")
        self.optimizers: dict[int, tuple] = {}
        names = iter(range(10**9))
        lines = []

        def const(v: Any) -> str:
            n = f"c{next(names)}"
            scope[n] = v
            return n

        def src(x: Any) -> str:
            tag = x[0]
            if tag == "in":
                return f"i{x[1]}"
            if tag == "t":
                return f"t{x[1]}" + "".join(f"[{i}]" for i in x[2])
            if tag == "ext":
                return f"e{x[1]}"
            if tag == "seq":
                inner = ", ".join(src(i) for i in x[2])
                return f"[{inner}]" if x[1] is list else f"({inner}{',' if x[2] else ''})"
            if tag == "dict":
                return "{" + ", ".join(f"{k!r}: {src(v)}" for k, v in x[1]) + "}"
            return const(x[1])

        for j, (kind, what, encoded) in enumerate(r2.calls):
            if kind == "k":
                args, kwargs = encoded
                scope[f"be_{what}"] = getattr(backend, what)
                inner = src(args)[1:-1].rstrip(",")
                kw = "".join(f", {k}={src(v)}" for k, v in kwargs[1])
                lines.append(f"t{j} = be_{what}({inner}{kw})".replace("(, ", "("))
            elif kind == "fill":
                g, dtype = encoded[2]
                lines.append(f"t{j} = full({const(what)}, {src(g)}, {src(dtype)})")
            else:
                opt, p, state, group = what
                scope.update({f"O{j}": opt, f"P{j}": p, f"S{j}": state, f"G{j}": group,
                              f"A{j}": p._array})
                self.checks.append((p, p._array))
                self.optimizers[id(opt)] = (opt, _param_list(opt))
                self.checks.append((_StateOf(opt, p), state))
                lines.append(f"O{j}._update(A{j}, {src(encoded)}, S{j}, G{j}); bump(P{j})")
        for n, (p, keep, array) in enumerate(r2.grads):
            scope[f"L{n}"] = p
            if keep is None:
                lines.append(f"L{n}._grad = None")
            elif keep:
                lines.append(f"keep_grad(L{n}, {src(array)})")
            else:
                lines.append(f"L{n}._grad = wrap({src(array)})")

        def out(x: tuple) -> str:
            if x[0] == "tensor":
                return f"wrap({src(x[1])})"
            if x[0] == "read":
                return f"R_{x[1]}(wrap({src(x[2])}))"
            if x[0] == "seq":
                inner = ", ".join(out(i) for i in x[2])
                return f"[{inner}]" if x[1] is list else f"({inner}{',' if x[2] else ''})"
            return const(x[1])

        lines.append(f"return {out(r2.result)}")
        params = ", ".join(f"i{k}" for k in range(sum(1 for n in r2.names.values()
                                                         if n[0] == "in")))
        self.source = f"def replay({params}):\n" + "".join(f"    {x}\n" for x in lines)
        exec(self.source, scope)  # noqa: S102 - our own generated code
        self.run = scope["replay"]

    def holds_for(self, arrays: list) -> bool:
        """What library code decided from the recorded arguments' values (``depends_on_values``)
        it would decide the same from these."""
        return all(summarize(arrays[k]) == v for k, summarize, v in self.guards)

    def valid(self) -> bool:
        """Parameters still hold the arrays recorded, optimizers the same params and state."""
        for t, a in self.checks:
            if (t.state() if isinstance(t, _StateOf) else t._array) is not a:
                return False
        return all(_param_list(opt) == params for opt, params in self.optimizers.values())


class _StateOf:
    """A check target: the optimizer's state dict of a parameter (replaced by load_state_dict)."""

    def __init__(self, opt: Optimizer, p: Tensor) -> None:
        self.opt, self.p = opt, p

    def state(self) -> Any:
        return self.opt.state.get(self.p)


def _param_list(opt: Optimizer) -> list:
    return [id(p) for g in opt.param_groups for p in g["params"]]


def _keep_grad(p: Tensor, array: np.ndarray) -> None:
    """Eager kept p's .grad Tensor and gave it a new array (``_accumulate`` into a zeroed
    grad): do the same, or make one if the user set it to None since."""
    if p._grad is None:
        p._grad = wrap_array(array)
    else:
        p._grad._array = array


# ---- the public object -----------------------------------------------------------------------
class CompiledStep:
    """``step_fn`` recorded on its first calls and replayed after (see the module docstring).

    ``plans`` maps each key to its state: a list of recordings (still recording), a ``_Plan``,
    or the reason (a str) the step runs eagerly for that key."""

    def __init__(self, fn: Callable, fullgraph: bool = False) -> None:
        self.fn, self.fullgraph = fn, fullgraph
        self.plans: dict[Any, Any] = {}
        self._warned: set[str] = set()
        functools.update_wrapper(self, fn, updated=())

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key, arrays = _key(args, kwargs)
        entry = key if isinstance(key, str) else self.plans.get(key)
        if isinstance(entry, _Plan):
            if entry.valid():
                if entry.holds_for(arrays):
                    return entry.run(*arrays)
                return self._eager("these arguments' values make library code decide otherwise "
                                   "than when the step was recorded (e.g. labels a loss "
                                   "ignores, or out of range): this call runs eagerly",
                                   args, kwargs)
            self._eager("the parameters, the optimizer or its state changed since the step "
                        "was recorded: recording it again")
            entry = self.plans[key] = []
        if isinstance(entry, str):
            return self._eager(entry, args, kwargs)
        if entry is None:
            if len(self.plans) >= MAX_PLANS:
                return self._eager(f"more than {MAX_PLANS} argument shapes/dtypes",
                                   args, kwargs)
            entry = self.plans[key] = []
        rec = _Recorder(arrays)
        result = rec.run(self.fn, args, kwargs)
        entry.append(rec)
        if rec.problem:
            self.plans[key] = rec.problem
            self._eager(rec.problem)
        elif len(entry) == 2:
            try:
                self.plans[key] = _Plan(entry[0], entry[1], settings.backend)
            except NotCapturable as exc:
                self.plans[key] = str(exc)
                self._eager(str(exc))
        return result

    def _eager(self, reason: str, args: tuple | None = None, kwargs: dict | None = None) -> Any:
        """Warn once per reason (raise under fullgraph); run the step eagerly if args given."""
        if self.fullgraph:
            raise RuntimeError(f"micrograd.compile({_name(self.fn)}, fullgraph=True): {reason}")
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"micrograd.compile({_name(self.fn)}): running eagerly: {reason}",
                          RuntimeWarning, stacklevel=3)
        return None if args is None else self.fn(*args, **kwargs)


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def _key(args: tuple, kwargs: dict) -> tuple:
    """(the plan key or the reason there is none, the tensor arguments' arrays)."""
    arrays, key = [], [settings.backend, settings.grad_enabled]
    for v in (*args, *(x for item in sorted(kwargs.items()) for x in item)):
        if isinstance(v, Tensor):
            arrays.append(v._array)
            key.append((v._array.shape, v._array.dtype, v._array.strides, v.requires_grad))
        else:
            key.append(v)
    if settings.anomaly:
        return "anomaly mode is on (its checks run in the Tensor layer)", arrays
    key = tuple(key)
    try:
        hash(key)
    except TypeError:
        return "an argument is neither a Tensor nor hashable", arrays
    return key, arrays


def compile(fn: Callable | None = None, *, fullgraph: bool = False, dynamic: Any = None,  # noqa: A001
            backend: Any = None, mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """``fn`` recorded on its first two calls and replayed from the third (module docstring);
    usable as ``@compile`` or ``@compile(fullgraph=True)``. torch's ``dynamic``, ``backend``,
    ``mode`` and ``options`` are accepted and change nothing; ``disable=True`` returns ``fn``;
    ``fullgraph=True`` raises where the step would fall back to eager."""
    def wrap(f: Callable) -> Any:
        if not callable(f):
            raise TypeError(f"compile: expected a callable, got {type(f).__name__}")
        return f if disable else CompiledStep(f, fullgraph)
    return wrap if fn is None else wrap(fn)
