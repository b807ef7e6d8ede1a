"""Collect the ``bench_*.py`` files here as pytest modules, so ``pytest bench/ --benchmark-only``
runs every suite (the project's pytest configuration only collects ``test_*.py`` under tests/)."""
from __future__ import annotations

import pytest


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
