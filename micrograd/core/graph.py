"""Topological ordering of a computation graph, shared by the scalar ``Value`` and ``Tensor``.

A node only needs a ``_prev`` tuple: the nodes it was computed from, in argument order. Nodes are
kept in a set by identity, so a node type must hash by identity (the default ``object.__hash__``).
"""
from __future__ import annotations

from typing import Any


def toposort(root: Any) -> list:
    """Every node reachable from ``root``, each after all of its inputs (root last).

    Depth-first search with an explicit stack of (node, iterator over its inputs) instead of
    recursion, so a chain of a million nodes cannot hit Python's recursion limit. The order only
    depends on the graph, so results are reproducible.
    """
    order: list = []
    visited = {root}
    stack = [(root, iter(root._prev))]
    # the loop runs a few times per node of graphs of 10^5 nodes: looking these methods up once
    # here instead of on every call takes about a tenth off the sort
    emit, mark, push, pop = order.append, visited.add, stack.append, stack.pop
    while stack:
        node, inputs = stack[-1]
        for child in inputs:              # descend into the first input not seen yet
            if child not in visited:
                mark(child)
                if child._prev:
                    push((child, iter(child._prev)))
                    break
                emit(child)               # a leaf has no inputs: emit it straight away
        else:                             # every input is already in `order`: emit the node
            pop()
            emit(node)
    return order
