"""Watch the gradients flow: a backward pass that says out loud what it does.

``explain(root)`` runs the same loop as ``root.backward()`` and prints one line per chain-rule
step, so every gradient can be checked with pencil and paper::

    [1] L = e * f = -8.0 | upstream L.grad = 1.0
        e: local d(e * f)/de = f = -2.0 | contribution -2.0 * 1.0 = -2.0 | e.grad 0.0 -> -2.0

Reading a step: node ``L`` was computed as ``e * f``. Its gradient (``L.grad``, the *upstream*
gradient d(root)/dL) is complete, because nodes are visited from the output back to the inputs
in reverse topological order. For each input the step prints the *local* derivative
d(L)/d(input) with its formula, the *contribution* local * upstream that the chain rule adds to
the input's gradient, and that gradient before and after the addition (an input used twice
receives two contributions).

Nodes are named by the ``names`` you pass (``names=dict(a=a, b=b)``, or simply ``locals()``);
the others are called ``v<i>``, with ``i`` their position in the topological order (inputs
first), so the output is the same on every run. ``micrograd.viz.draw_dot`` uses the same names.
"""
from __future__ import annotations

import sys
from typing import Any, Iterator, Mapping, TextIO

from ..core.graph import toposort


def explain(root: Any, names: Mapping[str, Any] | None = None, file: TextIO | None = None,
            retain_graph: bool = False) -> None:
    """Run ``root``'s backward pass, printing every step (node, op, local derivative formula,
    upstream gradient, contribution, accumulated gradient) to ``file`` (default stdout).

    Gradients are computed and accumulated exactly as by ``root.backward()``: the root's
    gradient is 1 and every other gradient is added to, not reset (call ``zero_grad`` first when
    reusing a graph), so afterwards the ``.grad`` fields hold the same numbers. For a Tensor
    (one element; meant for small ones, since every array is printed) the formulas are the
    first line of each op's docstring, where ``g`` is the upstream gradient; as with
    ``Tensor.backward``, the graph is freed afterwards unless ``retain_graph``.
    """
    out = sys.stdout if file is None else file
    for line in trace(root, names, retain_graph):
        print(line, file=out)


def trace(root: Any, names: Mapping[str, Any] | None = None,
          retain_graph: bool = False) -> Iterator[str]:
    """The lines ``explain`` prints, produced while the backward pass runs (lazily)."""
    if hasattr(root, "_local_grads"):
        return _trace_value(root, names)
    if hasattr(root, "_ctx") and hasattr(root, "_accumulate"):
        return _trace_tensor(root, names, retain_graph)
    raise TypeError(f"explain: expected a micrograd Value or Tensor, got {type(root).__name__}")


def node_names(order: list, names: Mapping[str, Any] | None = None) -> dict[int, str]:
    """id(node) -> display name for every node of ``order`` (a topological order).

    ``names`` maps a name to a node (``dict(a=a)`` or ``locals()``); entries that are not nodes
    of this graph are ignored. A node with no name is ``v<i>``, ``i`` its position in ``order``.
    """
    given: dict[int, str] = {}
    for name, obj in (names or {}).items():
        if isinstance(name, str) and not name.startswith("_"):
            given.setdefault(id(obj), name)
    return {id(node): given.get(id(node), f"v{i}") for i, node in enumerate(order)}


def num(x: Any) -> str:
    """A number as the trace shows it: 6 significant digits, always with a decimal point."""
    text = f"{float(x):.6g}"
    if text.lstrip("-").isdigit():
        text += ".0"
    return text


# ---- scalar Values ---------------------------------------------------------------------------
_UNARY_FORMULAS = {
    # op: (how the node reads, local derivative as a formula of the input a)
    "exp": ("exp({a})", "exp({a})"),
    "log": ("log({a})", "1/{a}"),
    "ReLU": ("relu({a})", "(1 if {a} > 0 else 0)"),
    "tanh": ("tanh({a})", "1 - tanh({a})**2"),
    "sigmoid": ("sigmoid({a})", "sigmoid({a}) * (1 - sigmoid({a}))"),
}


def _value_step(node: Any, inputs: list[str]) -> tuple[str, list[str]]:
    """How ``node`` reads as an expression of its inputs, and each local derivative's formula."""
    op = node._op
    if op in ("+", "*") and len(inputs) == 2:
        a, b = inputs
        return f"{a} {op} {b}", (["1.0", "1.0"] if op == "+" else [b, a])
    if op == "+":      # a + constant: classic micrograd keeps no node for the constant
        return f"{inputs[0]} + const", ["1.0"]
    if op == "*":      # a * constant k: the local derivative is k itself
        k = num(node._local_grads[0])
        return f"{inputs[0]} * {k}", [k]
    if op.startswith("**"):
        n = op[2:]
        return f"{inputs[0]}**{n}", [f"{n} * {inputs[0]}**({n} - 1)"]
    if op in _UNARY_FORMULAS and len(inputs) == 1:
        expr, formula = _UNARY_FORMULAS[op]
        return expr.format(a=inputs[0]), [formula.format(a=inputs[0])]
    return f"{op or 'op'}({', '.join(inputs)})", ["(stored local derivative)"] * len(inputs)


