"""Every ```python block in README.md and docs/*.md runs, so the docs never rot.

Conventions (for doc writers):
- The python blocks of one file run in order in one shared namespace, like a notebook, with the
  working directory set to a fresh temporary folder (or to ``$MICROGRAD_DOCS_OUT`` when set: run
  ``MICROGRAD_DOCS_OUT=docs/img pytest tests/test_docs.py`` to regenerate the docs' pictures).
- A ```text block that directly follows a python block (only blank lines between) is that block's
  expected output: what the block prints must match it exactly (trailing spaces aside).
- ``<!-- skip -->`` on the line before a block skips it (use sparingly; ```bash blocks never run).
- ``<!-- requires: matplotlib graphviz -->`` before a block skips it unless those modules import
  (and, for graphviz, the ``dot`` program is on PATH); later blocks of that file still run.

After a deliberate change of behaviour, ``python tests/test_docs.py --update docs/tutorial.md``
rewrites each expected-output block with what its code prints now; review the diff (and the prose
that quotes those numbers) before committing.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))

_FENCE = re.compile(r"^```\s*(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*(skip|requires:([\w\s.-]*))\s*-->$")


@dataclass
class Block:
    line: int                       # 1-based line of the first code line in the file
    code: str
    skip: bool = False
    requires: list[str] = field(default_factory=list)
    expected: str | None = None     # the ```text block that follows, if any
    expected_lines: tuple[int, int] = (0, 0)   # its body's line span [start, end), 0-based


def parse_blocks(text: str) -> list[Block]:
    """The python blocks of a Markdown text, with their markers and expected output."""
    lines = text.splitlines()
    blocks: list[Block] = []
    last_python_end = None          # index of the closing fence of the previous python block
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match or not match.group(1):
            i += 1
            continue
        lang = match.group(1)
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = "\n".join(lines[i + 1:end]) + "\n"
        if lang in ("python", "py"):
            block = Block(line=i + 2, code=body)
            before = next((ln.strip() for ln in reversed(lines[:i]) if ln.strip()), "")
            marker = _MARKER.match(before)
            if marker and marker.group(1) == "skip":
                block.skip = True
            elif marker:
                block.requires = marker.group(2).split()
            blocks.append(block)
            last_python_end = end
        elif lang == "text" and last_python_end is not None and blocks \
                and all(not ln.strip() for ln in lines[last_python_end + 1:i]):
            blocks[-1].expected = body
            blocks[-1].expected_lines = (i + 1, end)
        i = end + 1
    return blocks


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _missing(requires: list[str]) -> list[str]:
    missing = [m for m in requires if not _importable(m)]
    if "graphviz" in requires and shutil.which("dot") is None:
        missing.append("dot (Graphviz program)")
    return missing


def _normalize(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def run_blocks(path: Path, blocks: list[Block], update: bool = False) -> list[str]:
    """Run the blocks in one namespace; returns why blocks were skipped. Raises on failure.

    With ``update``, a block's printed output replaces its ``expected`` instead of being checked.
    """
    namespace: dict = {"__name__": "__docs__"}
    skipped = []
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for block in blocks:
        if block.skip:
            skipped.append(f"{rel}:{block.line}: <!-- skip -->")
            continue
        missing = _missing(block.requires)
        if missing:
            skipped.append(f"{rel}:{block.line}: needs {', '.join(missing)}")
            continue
        # pad with newlines so tracebacks give the line number in the Markdown file
        code = compile("\n" * (block.line - 1) + block.code, str(rel), "exec")
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(code, namespace)
        if block.expected is not None and update:
            block.expected = buffer.getvalue()
        elif block.expected is not None:
            assert _normalize(buffer.getvalue()) == _normalize(block.expected), (
                f"{rel}:{block.line}: the block prints something else than the ```text block "
                f"after it shows.\n--- printed ---\n{buffer.getvalue()}\n--- documented ---\n"
                f"{block.expected}")
    return skipped


@pytest.mark.parametrize("path", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_doc_code_blocks_run(path, tmp_path, monkeypatch):
    out_dir = os.environ.get("MICROGRAD_DOCS_OUT")
    workdir = Path(out_dir).resolve() if out_dir else tmp_path
    workdir.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(workdir)
    blocks = parse_blocks(path.read_text())
    skipped = run_blocks(path, blocks)
    if skipped and len(skipped) == len(blocks):
        pytest.skip("every block skipped: " + "; ".join(skipped))


def update_file(path: Path) -> int:
    """Rewrite the expected-output blocks of ``path`` with what the code prints now."""
    text = path.read_text()
    blocks = parse_blocks(text)
    cwd = os.getcwd()
    os.chdir(os.environ.get("MICROGRAD_DOCS_OUT", ROOT / "docs" / "img"))
    try:
        run_blocks(path, blocks, update=True)
    finally:
        os.chdir(cwd)
    lines = text.splitlines()
    for block in sorted((b for b in blocks if b.expected is not None),
                        key=lambda b: b.expected_lines, reverse=True):
        start, end = block.expected_lines
        lines[start:end] = block.expected.rstrip("\n").splitlines()
    path.write_text("\n".join(lines) + "\n")
    return sum(b.expected is not None for b in blocks)


if __name__ == "__main__":
    import sys
    if len(sys.argv) < 3 or sys.argv[1] != "--update":
        sys.exit("usage: python tests/test_docs.py --update FILE.md [FILE.md ...]")
    for name in sys.argv[2:]:
        print(f"{name}: {update_file(Path(name).resolve())} output blocks rewritten")


# ---- the collector itself -----------------------------------------------------------------------
SAMPLE = """\
# Title

