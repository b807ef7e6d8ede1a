"""Topological ordering of a computation graph, shared by the scalar ``Value`` and ``Tensor``.

A node only needs a ``_prev`` tuple: the nodes it was computed from, in argument order.
"""
from __future__ import annotations

from typing import Any


def toposort(root: Any) -> list:
    """Every node reachable from ``root``, each after all of its inputs (root last).

    Iterative depth-first search with an explicit stack, so a chain of a million nodes cannot hit
    Python's recursion limit; the order only depends on the graph, so results are reproducible.
    """
    order: list = []
    visited: set[int] = set()
    stack: list = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:              # second visit: every input is already in `order`
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for child in reversed(node._prev):
            if id(child) not in visited:
                stack.append((child, False))
    return order
