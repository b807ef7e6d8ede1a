"""Collect the ``bench_*.py`` files here as pytest modules, so ``pytest bench/ --benchmark-only``
runs every suite (the project's pytest configuration only collects ``test_*.py`` under tests/)."""
from __future__ import annotations

import pytest


def pytest_collect_file(parent, file_path):
    # (a file named on the command line is collected by pytest itself: not a second time)
    if (file_path.suffix == ".py" and file_path.name.startswith("bench_")
            and not parent.session.isinitpath(file_path)):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