```python
x = 2
print(x * 3)
```

```text
6
```

<!-- skip -->
```python
raise SystemExit("never runs")
```

```bash
rm -rf /
```

<!-- requires: no_such_module_xyz -->
```python
import no_such_module_xyz
```

```python
print(x + 1)   # shares the namespace of the first block
```
Some prose.
```text
not an output block: prose stands between
```
"""


def test_parser_finds_blocks_markers_and_outputs():
    blocks = parse_blocks(SAMPLE)
    assert [b.line for b in blocks] == [4, 14, 23, 27]
    assert [b.skip for b in blocks] == [False, True, False, False]
    assert blocks[2].requires == ["no_such_module_xyz"]
    assert blocks[0].expected == "6\n"
    assert [b.expected for b in blocks[1:]] == [None, None, None]


def test_runner_checks_outputs_and_shares_namespace(tmp_path):
    path = tmp_path / "sample.md"
    skipped = run_blocks(path, parse_blocks(SAMPLE))
    assert len(skipped) == 2 and "no_such_module_xyz" in skipped[1]
    wrong = SAMPLE.replace("```text\n6\n```", "```text\n7\n```")
    with pytest.raises(AssertionError, match="prints something else"):
        run_blocks(path, parse_blocks(wrong))


def test_runner_reports_the_markdown_line_of_an_error(tmp_path):
    text = "intro\n\n```python\nx = 1\ny = undefined_name\n```\n"
    with pytest.raises(NameError) as info:
        run_blocks(tmp_path / "bad.md", parse_blocks(text))
    assert info.traceback[-1].lineno + 1 == 5       # pytest's lineno is 0-based


def test_update_rewrites_expected_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROGRAD_DOCS_OUT", str(tmp_path))
    path = tmp_path / "doc.md"
    path.write_text("```python\nprint(1 + 1)\n```\n\n```text\n3\nold\n```\nend\n")
    assert update_file(path) == 1
    assert path.read_text() == "```python\nprint(1 + 1)\n```\n\n```text\n2\n```\nend\n"
    run_blocks(path, parse_blocks(path.read_text()))      # now it checks out
