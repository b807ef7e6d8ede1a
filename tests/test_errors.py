"""Where PyTorch raises RuntimeError for bad shapes or arguments, so does micrograd (``OpError``
is a RuntimeError and, as before, a ValueError). Each case runs under micrograd, and under
torch when it is installed to confirm torch raises a RuntimeError there too."""
import numpy as np
import pytest

import micrograd as mg
from micrograd.core.errors import OpError

A = np.ones((2, 3))

CASES = [  # (id, call taking the framework module, words the message must contain)
    ("negative size", lambda t: t.zeros(2, -1), "non-negative"),
    ("randint empty", lambda t: t.randint(3, 3, (2,)), "randint"),
    ("arange zero step", lambda t: t.arange(0, 3, 0), "step"),
    ("linspace negative", lambda t: t.linspace(0, 1, -1), "steps"),
    ("cat 0-d", lambda t: t.cat([t.tensor(1.0), t.tensor(2.0)]), "zero-dim"),
    ("cat mismatch", lambda t: t.cat([t.ones(2, 3), t.ones(3, 2)]), "shape"),
    ("stack mismatch", lambda t: t.stack([t.ones(2, 3), t.ones(3, 2)]), "stack"),
    ("load_state_dict size", lambda t: t.nn.Linear(2, 3).load_state_dict(
        t.nn.Linear(3, 3).state_dict()), "size mismatch"),
    ("vector_to_parameters", lambda t: t.nn.utils.vector_to_parameters(
        t.ones(5), t.nn.Linear(2, 3).parameters()), "9|shape"),
]


@pytest.mark.parametrize("call,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_runtime_error_as_torch(call, words):
    with pytest.raises(RuntimeError, match=words) as info:
        call(mg)
    assert isinstance(info.value, (OpError, ValueError))  # still a ValueError for old code


@pytest.mark.parametrize("call", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_torch_raises_runtime_error_too(call):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        call(torch)


def test_cat_of_nothing_is_a_value_error_as_torch():
    with pytest.raises(ValueError, match="non-empty"):
        mg.cat([])


def test_op_error_is_both():
    assert issubclass(OpError, RuntimeError) and issubclass(OpError, ValueError)

