"""Hypothesis properties of tensor ops over random shapes, broadcastable pairs and
non-contiguous (transposed) views, on every backend."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import micrograd as mg
from strategies import array_pairs, arrays, broadcastable_pairs, shapes

BACKENDS = mg.available_backends()


def T(x, grad=False):
    return mg.tensor(x, requires_grad=grad)


@pytest.mark.parametrize("be", BACKENDS)
@given(array_pairs())
def test_add_mul_commute_and_match_numpy(be, pair):
    with mg.use_backend(be):
        a, b = pair
        np.testing.assert_array_equal((T(a) + T(b)).numpy(), (T(b) + T(a)).numpy())
        np.testing.assert_allclose((T(a) * T(b)).numpy(), a * b, rtol=1e-12)
        np.testing.assert_allclose((T(a) - T(b)).numpy(), a - b, rtol=1e-12)


@pytest.mark.parametrize("be", BACKENDS)
@given(array_pairs())
def test_broadcast_gradient_counts_repeats(be, pair):
    """d(sum(a + b))/da = how many times each element of a was broadcast."""
    with mg.use_backend(be):
        a, b = pair
        ta, tb = T(a, True), T(b, True)
        (ta + tb).sum().backward()
        out = np.broadcast_shapes(a.shape, b.shape)
        for x, t in ((a, ta), (b, tb)):
            reps = int(np.prod(out)) // max(x.size, 1)
            np.testing.assert_array_equal(t.grad.numpy(), np.full(x.shape, float(reps)))


@pytest.mark.parametrize("be", BACKENDS)
@given(array_pairs())
def test_mul_grads_symmetric(be, pair):
    with mg.use_backend(be):
        a, b = pair
        x1, y1, x2, y2 = T(a, True), T(b, True), T(a, True), T(b, True)
        (x1 * y1).sum().backward()
        (y2 * x2).sum().backward()
        np.testing.assert_array_equal(x1.grad.numpy(), x2.grad.numpy())
        np.testing.assert_array_equal(y1.grad.numpy(), y2.grad.numpy())


@pytest.mark.parametrize("be", BACKENDS)
@given(shapes().flatmap(lambda s: arrays(s)), st.integers(1, 4))
def test_expand_then_sum_is_n_times(be, x, n):
    with mg.use_backend(be):
        t = T(x, True)
        s = t.expand((n,) + x.shape).sum(0)
        np.testing.assert_allclose(s.detach().numpy(), n * x, rtol=1e-12)
        s.sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), np.full(x.shape, float(n)))


@pytest.mark.parametrize("be", BACKENDS)
@given(shapes(min_dims=2).flatmap(lambda s: arrays(s)))
def test_transpose_twice_is_identity(be, x):
    with mg.use_backend(be):
        t = T(x)
        assert np.array_equal(t.transpose(0, -1).transpose(0, -1).numpy(), x)
        assert np.array_equal(t.T.T.numpy(), x)


@pytest.mark.parametrize("be", BACKENDS)
@given(shapes().flatmap(lambda s: arrays(s, bound=50.0)))
def test_activation_identities(be, x):
    with mg.use_backend(be):
        t = T(x)
        assert (t.relu().numpy() >= 0).all()
        np.testing.assert_allclose((-t).sigmoid().numpy(), 1 - t.sigmoid().numpy(), atol=1e-12)
        np.testing.assert_allclose(t.tanh().numpy(), np.tanh(x), atol=1e-12)


@pytest.mark.parametrize("be", BACKENDS)
@given(shapes().flatmap(lambda s: st.tuples(arrays(s, bound=30.0), st.integers(0, len(s) - 1))))
def test_softmax_rows_sum_to_one(be, case):
    with mg.use_backend(be):
        x, dim = case
        t = T(x)
        np.testing.assert_allclose(t.softmax(dim).sum(dim).numpy(), 1.0, rtol=1e-12)
        np.testing.assert_allclose(t.log_softmax(dim).exp().numpy(), t.softmax(dim).numpy(),
                                   rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("be", BACKENDS)
@given(shapes().flatmap(lambda s: st.tuples(arrays(s), st.integers(0, len(s) - 1),
                                            st.booleans())))
def test_reductions_match_numpy_on_views(be, case):
    with mg.use_backend(be):
        x, dim, keep = case
        t = T(x)
        np.testing.assert_allclose(t.sum(dim, keep).numpy(), x.sum(dim, keepdims=keep), rtol=1e-12,
                                   atol=1e-12)
        np.testing.assert_allclose(t.mean(dim, keep).numpy(), x.mean(dim, keepdims=keep),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(t.amax(dim, keep).numpy(), x.max(dim, keepdims=keep))
        np.testing.assert_array_equal(t.max(dim).indices.numpy(), x.argmax(dim))


@st.composite
def matmul_triple(draw):
    """a (n, k), b (k, m) and a cotangent g (n, m), each possibly a transposed view. g is
    random, not all ones: an all-ones g equals its own transpose and any permutation of its
    rows or columns, so a backward that transposed or misread g would still pass."""
    n, k, m = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    return draw(arrays((n, k))), draw(arrays((k, m))), draw(arrays((n, m)))


@pytest.mark.parametrize("be", BACKENDS)
@given(matmul_triple())
def test_matmul_matches_numpy_on_views(be, triple):
    with mg.use_backend(be):
        a, b, g = triple
        ta, tb = T(a, True), T(b, True)
        out = ta @ tb
        np.testing.assert_allclose(out.numpy() if not out.requires_grad else out.detach().numpy(),
                                   a @ b, rtol=1e-10, atol=1e-10)
        out.backward(mg.tensor(g))
        np.testing.assert_allclose(ta.grad.numpy(), g @ b.T, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(tb.grad.numpy(), a.T @ g, rtol=1e-10, atol=1e-10)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "maximum": lambda a, b: mg.maximum(a, b),
    "pow": lambda a, b: (a * a + 1) ** b,
}


@pytest.mark.parametrize("name", list(BINARY))
@given(pair=broadcastable_pairs(max_dims=3, max_side=3), data=st.data())
def test_binary_ops_gradcheck_on_random_broadcasts(name, pair, data):
    sa, sb = pair
    a = data.draw(arrays(sa, bound=3.0))
    b = data.draw(arrays(sb, bound=3.0))
    if name == "maximum":  # keep away from ties, where the max is not differentiable
        assume(bool(np.all(np.abs(np.subtract(a, b)) > 1e-3)))
    ta, tb = T(np.ascontiguousarray(a), True), T(np.ascontiguousarray(b), True)
    assert mg.gradcheck(BINARY[name], [ta, tb])


@given(shapes(max_dims=3, max_side=3).flatmap(
    lambda s: st.tuples(arrays(s, bound=3.0), st.lists(st.integers(0, len(s) - 1), min_size=1,
                                                       max_size=len(s), unique=True),
                        st.booleans())))
def test_reductions_gradcheck_on_random_dims(case):
    x, dims, keep = case
    t = T(np.ascontiguousarray(x), True)
    dims = tuple(dims)
    assert mg.gradcheck(lambda a: a.sum(dims, keep) + a.mean(dims, keep) * 2, [t])
    assert mg.gradcheck(lambda a: a.logsumexp(dims, keep), [t])
    if int(np.prod([x.shape[d] for d in dims])) > 1:
        assert mg.gradcheck(lambda a: a.var(dims, keepdim=keep), [t])


@given(array_pairs(bound=5.0))
def test_binary_ops_match_torch(pair):
    torch = pytest.importorskip("torch", reason="torch not installed: reference comparison")
    a, b = pair
    for name, fn in BINARY.items():
        ta, tb = T(a, True), T(b, True)
        ra = torch.tensor(a, requires_grad=True)
        rb = torch.tensor(b, requires_grad=True)
        if name == "maximum":
            out, ref = mg.maximum(ta, tb), torch.maximum(ra, rb)
        else:
            out, ref = fn(ta, tb), fn(ra, rb)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12,
                                   atol=1e-12, err_msg=name)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(ta.grad.numpy(), ra.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
        np.testing.assert_allclose(tb.grad.numpy(), rb.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
