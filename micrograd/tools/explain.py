"""Watch the gradients flow: a backward pass that says out loud what it does.

``explain(root)`` runs ``root.backward()`` itself, with a hook that is called after each
chain-rule step, and prints one line per step, so every gradient can be checked with pencil and
paper::

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

This module only observes and formats: the gradients, their checks (gradient count, shapes,
anomaly mode, a freed graph) and the accumulation into ``.grad`` all happen in the engines'
``backward``, which know nothing of this module.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Iterator, Mapping, TextIO

from ..core.graph import toposort


def explain(root: Any, names: Mapping[str, Any] | None = None, file: TextIO | None = None,
            retain_graph: bool = False) -> None:
    """Run ``root``'s backward pass, printing every step (node, op, local derivative formula,
    upstream gradient, contribution, accumulated gradient) to ``file`` (default stdout).

    The pass is ``root.backward()`` itself, observed step by step: the root's gradient is 1 and
    every other gradient is added to, not reset (call ``zero_grad`` first when reusing a graph),
    so afterwards the ``.grad`` fields hold the same numbers, and the same errors are raised.
    For a Tensor (one element; meant for small ones, since every array is printed) the formulas
    are the first line of each op's docstring, where ``g`` is the upstream gradient; as with
    ``Tensor.backward``, the graph is freed afterwards unless ``retain_graph``. Lines are printed
    as the steps happen, so on an error the steps before it are shown.
    """
    out = sys.stdout if file is None else file
    _runner(root)(root, names, retain_graph, lambda line: print(line, file=out))


def trace(root: Any, names: Mapping[str, Any] | None = None,
          retain_graph: bool = False) -> Iterator[str]:
    """The lines ``explain`` prints. Lazy: the backward pass runs when iteration starts."""
    run = _runner(root)

    def lines() -> Iterator[str]:
        collected: list[str] = []
        run(root, names, retain_graph, collected.append)
        yield from collected
    return lines()


def _runner(root: Any) -> Callable[..., None]:
    if hasattr(root, "_local_grads"):
        return _explain_value
    if hasattr(root, "_ctx") and hasattr(root, "_accumulate"):
        return _explain_tensor
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
    if op == "sum":    # a neuron's b + w0*x0 + ...: one node, each term's derivative 1
        return " + ".join(inputs), ["1.0"] * len(inputs)
    if op.startswith("**"):
        n = op[2:]
        return f"{inputs[0]}**{n}", [f"{n} * {inputs[0]}**({n} - 1)"]
    if op in _UNARY_FORMULAS and len(inputs) == 1:
        expr, formula = _UNARY_FORMULAS[op]
        return expr.format(a=inputs[0]), [formula.format(a=inputs[0])]
    return f"{op or 'op'}({', '.join(inputs)})", ["(stored local derivative)"] * len(inputs)


def _explain_value(root: Any, names: Mapping[str, Any] | None, retain_graph: bool,
                   emit: Callable[[str], None]) -> None:
    """``Value.backward`` with a hook that formats each step (``retain_graph``: no graph to
    free for Values)."""
    order = toposort(root)
    name = node_names(order, names)
    r = name[id(root)]
    emit(f"backward pass from {r} = {num(root.data)} through {len(order)} nodes "
         f"(chain rule: input.grad += local * upstream)")
    emit(f"{r}.grad = 1.0 (d{r}/d{r})")
    before = {id(node): node.grad for node in order}   # each gradient as the last step left it
    current, steps, expr, edges = None, 0, "", iter(())

    def step(node: Any, child: Any, local: Any) -> None:   # after child.grad += local * grad
        nonlocal current, steps, expr, edges
        if node is not current:                            # a new node: its heading first
            current, steps = node, steps + 1
            inputs = [name[id(c)] for c in node._prev]
            expr, formulas = _value_step(node, inputs)
            edges = iter(zip(inputs, formulas))
            n = name[id(node)]
            emit(f"[{steps}] {n} = {expr} = {num(node.data)} | upstream {n}.grad = "
                 f"{num(node.grad)}")
        cname, formula = next(edges)
        grad, shown = node.grad, num(local)
        local_text = formula if formula == shown else f"{formula} = {shown}"
        emit(f"    {cname}: local d({expr})/d{cname} = {local_text}"
             f" | contribution {shown} * {num(grad)} = {num(local * grad)}"
             f" | {cname}.grad {num(before[id(child)])} -> {num(child.grad)}")
        before[id(child)] = child.grad

    root.backward(step)
    leaves = [node for node in order if not node._prev]
    emit("leaves: " + ", ".join(f"{name[id(v)]}.grad = {num(v.grad)}" for v in leaves))


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


#: how a fused epilogue reads after its op's name ("Linear+ReLU"), as the nn modules are named
_EPILOGUE_NAMES = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}


def op_label(ctx: Any) -> str:
    """A tensor op's name as graphs and traces show it: the Function's class name, plus the
    activation a fused op applies (``Sequential`` runs Linear followed by ReLU as one
    ``Linear`` op with ``activation="relu"``: it reads "Linear+ReLU", so the ReLU is seen)."""
    label = type(ctx).__name__
    activation = getattr(ctx, "activation", None)
    if isinstance(activation, str):
        label += "+" + _EPILOGUE_NAMES.get(activation, activation)
    return label


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


def _explain_tensor(root: Any, names: Mapping[str, Any] | None, retain_graph: bool,
                    emit: Callable[[str], None]) -> None:
    """``Tensor.backward`` with a hook that formats each op's step."""
    import numpy as np

    from ..core.settings import settings
    if root._array.size != 1:
        raise RuntimeError(f"explain: the root must hold one element (a loss), got shape "
                           f"{root.shape}; reduce it first, e.g. .sum()")
    order = toposort(root)
    name = node_names(order, names)
    r = name[id(root)]
    if root.requires_grad:          # else backward() raises: nothing to print
        emit(f"backward pass from {r} = {array_text(root._array)} through {len(order)} nodes "
             f"(chain rule: input.grad += what each op's backward returns for the upstream "
             f"grad g)")
        emit(f"{r}.grad = {array_text(np.ones(root._array.shape, root._array.dtype))} (d{r}/d{r})")
    shown: dict[int, Any] = {}   # id(tensor) -> its summed gradient as the last line showed it
    steps = 0

    def step(node: Any, g: Any, in_grads: Any, pending: dict) -> None:  # after an op's step
        nonlocal steps
        steps += 1
        ctx, prev = node._ctx, node._prev
        inputs = [name[id(parent)] for parent in prev]
        math, derivs = _tensor_formulas(ctx, len(inputs))
        n = name[id(node)]
        local = [d.split("=")[0].strip()[1:] for d in derivs if d]   # "db = g * a" -> "b"
        binding = ", ".join(f"{v} = {i}" for v, i in zip(local, inputs) if v != i)
        where = f" ({binding})" if binding and len(local) == len(inputs) else ""
        emit(f"[{steps}] {n} = {op_label(ctx)}({', '.join(inputs)}) = "
             f"{array_text(node._array)} | {math}{where} | upstream g = {n}.grad = "
             f"{array_text(g)}")
        flows = [pg is not None and parent.requires_grad for parent, pg in zip(prev, in_grads)]
        last = {id(parent): i for i, (parent, ok) in enumerate(zip(prev, flows)) if ok}
        for i, (parent, pg, pname, deriv) in enumerate(zip(prev, in_grads, inputs, derivs)):
            if not flows[i]:
                emit(f"    {pname}: needs no gradient")
                continue
            before = shown.get(id(parent))
            if last[id(parent)] == i:
                after = pending[parent]       # the sum backward() holds after this step
            else:                             # an input used twice by one op: the partial sum
                after = pg if before is None else settings.backend.add(before, pg)
            shown[id(parent)] = after
            label = f"{deriv} = " if deriv else "contribution "
            so_far = "0" if before is None else array_text(before)
            emit(f"    {pname}: {label}{array_text(pg)} | {pname}.grad {so_far} -> "
                 f"{array_text(after)}")

    root.backward(retain_graph=retain_graph, hook=step)
    leaves = [t for t in order if t._ctx is None and t.requires_grad]
    emit("leaves: " + ", ".join(
        f"{name[id(t)]}.grad = {'None' if t.grad is None else array_text(t.grad._array)}"
        for t in leaves))
