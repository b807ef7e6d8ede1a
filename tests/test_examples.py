"""Every script in examples/ runs (shortened where it takes an argument) and learns."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# script -> (arguments that keep it short, a pattern its output must match, minimum value)
CASES = {
    "moons_scalar.py": (["6"], r"step +5 loss [\d.]+ accuracy (\d+)%", 75),
    "moons_tensor.py": ([], r"epoch 149 loss [\d.]+ accuracy (\d+)%", 97),
    "digits_sequential.py": (["8"], r"test accuracy (0\.\d+)", 0.9),
    "digits_sklearn.py": ([], r"test accuracy (0\.\d+)", 0.95),
    "ddp_train.py": (["4"], r"test accuracy (0\.\d+)", 0.9),
    "char_model.py": (["100"], r"transformer next-letter accuracy (0\.\d+)", 0.5),
    "cnn_digits.py": (["5"], r"test accuracy (0\.\d+)", 0.95),
}


def test_every_example_is_covered():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_and_learns(name, tmp_path):
    args, pattern, minimum = CASES[name]
    out = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    match = re.search(pattern, out.stdout)
    assert match, out.stdout
    assert float(match.group(1)) >= minimum, out.stdout
