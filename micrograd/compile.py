"""``micrograd.compile``: a training step recorded while it runs eagerly, then replayed without
building Tensors or a graph (in the spirit of ``torch.compile`` and tinygrad's ``TinyJit``).

    step = mg.compile(step_fn)          # or @mg.compile on the definition
    loss = step(x, y)                   # calls 1 and 2 run eagerly and are recorded
    loss = step(x, y)                   # from call 3 on: the recorded plan is replayed

**What is recorded.** While a call runs eagerly the recorder sees four things: every backend
kernel call (the thread's backend is wrapped by a proxy), with which arrays each call reads
(the step's tensor arguments, arrays that live across steps such as parameters and buffers,
constants, or the result of an earlier call) and which it returns; every op of the Tensor layer
(through ``tensor._recorder``, a hook in ``apply_op`` that costs one global load when nothing is
recorded); every ``optimizer.step`` update (``Optimizer._update`` of a parameter, which
``step`` hands to the recorder while it records: the update is one call, whatever backend calls
or NumPy code it runs inside); and the NumPy work library code does on the step's arrays
through ``tensor.numpy_call`` (in-place writes: running statistics, gradient clipping, an
Embedding's ``max_norm``; checks of computed values: BCE's probabilities): one call each,
repeated at replay on that replay's arrays. At the end it notes each parameter's final
``.grad`` and what the step returned (a Tensor, or a Python number read with
``item()``/``float()``).

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

**The C path.** On the C backend the recordings also note which C kernels each backend call
ran (``c_backend.trace_kernels``), and the plan lowers every call it can (``_Lowering``) to
steps of one ``mg_exec`` call (csrc/executor.c): the kernels the call ran, with their arguments,
on buffers allocated once per plan; NumPy's arithmetic between them (add, sub, mul, div of equal
shapes or with a one-element operand, neg), full sums, fills and aliasing reshapes are repeated
by the executor's own kernels, bit for bit as NumPy computes them; an SGD/Adam update is its
kernel, its learning rate and weight decay (and Adam's step count) refreshed from the param
group before each run. What cannot be lowered stays a backend call between C segments. A step's
arguments are handed to the kernels where they are (no copy). ``.grad`` arrays and returned Tensors behave as
eager's: each replay writes them into new arrays (a 0-d loss is copied out), so a gradient or a
loss kept from one call never changes in the next; the other buffers are the plan's and never
leave it. One replay of a plan runs at a time (a lock): the buffers are shared, and an update
is never interleaved with another replay's.

**Fallback.** A call runs eagerly, with a one-time ``RuntimeWarning`` naming the reason
(``fullgraph=True`` raises it instead), when its step cannot be replayed: an op the recorder does
not know (only the primitives whose math is all backend calls), an optimizer that overrides
``step`` itself (LBFGS: it reads the loss and changes parameters outside ``_update``), a tensor's
value read (``item``, ``bool``, ``float``, ``tolist``, ``numpy``) before the step's last kernel,
random numbers drawn other than dropout's masks (the backend's ``keep_mask``, recorded like any
backend call: a replay draws them again from the generator current then, as eager would),
an in-place change other than the optimizer's and ``numpy_call``'s, library code that says
it cannot be repeated (``tensor.not_replayable``), tensor hooks, anomaly mode, a graph that
leaves the step without backward, or recordings that disagree. A new key (argument shapes,
dtypes, requires_grad, other arguments, backend, grad mode, the force-C switch) is recorded
anew, up to ``MAX_PLANS`` keys; a plan whose parameters, optimizer or state were replaced since
(or, for a lowered update, an option other than the learning rate changed), or one of whose
modules was switched between train and eval mode or had forward hooks added or removed
(``nn.module._call_hook`` notes each module the step calls, with the modules in it) or one
of whose parameters was frozen or unfrozen (``requires_grad``), is dropped and re-recorded.

**Limits** (the contract, as with CUDA graphs): Python side effects in the step (printing,
counters) run on the recorded calls only; library code that decides from values says so
(``tensor.depends_on_values``: the class losses' labels, ignored or out of range), and a call
whose arguments would make it decide otherwise runs eagerly; a tensor made inside the step from
data that happened to be equal on calls 1 and 2 is taken for a constant: pass data as
arguments.
"""
from __future__ import annotations

import functools
import operator
import threading
import warnings
from typing import Any, Callable

import numpy as np

from .backends import REGISTRY, force
from .core import ops
from .core import tensor as _tensor
from .core.random import generator
from .core.settings import settings, thread_value
from .core.tensor import Tensor, _bump, wrap_array
from .nn import module as _module
from .optim import optimizer as _optimizer
from .optim.optimizer import Optimizer

try:  # the C glue: the replay's C path (absent in a NumPy-only install)
    from .backends import c_backend as _C
except ImportError:
    _C = None

__all__ = ["compile"]

#: how many argument keys (shapes, dtypes, ...) one compiled step keeps plans for
MAX_PLANS = 8
#: core/ops.py's primitives whose forward and backward are backend calls only (Sum's
#: full-reduction backward fills with NumPy: recorded as a ``fill``); the others compute with
#: NumPy directly. Ops defined elsewhere opt in with ``recordable = True`` (ops.Function).
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
#: backend methods that draw from micrograd's generator (a replay repeats the draws)
_DRAWS = frozenset({"keep_mask"})
_LOCK = threading.RLock()  # one recording at a time: the value-read guards patch Tensor


