"""torch accepts NumPy's ``axis=``/``keepdims=`` wherever an op takes ``dim=``/``keepdim=``;
so does micrograd, for Tensor methods and module functions alike (core/methods.py)."""
import numpy as np
import pytest

import micrograd as mg

X = np.arange(24, dtype=np.float64).reshape(2, 3, 4)

CASES = [  # (name, call with dim=/keepdim=, the same call with axis=/keepdims=)
    ("Tensor.sum", lambda t: t.sum(dim=1, keepdim=True), lambda t: t.sum(axis=1, keepdims=True)),
    ("Tensor.mean", lambda t: t.mean(dim=(0, 2)), lambda t: t.mean(axis=(0, 2))),
    ("Tensor.amax", lambda t: t.amax(dim=-1, keepdim=True), lambda t: t.amax(axis=-1, keepdims=True)),
    ("Tensor.softmax", lambda t: t.softmax(dim=1), lambda t: t.softmax(axis=1)),
    ("Tensor.squeeze", lambda t: t[:1].squeeze(dim=0), lambda t: t[:1].squeeze(axis=0)),
    ("sum", lambda t: mg.sum(t, dim=2), lambda t: mg.sum(t, axis=2)),
    ("cat", lambda t: mg.cat([t, t], dim=1), lambda t: mg.cat([t, t], axis=1)),
    ("logsumexp", lambda t: mg.logsumexp(t, dim=0, keepdim=True),
     lambda t: mg.logsumexp(t, axis=0, keepdims=True)),
]


@pytest.mark.parametrize("name,torch_names,numpy_names", CASES, ids=[c[0] for c in CASES])
def test_numpy_names_give_the_same_result(name, torch_names, numpy_names):
    t = mg.tensor(X)
    expected, got = torch_names(t), numpy_names(t)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_gradients_flow_through_the_alias():
    t = mg.tensor(X, requires_grad=True)
    t.sum(axis=1).pow(2).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.broadcast_to(2 * X.sum(1, keepdims=True), X.shape))


def test_both_spellings_at_once_is_a_type_error():
    with pytest.raises(TypeError, match="both dim= and its alias axis="):
        mg.tensor(X).sum(dim=1, axis=1)
    with pytest.raises(TypeError, match="both keepdim= and its alias keepdims="):
        mg.sum(mg.tensor(X), 1, keepdim=True, keepdims=True)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    got = mg.tensor(X).sum(axis=1, keepdims=True).numpy()
    np.testing.assert_array_equal(got, torch.tensor(X).sum(axis=1, keepdims=True).numpy())
