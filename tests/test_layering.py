"""Layering: the lower layers never import the upper ones, not even lazily inside a function.

    micrograd/backends   kernels and the registry: import only micrograd.backends (and _C)
    micrograd/core       Value, Tensor, ops, autograd, settings: also micrograd.backends
    everything else      tools (explain, viz), nn, optim, data, apps: may import the layers below

and one file, backends/c_backend.py (the glue), imports the compiled module ``micrograd._C``.

So ``Value.backward`` and ``Tensor.backward`` cannot reach ``micrograd.tools.explain``: explain
observes them through their ``hook`` argument. Imports are read from the source (``ast``), every
``import``/``from ... import`` at any depth plus ``importlib.import_module("...")`` and
``__import__("...")`` with a literal name; relative imports are resolved against the file's
package. A runtime check cannot do this: importing ``micrograd.core`` runs the package's
``__init__``, which loads everything.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import micrograd

PACKAGE = Path(micrograd.__file__).parent
ALLOWED = {   # layer -> the micrograd modules its files may import (each with its submodules)
    "backends": ("micrograd.backends", "micrograd._C"),
    "core": ("micrograd.core", "micrograd.backends", "micrograd._C"),
}


def submodule_names(package: Path) -> set[str]:
    """Names importable from ``package``: .py files, subpackages, extension modules."""
    return {p.name.split(".")[0] for p in package.iterdir()
            if p.suffix in (".py", ".so", ".pyd") or (p / "__init__.py").exists()}


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in ``source``, a module of ``package``.

    ``from X import n`` counts as ``X.n`` when ``n`` is a module of package ``X``, else as
    ``X``: ``from .. import backends`` imports micrograd.backends, ``from micrograd import
    Tensor`` imports the top-level package.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            directory = PACKAGE.parent.joinpath(*base.split("."))
            modules = submodule_names(directory) if directory.is_dir() else set()
            found += [(node.lineno, f"{base}.{a.name}" if a.name in modules else base)
                      for a in node.names]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) in ("import_module", "__import__"))):
            found.append((node.lineno, node.args[0].value))
    return sorted(found)


def violations(source: str, package: str, layer: str) -> list[str]:
    allowed = ALLOWED[layer]
    return [f"line {line}: imports {name}" for line, name in imported_modules(source, package)
            if (name == "micrograd" or name.startswith("micrograd."))
            and not any(name == a or name.startswith(a + ".") for a in allowed)]


def layer_files():
    for layer in ALLOWED:
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            yield pytest.param(layer, path, id=str(path.relative_to(PACKAGE)))


@pytest.mark.parametrize("layer,path", list(layer_files()))
def test_lower_layers_import_nothing_above_them(layer, path):
    package = ".".join(("micrograd",) + path.relative_to(PACKAGE).parent.parts)
    bad = violations(path.read_text(encoding="utf-8"), package, layer)
    assert not bad, f"{path.relative_to(PACKAGE.parent)} imports above its layer: {bad}"


GLUE = PACKAGE / "backends" / "c_backend.py"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_glue_module_imports_the_c_module(path):
    package = ".".join(("micrograd",) + path.relative_to(PACKAGE).parent.parts)
    c_imports = [f"line {line}" for line, name in
                 imported_modules(path.read_text(encoding="utf-8"), package)
                 if name == "micrograd._C" or name.startswith("micrograd._C.")]
    assert path == GLUE or not c_imports, \
        f"{path.relative_to(PACKAGE.parent)} imports micrograd._C ({c_imports}); only " \
        "backends/c_backend.py may (callers use backends.info() and the backend objects)"


def test_the_engines_are_among_the_files_checked():
    checked = {p.id for p in layer_files()}
    assert {"core/engine.py", "core/tensor.py", "core/graph.py", "backends/__init__.py"} <= checked


LAZY_UPWARD = '''
from .graph import toposort          # fine: same layer
from .. import backends              # fine: the layer below

def backward(self, trace=False):
    if trace:
        from ..tools.explain import explain    # the import this test exists to catch
        return explain(self)

def other():
    import micrograd.nn.functional as F
    from micrograd import Tensor
    from .. import optim
    importlib.import_module("micrograd.apps.cli")
    __import__("micrograd.data")
'''


def test_the_check_catches_upward_imports_even_inside_functions():
    assert violations(LAZY_UPWARD, "micrograd.core", "core") == [
        "line 7: imports micrograd.tools.explain",
        "line 11: imports micrograd.nn.functional",
        "line 12: imports micrograd",
        "line 13: imports micrograd.optim",
        "line 14: imports micrograd.apps.cli",
        "line 15: imports micrograd.data",
    ]
    # backends may not import core either
    assert violations("from ..core.settings import settings", "micrograd.backends",
                      "backends") == ["line 1: imports micrograd.core.settings"]
    assert violations("from . import base\nfrom .._C import lib", "micrograd.backends",
                      "backends") == []
    # a lazy import of the compiled module, relative or absolute, is seen
    assert ("micrograd._C" in [n for _, n in imported_modules(
        "def f():\n    from .._C import lib\n", "micrograd.apps")])
    assert ("micrograd._C" in [n for _, n in imported_modules("import micrograd._C as c",
                                                              "micrograd.apps")])


def module_graph() -> dict[str, set[str]]:
    """{module: the micrograd modules it imports} over every .py file of the package, lazy
    imports included; a name that is not a module (an attribute) counts as its package, and
    the compiled micrograd._C (no Python imports of its own) is left out."""
    files = {".".join(("micrograd",) + p.relative_to(PACKAGE).with_suffix("").parts): p
             for p in PACKAGE.rglob("*.py")}
    files = {name.removesuffix(".__init__"): p for name, p in files.items()}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for _, target in imported_modules(path.read_text(encoding="utf-8"), package):
            if target == "micrograd._C" or target.startswith("micrograd._C."):
                continue
            while target and target not in files:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of ``graph`` as [a, b, ..., a], or [] when it has none."""
    state: dict[str, int] = {}          # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []
    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_import_circle():
    cycle = find_cycle(module_graph())
    assert not cycle, "import circle: " + " -> ".join(cycle)


def test_the_circle_check_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