#: the largest full sum the executor repeats: NumPy before 2.3 sums a longer array in chunks of
#: its buffer size (8192 by default) added one after another, later versions in one pairwise
#: pass; within one buffer every version's sum is the same pairwise sum as mg_exec_sum's
_ONE_BUFFER = 8192


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

        def call(*args, **kwargs):
            if rec.in_update:  # part of an optimizer update, which is the recorded call
                return attr(*args, **kwargs)
            rec.trace_begin()
            encoded = rec.enc(args), rec.enc(kwargs)  # before the call: what it reads
            if name in _DRAWS:
                rec.check_draws()
            out = attr(*args, **kwargs)
            rec.add("k", name, encoded, out)
            rec.trace_end()
            if name in _DRAWS:  # the replay draws again, from the generator current then
                rec.rng_state = generator().bit_generator.state
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
        # id -> (Tensor, its version counter and the counter's value when first seen)
        self.tensors: dict[int, tuple] = {}
        self.leaves: dict[int, tuple] = {}   # id -> (leaf requiring grad, its .grad then)
        self.bumps: dict[int, int] = {}      # id(p) -> optimizer updates of p (and writes)
        self.bumped: dict[int, tuple] = {}   # call j (a numpy_call) -> the tensors it wrote
        self.modes: dict[int, tuple] = {}    # id -> (module, _module_state then)
        self.grad_flags: list[tuple] = []    # (leaf other than an argument, requires_grad)
        self.guards: list[tuple] = []        # (argument k, summarize, its summary)
        self.problem: str | None = None
        self.active = False
        self.in_update = False  # inside an optimizer update (on_update)
        # the C kernels each call ran (C backend only): call j -> [(kernel, args, result)]
        self.trace: list | None = None
        self.traces: dict[int, list] = {}
        self.untraced = False  # a kernel ran outside every recorded call: nothing is lowered
        self._mark = 0

    def trace_begin(self) -> None:
        if self.trace is not None and len(self.trace) != self._mark:
            self.untraced = True
            self._mark = len(self.trace)

    def trace_end(self) -> None:
        """The kernels since trace_begin belong to the last recorded call."""
        if self.trace is not None:
            self.traces[len(self.calls) - 1] = self.trace[self._mark:]
            self._mark = len(self.trace)

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
        if v is generator():  # micrograd's generator: replayed with the one current then
            return ("rng",)
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
        if cls not in RECORDED_OPS and not cls.__dict__.get("recordable", False):
            self.fail(f"op {cls.__name__} is not recorded (it computes with NumPy directly)")
        elif id(out._array) not in self.names:
            self.fail(f"op {cls.__name__}'s output was not made by a backend call (NumPy code "
                      "the replay would not repeat)")
        elif cls is ops.Sum and fn.axes is None and not fn.keepdims and fn.needs_input_grad:
            fn.backward = functools.partial(self._sum_backward, fn.backward, fn.shape)
        for t in (*inputs, out):
            self.see(t)

    def see(self, t: Tensor) -> None:
        """Note a tensor the step uses (on first sight): its version counter then, and, for a
        leaf, which array it holds and its .grad then."""
        if id(t) not in self.tensors:
            self.tensors[id(t)] = (t, t._vc, 0 if t._vc is None else t._vc.n)
            if t._hooks:
                self.fail("a tensor has hooks (register_hook): they run Python code")
            if t._ctx is None:
                self.owners[id(t._array)] = t
                if t.requires_grad:
                    self.leaves[id(t)] = (t, t._grad)
                if self.names.get(id(t._array), ("",))[0] != "in":  # (arguments: in the key)
                    self.grad_flags.append((t, t.requires_grad))

    def _sum_backward(self, backward: Callable, shape: tuple, g: np.ndarray) -> tuple:
        """Sum's full-reduction backward fills with NumPy (ops.Sum): noted as a ``fill``."""
        grads = backward(g)
        if self.active and threading.get_ident() == self.thread:
            self.add("fill", shape, self.enc((g, grads[0].dtype)), grads[0])
        return grads

    def on_update(self, opt: Optimizer, p: Tensor, state: dict, group: dict) -> None:
        """optimizer._update_hook: ``Optimizer.step``'s update of parameter ``p``, run here and
        noted as one call (its backend calls, e.g. SGD's kernel, are part of it; whatever NumPy
        code it runs is repeated by calling ``_update`` again at replay)."""
        if not (self.active and threading.get_ident() == self.thread):
            opt._update(p._array, p._grad._array, state, group)  # another thread's step
            return
        self.trace_begin()
        self.bumps[id(p)] = self.bumps.get(id(p), 0) + 1
        self.tensors.setdefault(id(p), (p, p._vc, 0 if p._vc is None else p._vc.n))
        self.calls.append(("opt", (opt, p, state, group), self.enc(p._grad._array)))
        self.in_update = True
        try:
            opt._update(p._array, p._grad._array, state, group)
        finally:
            self.in_update = False
        self.trace_end()

    def on_numpy_call(self, fn: Callable, args: tuple, bumps: tuple) -> Any:
        """tensor._numpy_call: library code's NumPy on the step's arrays (an in-place write, a
        check), run here and noted as one call, which the replay repeats by calling ``fn`` on
        that replay's arrays (the backend calls it may make are part of it)."""
        if not (self.active and threading.get_ident() == self.thread):
            return _tensor.run_numpy_call(fn, args, bumps)
        self.trace_begin()
        encoded = self.enc(args)
        self.in_update = True
        try:
            out = fn(*args)
        finally:
            self.in_update = False
        for t in bumps:  # written: one change each that is not an unrecorded in-place write
            self.see(t)
            _bump(t)
            self.bumps[id(t)] = self.bumps.get(id(t), 0) + 1
        self.bumped[len(self.calls)] = bumps
        self.add("np", (fn, tuple(map(id, bumps))), encoded, out)
        self.trace_end()
        return out

    def on_module(self, module: Any) -> None:
        """module._call_hook: a module is called; its mode and forward hooks, and those of
        the modules in it (some of which its forward may run without calling them, as
        Sequential's fused Linear + activation), are part of the plan."""
        if self.active and threading.get_ident() == self.thread and id(module) not in self.modes:
            for m in module.modules():
                self.modes.setdefault(id(m), (m, _module_state(m)))

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

    def check_draws(self) -> None:
        """Since the call began, or the last recorded draw, the generator has not moved: a
        draw other than the backend's (a random factory, an initializer) is NumPy code."""
        if generator() is not self.gen or self.gen.bit_generator.state != self.rng_state:
            self.fail("the step draws random numbers outside the backend's keep_mask (a random "
                      "factory, an initializer): NumPy code the replay would not repeat")

    def on_not_replayable(self, reason: str) -> None:
        """tensor._not_replayable: library code did what the replay cannot repeat."""
        if self.active and threading.get_ident() == self.thread:
            self.fail(reason)

    def on_read(self, name: str, t: Tensor, value: Any) -> None:
        if self.active and threading.get_ident() == self.thread:
            self.reads.append((len(self.calls), name, self.ref(t._array), value))

    # a whole call ------------------------------------------------------------------------------
    def run(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        with _LOCK:
            self.gen = generator()
            self.rng_state = self.gen.bit_generator.state
            saved = (_tensor._recorder, _tensor._value_guard, _tensor._not_replayable,
                     _tensor._numpy_call, _optimizer._update_hook, _module._call_hook)
            _tensor._recorder, _tensor._value_guard = self.on_op, self.on_guard
            _tensor._not_replayable, _tensor._numpy_call = self.on_not_replayable, \
                self.on_numpy_call
            _optimizer._update_hook, _module._call_hook = self.on_update, self.on_module
            for name in _VALUE_READS:
                setattr(Tensor, name, _guarded(name))
            _ACTIVE.append(self)
            self.active = True
            tracing = (_C.trace_kernels() if _lowers(settings.backend) and len(_ACTIVE) == 1
                       else None)
            try:
                if tracing is not None:
                    self.trace = tracing.__enter__()
                with thread_value("backend", _Proxy(settings.backend, self)):
                    result = fn(*args, **kwargs)
                self.trace_begin()  # kernels after the last call
            finally:
                if tracing is not None:
                    tracing.__exit__(None, None, None)
                self.active = False
                _ACTIVE.pop()
                (_tensor._recorder, _tensor._value_guard, _tensor._not_replayable,
                 _tensor._numpy_call, _optimizer._update_hook, _module._call_hook) = saved
                if not _ACTIVE:
                    for name, method in _ORIGINAL_READS.items():
                        setattr(Tensor, name, method)
            self.check_draws()
            self.finish(result)
        return result

    def finish(self, result: Any) -> None:
        """The checks that need the whole call, and its outcome: grads and outputs."""
        if any(at < len(self.calls) for at, *_ in self.reads):
            self.fail("the step reads a tensor's value (item, bool, float, tolist, numpy) "
                      "before its last kernel: Python control flow may depend on it")
        # an optimizer update changes its parameter's storage, so also the tensors sharing its
        # version counter (a broadcast of a LayerNorm weight): at most that many changes each
        updated = {id(t._vc): self.bumps[id(t)] for t, _, _ in self.tensors.values()
                   if id(t) in self.bumps}
        # a view that joined its base's counter after the recorder saw it (indexing shares
        # the counter once its op has run) is checked through the base, seen with it
        counted = {id(vc) for _, vc, _ in self.tensors.values() if vc is not None}
        for t, vc, then in self.tensors.values():
            if t._vc is not vc and id(t._vc) in counted:
                continue
            changes = (0 if t._vc is None else t._vc.n) - then
            if changes > updated.get(id(t._vc), 0):
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


_TRAINING, _REQUIRES_GRAD = operator.attrgetter("training"), operator.attrgetter("requires_grad")


def _module_state(m: Any) -> tuple:
    """What of a module decides which ops its forward runs, beyond its arguments: its mode,
    and its forward hooks (by handle: code that runs, or Sequential's fusion that stops)."""
    return m.training, tuple(m._forward_pre_hooks), tuple(m._forward_hooks)


def _lowers(backend: Any) -> bool:
    """The replay runs C segments for this backend: the C glue's own (not a subclass)."""
    return _C is not None and backend is REGISTRY.get("c")


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
    arrays; ``changed()`` says whether what the plan reads in place is still the step's state
    and its modules are in the modes they were recorded in.

    On the C backend the recorded calls that ran only C kernels (and the NumPy arithmetic,
    fills, full sums and reshapes between them, which the executor's kernels repeat bit for
    bit) are lowered to ``mg_exec`` steps on buffers allocated once (``_Lowering``); the rest
    stay backend calls in the generated code, between the C segments."""

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
        # the modules' modes (hooks: compared when some module's hooks changed) and the
        # requires_grad of the leaves both recordings read (parameters: not per-call constants)
        self.modes, self.hook_changes = list(r2.modes.values()), _module.forward_hook_changes
        self.mode_modules = [m for m, _ in self.modes]
        self.mode_flags = [state[0] for _, state in self.modes]
        persistent = {id(t) for t, _ in r1.grad_flags}
        self.flag_leaves = [t for t, _ in r2.grad_flags if id(t) in persistent]
        self.leaf_flags = [flag for t, flag in r2.grad_flags if id(t) in persistent]
        scope: dict[str, Any] = {"wrap": wrap_array, "bump": _bump, "full": np.full,
                                 "rng": generator,
                                 "keep_grad": _keep_grad, **{f"R_{n}": m for n, m in
                                                             _ORIGINAL_READS.items()}}
        self.scope = scope
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
        low = None
        if r2.trace is not None and not r2.untraced:
            low = _Lowering(r2, scope)
            if not low.lowered:
                low = None
        self.lowering = low
        self.lock = threading.Lock()  # one replay at a time: the buffers, the updates
        self.hyper = [] if low is None else low.hyper
        self.source = self._generate(r2, backend, scope, low)
        if low is not None:
            low.release()
        exec(self.source, scope)  # noqa: S102 - our own generated code
        self.run = scope["replay"]

    def _generate(self, r2: _Recorder, backend: Any, scope: dict, low: _Lowering | None) -> str:
        """The replay as straight-line code: C segments (``run``) and backend calls in the
        recorded order, then the optimizer's bookkeeping, the grads and the outputs."""
        names = iter(range(10**9))
        lines: list[str] = []
        lowered = {} if low is None else low.lowered

        def const(v: Any) -> str:
            n = f"c{next(names)}"
            scope[n] = v
            return n

        def src(x: Any) -> str:
            tag = x[0]
            if tag == "t" and x in lowered_names:
                return lowered_names[x]
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
            if tag == "rng":
                return "rng()"
            return const(x[1])

        lowered_names: dict[tuple, str] = {}
        escapes: dict[tuple, str] = {}  # a lowered role handed to the user -> its expression
        if low is not None:
            for role in _escaping(r2):
                expr = low.escape(role) if role in low.role_idx else None
                if expr is not None:
                    escapes[role] = expr
            lowered_names = low.names(scope)
            lines += low.prologue(scope)
        segment = [0]  # the first step not yet run

        def flush(upto: int) -> None:
            if upto > segment[0]:
                seg = const(_C.exec_segment(low.steps, segment[0]))
                lines.append(f"st = run({seg}, {upto - segment[0]}, PT)")
                lines.append(f"if st >= 0: failed({segment[0]} + st)")
                segment[0] = upto

        for j, (kind, what, encoded) in enumerate(r2.calls):
            if j in lowered:
                alias = lowered[j].get("alias")
                if alias is not None and ("t", j, ()) in low.python_uses:
                    lines.append(f"t{j} = {src(alias[0])}.reshape({const(alias[1])})")
                continue
            if low is not None:
                flush(low.start[j])
            if kind == "k":
                args, kwargs = encoded
                scope[f"be_{what}"] = getattr(backend, what)
                inner = src(args)[1:-1].rstrip(",")
                kw = "".join(f", {k}={src(v)}" for k, v in kwargs[1])
                lines.append(f"t{j} = be_{what}({inner}{kw})".replace("(, ", "("))
            elif kind == "fill":
                g, dtype = encoded[2]
                lines.append(f"t{j} = full({const(what)}, {src(g)}, {src(dtype)})")
            elif kind == "np":
                scope[f"U{j}"] = what[0]
                bumps = "".join(f"; bump({const(t)})" for t in r2.bumped[j])
                lines.append(f"t{j} = U{j}({src(encoded)[1:-1].rstrip(',')}){bumps}")
            else:
                opt, p, state, group = what
                scope.update({f"O{j}": opt, f"P{j}": p, f"S{j}": state, f"G{j}": group,
                              f"A{j}": p._array})
                lines.append(f"O{j}._update(A{j}, {src(encoded)}, S{j}, G{j}); bump(P{j})")
            if low is not None:
                lines += low.after_python_call(j)
        for j, (kind, what, encoded) in enumerate(r2.calls):
            if kind == "opt":
                opt, p, state, group = what
                self.checks.append((p, p._array))
                self.optimizers[id(opt)] = (opt, _param_list(opt))
                self.checks.append((_StateOf(opt, p), state))
        if low is not None:
            flush(len(low.steps_list))
            lines += low.epilogue()

        def value(x: tuple) -> str:
            """A role handed to the user: never a view of a buffer a later replay rewrites."""
            if x in escapes:
                return escapes[x]
            recorded = None if low is None else low.by_role.get(x)
            if x[0] == "t" and isinstance(recorded, np.ndarray) and recorded.base is not None:
                return f"{src(x)}.copy()"
            return src(x)

        for n, (p, keep, array) in enumerate(r2.grads):
            scope[f"L{n}"] = p
            if keep is None:
                lines.append(f"L{n}._grad = None")
            elif keep:
                lines.append(f"keep_grad(L{n}, {value(array)})")
            else:
                lines.append(f"L{n}._grad = wrap({value(array)})")

        def out(x: tuple) -> str:
            if x[0] == "tensor":
                return f"wrap({value(x[1])})"
            if x[0] == "read":
                return f"R_{x[1]}(wrap({src(x[2])}))"
            if x[0] == "seq":
                inner = ", ".join(out(i) for i in x[2])
                return f"[{inner}]" if x[1] is list else f"({inner}{',' if x[2] else ''})"
            return const(x[1])

        lines.append(f"return {out(r2.result)}")
        params = ", ".join(f"i{k}" for k in range(sum(1 for n in r2.names.values()
                                                         if n[0] == "in")))
        return f"def replay({params}):\n" + "".join(f"    {x}\n" for x in lines)

    def holds_for(self, arrays: list) -> bool:
        """What library code decided from the recorded arguments' values (``depends_on_values``)
        it would decide the same from these."""
        return all(summarize(arrays[k]) == v for k, summarize, v in self.guards)

    def changed(self) -> str | None:
        """What changed since the recording that the plan cannot follow, or None: parameters
        must still hold the arrays recorded, optimizers the same params and state, a lowered
        update's options (all but the learning rate, read at each replay) and state arrays
        the recorded ones, every module its recorded mode (``train``/``eval``: dropout,
        BatchNorm and the like run other ops in the other) and forward hooks, and every leaf
        it read (a parameter) its ``requires_grad``."""
        if self.hook_changes != _module.forward_hook_changes:
            if any(_module_state(m) != state for m, state in self.modes):
                return "a module had forward hooks added or removed"
            self.hook_changes = _module.forward_hook_changes
        if list(map(_TRAINING, self.mode_modules)) != self.mode_flags:
            return "a module was switched between train and eval mode"
        if list(map(_REQUIRES_GRAD, self.flag_leaves)) != self.leaf_flags:
            return "a parameter's requires_grad was changed (frozen or unfrozen)"
        state = "the parameters, the optimizer or its state changed"
        for t, a in self.checks:
            if (t.state() if isinstance(t, _StateOf) else t._array) is not a:
                return state
        for group, keys, values in self.hyper:
            if tuple(group[k] for k in keys) != values:
                return state
        if self.lowering is not None and not self.lowering.state_holds():
            return state
        if any(_param_list(opt) != params for opt, params in self.optimizers.values()):
            return state
        return None


def _escaping(r: _Recorder) -> list:
    """The roles of the arrays the step hands to the user: its ``.grad`` arrays and the
    Tensors it returns."""
    roles = [array for _, keep, array in r.grads if keep is not None]

    def walk(x: tuple) -> None:
        if x[0] == "tensor":
            roles.append(x[1])
        elif x[0] == "seq":
            for i in x[2]:
                walk(i)
    walk(r.result)
    return roles


class _Lowering:
    """The C segments of a plan (C backend): which recorded calls become ``mg_exec`` steps,
    on which buffers.

    A call is lowered when everything it computes is C kernels on arrays the plan knows: the
    kernels it ran while recorded (``c_backend.trace_kernels``), or the executor's twins of
    NumPy's arithmetic (add, sub, mul, div of equal shapes or with a one-element operand, neg),
    full ``sum``, ``fill`` and an aliasing ``reshape``. Every array a step touches is an entry
    of the plan's pointer table: static (a buffer allocated here for a lowered call's outputs
    and scratch, a constant, state such as parameters and optimizer buffers), or set at each
    replay (the step's arguments; a Python call's outputs; a buffer handed to the user, which
    is allocated afresh each replay so that ``.grad`` and the returned Tensors are new arrays
    as in eager, never overwritten by a later call). An optimizer update is lowered with its
    learning rate and weight decay (and Adam's step count) refreshed from the param group
    before each run; its other options and state arrays are checked by ``_Plan.valid``."""

    #: NumPy-path backend calls the executor repeats bitwise
    NUMPY_OPS = ("add", "sub", "mul", "div", "neg", "sum", "reshape")
    #: the options of a lowered update that must not change (the learning rate may)
    FIXED = {"sgd_step": ("momentum", "dampening", "nesterov", "maximize"),
             "adam_step": ("betas", "eps", "amsgrad", "maximize")}
    #: the doubles refreshed from the param group before each run, by their index among the
    #: kernel's double arguments (micrograd.h): schedulers change lr, and the scikit-learn
    #: estimators scale weight_decay to each batch as scikit-learn scales its L2 term
    REFRESHED = {"sgd_step": (("lr", 0), ("weight_decay", 3)),
                 "adam_step": (("lr", 0), ("weight_decay", 4))}

    def __init__(self, r: _Recorder, scope: dict) -> None:
        self.r, self.scope, self.calls = r, scope, len(r.calls)
        self.by_role = {r.names[id(a)]: a for a in r.pinned}
        self.outputs: dict[int, list] = {}  # call j -> the roles of what it returned
        for role in self.by_role:
            if role[0] == "t":
                self.outputs.setdefault(role[1], []).append(role)
        self.table: list[list] = []      # [how, payload]: static array / in k / py (j, path)
        self.ids: dict[int, int] = {}    # id(recorded array or buffer) -> table index
        self.addrs: dict[int, tuple] = {}  # data address -> (array, table index)
        self.role_idx: dict[tuple, int] = {}  # a lowered call's output role -> table index
        self.steps_list: list[tuple] = []  # (call j, kernel name, dtype, pointers, ints, dbls)
        self.start: dict[int, int] = {}    # call j -> its first step
        self.lowered: dict[int, dict] = {}
        self.updates: list[tuple] = []     # (call j, step index, kernel name)
        self.hyper: list[tuple] = []       # (group, FIXED keys, their values)
        self.state_arrays: list[tuple] = []  # (state dict, key, array)
        for j, (kind, what, encoded) in enumerate(r.calls):
            self.start[j] = len(self.steps_list)
            saved = (len(self.table), dict(self.ids), dict(self.addrs), dict(self.role_idx),
                     len(self.state_arrays))
            lowered = self._lower(j, kind, what, encoded)
            if lowered is None:  # forget what the attempt added
                self.table = self.table[:saved[0]]
                self.ids, self.addrs, self.role_idx = saved[1], saved[2], saved[3]
                del self.state_arrays[saved[4]:]
                continue
            specs, self.lowered[j] = lowered
            self.steps_list += [(j, *spec) for spec in specs]
        self.python_uses = self._python_uses()

    # pass 1: what can be lowered -----------------------------------------------------------
    def _entry(self, how: str, payload: Any, array: Any) -> int:
        idx = len(self.table)
        self.table.append([how, payload])
        self._register(array, idx)
        return idx

    def _register(self, a: Any, idx: int) -> None:
        self.ids[id(a)] = idx
        if isinstance(a, np.ndarray):
            self.addrs.setdefault(a.__array_interface__["data"][0], (a, idx))

    def _role(self, role: tuple) -> int | None:
        """The table index of a recorded role's array (made on first use)."""
        if role in self.role_idx:
            return self.role_idx[role]
        a = self.by_role.get(role)
        if a is None or not _c_ready(a):
            return None
        if id(a) in self.ids:
            return self.ids[id(a)]
        if role[0] == "in":
            return self._entry("in", role[1], a)
        if role[0] == "ext":
            return self._entry("static", self.scope[f"e{role[1]}"], a)
        if role[0] == "t" and role[1] not in self.lowered:
            return self._entry("py", (role[1], role[2]), a)
        return None

    def _read(self, a: Any, local: dict) -> int | None:
        """The table index of an array a kernel reads: one this call wrote, a recorded role, or
        a C-ordered view starting where one of those starts (gemm's transposes)."""
        if not _c_ready(a):
            return None
        if id(a) in local:
            return local[id(a)]
        role = self.r.names.get(id(a))
        if role is not None:
            return self._role(role)
        if id(a) in self.ids:
            return self.ids[id(a)]
        if isinstance(a, np.ndarray):
            known = self.addrs.get(a.__array_interface__["data"][0])
            if known is not None and known[0].dtype == a.dtype and a.nbytes <= known[0].nbytes:
                return known[1]
        return None

    def _write(self, a: Any, local: dict, state: dict, j: int) -> int | None:
        """The table index of an array a kernel of call j writes: a fresh array of this call
        (a new buffer), or optimizer state updated in place (``state``: id -> array)."""
        if not (isinstance(a, np.ndarray) and _c_ready(a) and a.flags.writeable):
            return None
        if id(a) in local:
            return local[id(a)]
        if id(a) in state:
            idx = self.ids.get(id(a))
            if idx is None:
                idx = self._entry("static", a, a)
            local[id(a)] = idx
            return idx
        role = self.r.names.get(id(a))
        if (role is not None and role[:2] != ("t", j)) or id(a) in self.ids \
                or a.__array_interface__["data"][0] in self.addrs:
            return None  # it writes an array that something else reads
        idx = local[id(a)] = self._entry("static", np.empty(a.shape, a.dtype), a)
        return idx

    def _out(self, j: int, dtype: np.dtype) -> tuple[Any, int] | None:
        """A NumPy-path call's one output: (recorded array, a new buffer's index)."""
        o = self.by_role.get(("t", j, ()))
        if o is None or o.dtype != dtype or o.dtype not in _C.DTYPES:
            return None
        idx = self._entry("static", np.empty(o.shape, o.dtype), o)
        self.role_idx[("t", j, ())] = idx
        return o, idx

    def _operand(self, x: tuple, dtype: np.dtype) -> tuple[Any, int] | None:
        """(array, table index) of a NumPy operand: a recorded array, or a Python number
        (NumPy casts it to the array's dtype: so does the constant made here)."""
        if x[0] == "v":
            v = x[1]
            if isinstance(v, np.generic):  # a constant lifted as a NumPy scalar of its dtype
                if v.dtype != dtype:
                    return None
            elif type(v) not in (int, float) or (type(v) is int and abs(v) >= 2 ** 24):
                return None
            a = np.asarray(v, dtype)
            return a, self._entry("static", a, a)
        a = self.by_role.get(x) if x[0] in ("in", "t", "ext") else None
        if a is None or a.dtype != dtype:
            return None
        idx = self._role(x)
        return None if idx is None else (a, idx)

    def _lower(self, j: int, kind: str, what: Any, encoded: Any) -> tuple | None:
        """(the steps of call j: (kernel name, dtype, pointers, ints, doubles), what the code
        generation needs to know of it), or None when it stays a Python call."""
        trace = self.r.traces.get(j, [])
        if kind == "np":  # library code's NumPy: a Python call
            return None
        if kind == "opt":
            return self._lower_update(j, what, trace)
        if trace:
            return self._lower_kernels(j, trace)
        if kind == "fill":
            g, dtype = encoded[2]
            out = self._out(j, np.dtype(dtype[1])) if dtype[0] == "v" else None
            value = out and self._operand(g, out[0].dtype)
            if not value or value[0].size != 1:
                return None
            return [("exec_fill", out[0].dtype, [out[1], value[1]], [out[0].size], [])], {}
        if what not in self.NUMPY_OPS:
            return None
        args = list(encoded[0][2]) + [v for _, v in encoded[1][1]]
        names = [k for k, _ in encoded[1][1]]
        if what == "reshape":
            return self._lower_reshape(j, args)
        if what == "sum":
            return self._lower_sum(j, args, names)
        o = self.by_role.get(("t", j, ()))
        if o is None or len(args) != (1 if what == "neg" else 2) or names:
            return None
        operands = [self._operand(x, o.dtype) for x in args]
        if not all(operands) or any(a.size not in (1, o.size) for a, _ in operands):
            return None
        out = self._out(j, o.dtype)
        if out is None:
            return None
        if what == "neg":
            return [("exec_neg", o.dtype, [out[1], operands[0][1]], [o.size], [])], {}
        (a, ia), (b, ib) = operands
        strides = [int(a.size == o.size), int(b.size == o.size)]
        return [("exec_binary", o.dtype, [out[1], ia, ib],
                 [o.size, *strides, _C.EXEC_OPS[what]], [])], {}

    def _lower_reshape(self, j: int, args: list) -> tuple | None:
        """A reshape whose result starts where its input does: no step, the same entry."""
        o, x = self.by_role.get(("t", j, ())), args[0] if args else None
        if o is None or x is None or x[0] not in ("in", "t", "ext") or len(args) != 2:
            return None
        a = self.by_role.get(x)
        if not (isinstance(a, np.ndarray) and isinstance(o, np.ndarray) and _c_ready(o)
                and o.__array_interface__["data"][0] == a.__array_interface__["data"][0]
                and o.dtype == a.dtype and o.size == a.size):
            return None
        idx = self._role(x)
        if idx is None:
            return None
        self.role_idx[("t", j, ())] = idx
        return [], {"alias": (x, o.shape)}

    def _lower_sum(self, j: int, args: list, names: list) -> tuple | None:
        if names or not args or not 1 <= len(args) <= 3:
            return None
        o = self.by_role.get(("t", j, ()))
        x = self.by_role.get(args[0]) if args[0][0] in ("in", "t", "ext") else None
        axes = _plain(args[1]) if len(args) > 1 else None
        if x is None or o is None or o.size != 1 or not _c_ready(x) \
                or np.size(x) > min(_ONE_BUFFER, np.getbufsize()):
            return None
        ndim = np.ndim(x)
        if axes is not None:  # only a full reduction: NumPy's order over the flat array
            axes = (axes,) if isinstance(axes, int) else axes
            if not isinstance(axes, tuple) or sorted(a % max(ndim, 1) for a in axes) \
                    != list(range(ndim)):
                return None
        operand = self._operand(args[0], o.dtype)
        out = self._out(j, o.dtype)
        if operand is None or out is None:
            return None
        return [("exec_sum", o.dtype, [out[1], operand[1]], [np.size(x)], [])], {}

    def _lower_kernels(self, j: int, trace: list) -> tuple | None:
        """A backend call that ran C kernels only: those kernels, if every array they touch
        is known and every output of the call is one they wrote."""
        local: dict[int, int] = {}
        specs = self._kernel_specs(j, trace, local, {})
        if specs is None:
            return None
        for role in self.outputs.get(j, ()):
            idx = local.get(id(self.by_role[role]))
            if idx is None:
                return None
            self.role_idx[role] = idx
        return specs, {}

    def _kernel_specs(self, j: int, trace: list, local: dict, state: dict) -> list | None:
        specs = []
        for cname, args, _ in trace:
            parsed = _C.split_kernel_name(cname)
            if parsed is None or parsed[0] not in _C.EXEC_KINDS:
                return None
            name, dtype = parsed
            _, writes, classes = _C.kernel_signature(name, dtype)
            if len(args) != len(classes) or classes.count("p") > _C.EXEC_MAX_POINTERS:
                return None
            pointers, ints, doubles, written = [], [], [], 0
            for a, c in zip(args, classes):
                if c == "p":
                    if a is None:
                        idx = -1
                    elif written < writes:
                        idx = self._write(a, local, state, j)
                    else:
                        idx = self._read(a, local)
                    written += 1
                    if idx is None:
                        return None
                    pointers.append(idx)
                elif c == "i":
                    ints.append(int(a))
                else:
                    doubles.append(float(a))
            specs.append((name, dtype, pointers, ints, doubles))
        return specs

    def _lower_update(self, j: int, what: tuple, trace: list) -> tuple | None:
        """An SGD/Adam update: its one kernel call, on the parameter and its state in place."""
        opt, p, state, group = what
        if len(trace) != 1:
            return None
        parsed = _C.split_kernel_name(trace[0][0])
        if parsed is None or parsed[0] not in self.FIXED:
            return None
        arrays = {id(p._array): p._array,
                  **{id(v): v for v in state.values() if isinstance(v, np.ndarray)}}
        specs = self._kernel_specs(j, trace, {}, arrays)
        if specs is None:
            return None
        name, _, _, ints, _ = specs[0]
        if name == "sgd_step" and ints[-1]:  # a first momentum step: never replayed
            return None
        keys = self.FIXED[name]
        if not any(g is group for g, _, _ in self.hyper):
            self.hyper.append((group, keys, tuple(group[k] for k in keys)))
        self.state_arrays += [(state, k, v) for k, v in state.items()
                              if isinstance(v, np.ndarray)]
        self.updates.append((j, len(self.steps_list), name))
        return specs, {"update": (opt, p, state, group)}

    def _python_uses(self) -> set:
        """The output roles generated Python code reads: arguments of the calls left in
        Python, aliases' bases, and the grads and results handed to the user."""
        uses: set = set()

        def walk(x: tuple) -> None:
            tag = x[0]
            if tag == "t":
                uses.add(x)
            elif tag == "seq":
                for i in x[2]:
                    walk(i)
            elif tag == "dict":
                for _, v in x[1]:
                    walk(v)
            elif tag == "tensor":
                walk(x[1])
            elif tag == "read":
                walk(x[2])
        for j, (kind, _, encoded) in enumerate(self.r.calls):
            if j not in self.lowered:
                for x in (encoded if kind == "k" else (encoded,)):
                    walk(x)
            elif "alias" in self.lowered[j]:
                walk(self.lowered[j]["alias"][0])
        for _, keep, array in self.r.grads:
            if keep is not None:
                walk(array)
        walk(self.r.result)
        return uses

    # pass 2: the generated code's parts ----------------------------------------------------
    def escape(self, role: tuple) -> str | None:
        """A lowered role handed to the user: a 0-d result is copied out as a NumPy scalar (as
        eager's full sums are); an array's buffer becomes one allocated at each replay."""
        idx = self.role_idx[role]  # an alias has its base's entry
        if self.table[idx][0] != "static":
            return None
        recorded = self.by_role[role]
        if isinstance(recorded, np.generic):
            return f"B{idx}[()]"
        self.table[idx] = ["fresh", self.table[idx][1]]
        return None

    def names(self, scope: dict) -> dict:
        """Lowered role -> the expression generated code reads it by."""
        out = {}
        for role, idx in self.role_idx.items():
            if "alias" in self.lowered.get(role[1], {}):
                out[role] = f"t{role[1]}"
                continue
            how, payload = self.table[idx]
            if how == "static":
                scope[f"B{idx}"] = payload
                out[role] = f"B{idx}"
            elif how == "fresh":
                out[role] = f"F{idx}"
        return out

    def prologue(self, scope: dict) -> list[str]:
        """The program (built once) and the replay's first lines: the pointer table's entries
        set per call, and the updates' learning rates and step counts."""
        self.steps, self.pointers = _C.exec_program(len(self.steps_list), len(self.table))
        for k, (_, name, dtype, pointers, ints, doubles) in enumerate(self.steps_list):
            _C.exec_step(self.steps[k], name, dtype, pointers, ints, doubles)
        self.keep = []
        lines = []
        scope.update(PT=self.pointers, run=_C.run_steps, ptr=_C.pointer, ok=_c_array,
                     empty=np.empty, failed=self.failed)
        for idx, (how, payload) in enumerate(self.table):
            if how == "static":
                self.pointers[idx] = _C.pointer(payload)
                self.keep.append(payload)
            elif how == "in":
                lines.append(f"q{idx} = ok(i{payload}); PT[{idx}] = ptr(q{idx})")
            elif how == "fresh":
                scope[f"SH{idx}"], scope[f"DT{idx}"] = payload.shape, payload.dtype
                lines.append(f"F{idx} = empty(SH{idx}, DT{idx}); PT[{idx}] = ptr(F{idx})")
        groups: dict[int, int] = {}  # id(param group) -> the j whose locals hold its values
        for j, k, name in self.updates:
            opt, p, state, group = self.lowered[j]["update"]
            # the step's int and double fields: a kernel's scalars in C order (micrograd.h)
            scope.update({f"SI{k}": self.steps[k].i, f"SD{k}": self.steps[k].d,
                          f"S{j}": state, f"G{j}": group})
            if id(group) not in groups:
                groups[id(group)] = j
                lines += [f"{key}{j} = G{j}[{key!r}]" for key, _ in self.REFRESHED[name]]
            if name == "adam_step":  # its step count, as Adam._update counts it
                lines.append(f"n{j} = S{j}['step'] + 1; S{j}['step'] = n{j}; SI{k}[1] = n{j}")
            lines += [f"SD{k}[{i}] = {key}{groups[id(group)]}" for key, i in self.REFRESHED[name]]
        return lines

    def after_python_call(self, j: int) -> list[str]:
        """After Python call j: the pointer-table entries of its outputs that steps read."""
        lines = []
        for idx, (how, payload) in enumerate(self.table):
            if how == "py" and payload[0] == j:
                path = "".join(f"[{i}]" for i in payload[1])
                lines.append(f"q{idx} = ok(t{j}{path}); PT[{idx}] = ptr(q{idx})")
        return lines

    def epilogue(self) -> list[str]:
        """Each lowered update bumps its parameter's version, as ``Optimizer.step`` does."""
        lines = []
        for j, _, _ in self.updates:
            p = self.lowered[j]["update"][1]
            self.scope[f"P{j}"] = p
            lines.append(f"bump(P{j})")
        return lines

    def state_holds(self) -> bool:
        return all(state.get(k) is a for state, k, a in self.state_arrays)

    def failed(self, k: int) -> None:
        name, dtype = self.steps_list[k][1:3]
        raise RuntimeError(f"micrograd.compile: kernel mg_{name}_{_C.DTYPES[dtype]} reported a "
                           "failure while replaying the step (an index out of range, or no "
                           "memory for its workspace); eager would have raised here too")

    def count(self) -> dict:
        """How many recorded calls run as C steps, and how many stay Python calls."""
        return {"lowered_calls": len(self.lowered), "calls": self.calls,
                "steps": len(self.steps_list)}

    def release(self) -> None:
        """Drop the recording (its arrays and tensors): the plan keeps only its buffers."""
        self.r = self.by_role = self.outputs = self.ids = self.addrs = None


def _c_ready(a: Any) -> bool:
    """An array a kernel can take where it is (C-ordered, aligned), or a NumPy scalar."""
    if isinstance(a, np.generic):
        return True
    if not isinstance(a, np.ndarray):
        return False
    f = a.flags
    return f.c_contiguous and f.aligned


def _c_array(a: Any) -> Any:
    """a, or a C-ordered aligned copy of it (the replay keeps it alive while steps read it)."""
    return a if _c_ready(a) else np.require(a, requirements="CA")


def _plain(x: tuple) -> Any:
    """The Python value of an encoded argument holding no array (None when it holds one)."""
    if x[0] == "v":
        return x[1]
    if x[0] == "seq":
        return x[1](_plain(i) for i in x[2])
    return None


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
            changed = entry.changed()
            if changed is None:
                if entry.holds_for(arrays):
                    with entry.lock:
                        return entry.run(*arrays)
                return self._eager("these arguments' values make library code decide otherwise "
                                   "than when the step was recorded (e.g. labels a loss "
                                   "ignores, or out of range): this call runs eagerly",
                                   args, kwargs)
            self._eager(f"{changed} since the step was recorded: recording it again")
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
    arrays, key = [], [settings.backend, settings.grad_enabled, force.enabled]

    def add(v: Any) -> None:
        if isinstance(v, Tensor):
            arrays.append(v._array)
            key.append((v._array.shape, v._array.dtype, v._array.strides, v.requires_grad))
        elif type(v) in (tuple, list):  # e.g. an LSTM's (h0, c0): its tensors are arguments
            key.append((type(v), len(v)))
            for x in v:
                add(x)
        else:
            key.append(v)
    for v in (*args, *(x for item in sorted(kwargs.items()) for x in item)):
        add(v)
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
