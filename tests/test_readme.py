"""The README's Quickstart stays true: two commands, and CI runs the test one verbatim."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_quickstart_is_exactly_two_commands():
    commands = quickstart_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in c for c in commands)
    assert commands[0].endswith("python -m micrograd demo")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert quickstart_commands()[1] in ci_lines


def test_ci_runs_the_readme_demo_command_and_checks_the_c_core():
    """The first command as a new user pastes it (from the clone's folder, where
    ``python -m micrograd`` imports the source tree), and its demo must say it ran on C."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert any(line.startswith(quickstart_commands()[0]) for line in ci.splitlines())
    assert "on the 'c' backend" in ci