def _trace_value(root: Any, names: Mapping[str, Any] | None) -> Iterator[str]:
    order = toposort(root)
    name = node_names(order, names)
    r = name[id(root)]
    yield (f"backward pass from {r} = {num(root.data)} through {len(order)} nodes "
           f"(chain rule: input.grad += local * upstream)")
    root.grad = 1
    yield f"{r}.grad = 1.0 (d{r}/d{r})"
    step = 0
    for node in reversed(order):
        if not node._prev:
            continue                       # a leaf: nothing to pass on
        step += 1
        grad = node.grad                   # upstream: d(root)/d(node), complete by now
        inputs = [name[id(child)] for child in node._prev]
        expr, formulas = _value_step(node, inputs)
        n = name[id(node)]
        yield f"[{step}] {n} = {expr} = {num(node.data)} | upstream {n}.grad = {num(grad)}"
        for child, local, cname, formula in zip(node._prev, node._local_grads, inputs, formulas):
            before = child.grad
            child.grad += local * grad     # exactly the line in Value.backward
            shown = num(local)
            local_text = formula if formula == shown else f"{formula} = {shown}"
            yield (f"    {cname}: local d({expr})/d{cname} = {local_text}"
                   f" | contribution {shown} * {num(grad)} = {num(local * grad)}"
                   f" | {cname}.grad {num(before)} -> {num(child.grad)}")
    leaves = [node for node in order if not node._prev]
    yield "leaves: " + ", ".join(f"{name[id(v)]}.grad = {num(v.grad)}" for v in leaves)


# ---- Tensors ---------------------------------------------------------------------------------
def array_text(a: Any, limit: int = 16) -> str:
    """A small array as nested lists of ``num``; a large one as its shape and first numbers."""
    import numpy as np  # tensors hold NumPy arrays: numpy is already loaded
    a = np.asarray(a)
    if a.ndim == 0:
        return num(a)
    if a.size > limit:
        first = ", ".join(num(x) for x in a.reshape(-1)[:4])
        return f"shape {a.shape} [{first}, ...]"

    def nested(x: Any) -> str:
        return num(x) if x.ndim == 0 else "[" + ", ".join(nested(row) for row in x) + "]"
    return nested(a)


def _tensor_formulas(ctx: Any, n_inputs: int) -> tuple[str, list[str | None]]:
    """The op's math (first docstring line) and, when it lists one per input, each d(input)."""
    doc = (type(ctx).__doc__ or "").strip().splitlines()
    math = doc[0].strip() if doc else ""
    parts = [part.strip() for part in re_split(math)]
    derivs = [part for part in parts[1:] if part.startswith("d")]
    return math, (derivs if len(derivs) == n_inputs else [None] * n_inputs)


def re_split(text: str) -> list[str]:
    """Split a docstring formula line at runs of 3+ spaces (how ops.py separates the parts)."""
    import re
    return [part for part in re.split(r"\s{3,}", text) if part]


def _trace_tensor(root: Any, names: Mapping[str, Any] | None, retain_graph: bool) -> Iterator[str]:
    """``Tensor.backward`` (micrograd/tensor.py) step by step: same order, same arithmetic."""
    import numpy as np

    from ..core.settings import settings
    if not root.requires_grad:
        raise RuntimeError("explain: this tensor does not require grad (no graph to explain)")
    if root.data.size != 1:
        raise RuntimeError(f"explain: the root must hold one element (a loss), got shape "
                           f"{root.shape}; reduce it first, e.g. .sum()")
    order = toposort(root)
    name = node_names(order, names)
    r = name[id(root)]
    yield (f"backward pass from {r} = {array_text(root.data)} through {len(order)} nodes "
           f"(chain rule: input.grad += what each op's backward returns for the upstream grad g)")
    grads = {root: np.ones(root.data.shape, root.data.dtype)}
    owned: set = set()
    yield f"{r}.grad = {array_text(grads[root])} (d{r}/d{r})"
    step = 0
    for node in reversed(order):
        g = grads.pop(node, None)
        if g is None:
            continue                        # no gradient flows into this node
        ctx = node._ctx
        if ctx is None or node._retain:
            node._accumulate(g, owned)      # the one place .grad is written, as in backward()
            if ctx is None:
                continue
        if ctx.freed:
            raise RuntimeError(f"explain: the graph was freed by an earlier backward "
                               f"({ctx.name()}); pass retain_graph=True to that backward()")
        step += 1
        inputs = [name[id(parent)] for parent in node._prev]
        math, derivs = _tensor_formulas(ctx, len(inputs))
        n = name[id(node)]
        op = type(ctx).__name__
        local = [d.split("=")[0].strip()[1:] for d in derivs if d]   # "db = g * a" -> "b"
        binding = ", ".join(f"{v} = {i}" for v, i in zip(local, inputs) if v != i)
        where = f" ({binding})" if binding and len(local) == len(inputs) else ""
        yield (f"[{step}] {n} = {op}({', '.join(inputs)}) = {array_text(node.data)}"
               f" | {math}{where} | upstream g = {n}.grad = {array_text(g)}")
        in_grads = ctx.backward(g)
        for parent, pg, pname, deriv in zip(node._prev, in_grads, inputs, derivs):
            if pg is None or not parent.requires_grad:
                yield f"    {pname}: needs no gradient"
                continue
            before = grads.get(parent)
            grads[parent] = pg if before is None else settings.backend.add(before, pg)
            shown = f"{deriv} = " if deriv else "contribution "
            so_far = "0" if before is None else array_text(before)
            yield (f"    {pname}: {shown}{array_text(pg)} | {pname}.grad {so_far} -> "
                   f"{array_text(grads[parent])}")
        if not retain_graph:
            ctx.__dict__.clear()
            ctx.freed = True
    leaves = [t for t in order if t._ctx is None and t.requires_grad]
    yield "leaves: " + ", ".join(
        f"{name[id(t)]}.grad = {'None' if t.grad is None else array_text(t.grad.data)}"
        for t in leaves)
