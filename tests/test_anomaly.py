"""mg.autograd.detect_anomaly: raises at the op that first produced NaN/Inf, naming it."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn
from micrograd.autograd import (AnomalyError, detect_anomaly, is_anomaly_enabled,
                                set_detect_anomaly)
from micrograd.nn import functional as F


def test_forward_names_the_first_op_and_the_bad_element(backend):
    x = mg.tensor([1.0, 0.25, 2.0], requires_grad=True)
    with detect_anomaly():
        y = x * 2.0 - 1.0                     # finite: fine
        with pytest.raises(AnomalyError) as info:
            y.log()                           # log(-0.5) = nan
    msg = str(info.value)
    assert "Log (forward)" in msg and "1 nan of 3 values" in msg
    assert "float32 (3,)" in msg and "index (1,)" in msg and "input 0 = -0.5" in msg


def test_the_first_op_is_reported_not_a_later_one(backend):
    x = mg.tensor([[0.0, 1.0]], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"^detect_anomaly: Div \(forward\)"):
        # 1/0 = inf first; the later exp/sum would propagate it, they must not be blamed
        (1.0 / x).exp().sum()


def test_overflow_to_inf_is_caught(backend):
    x = mg.tensor([10.0, 100.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"Exp \(forward\).*1 inf"):
        x.exp()


def test_leaf_holding_nan_is_blamed_on_the_data(backend):
    x = mg.tensor([1.0, float("nan")], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"input 0 .*already holds 1 nan.*"
                                                             r"leaf.*index \(1,\)"):
        x * 3.0


def test_backward_names_the_op_the_input_and_where_it_was_created(backend):
    x = mg.tensor([4.0, 0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()                          # forward finite; d sqrt(0) = inf
        loss = y.sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    msg = str(info.value)
    assert "SqrtBackward (backward)" in msg and "input 0" in msg and "1 inf of 3" in msg
    assert "finite upstream gradient" in msg and "index (1,)" in msg
    assert "y = x.sqrt()" in msg              # the forward line, recorded while the mode was on


def test_backward_of_a_two_input_op_names_which_input(backend):
    a = mg.tensor([1e30], requires_grad=True)
    b = mg.tensor([1e-30], requires_grad=True)
    with detect_anomaly():
        z = (a * b * 1e30).sum()              # forward: 1e30, finite in float32
        # d/db (a * b) = g * a = 1e30 * 1e30: overflows in float32; d/da = 1e30 * 1e-30 is fine
        with pytest.raises(AnomalyError, match=r"MulBackward \(backward\) returned 1 inf of 1 "
                                               r"values in the gradient for input 1"):
            z.backward()


def test_non_finite_seed_gradient_is_reported(backend):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = x * 2.0
        with pytest.raises(AnomalyError, match="upstream gradient with 1 inf"):
            y.backward(mg.tensor([1.0, float("inf")]))


def test_training_step_with_a_bad_loss_points_at_the_loss(backend):
    """The realistic case: log of a probability that underflowed to 0 inside the loss."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())
    with mg.no_grad():
        model[0].weight.fill_(100.0)          # saturate: sigmoid(-300) == 0 in float32
    x = mg.tensor([[-1.0, -1.0, -1.0]])
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"Log \(forward\).*inf"):
        model(x).log().mean()


def test_off_by_default_and_nothing_raised_when_off():
    assert not is_anomaly_enabled()
    x = mg.tensor([-1.0, 0.0], requires_grad=True)
    y = x.log().sum()                         # nan and -inf, silently (as torch)
    y.backward()
    assert np.isnan(y.item()) or np.isinf(y.item())


def test_modes_nest_restore_and_work_as_decorator():
    with detect_anomaly():
        assert is_anomaly_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
            mg.tensor([-1.0]).log()            # off here: no error
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()

    @detect_anomaly()
    def f(t):
        return t.log()
    with pytest.raises(AnomalyError):
        f(mg.tensor([-1.0]))
    assert not is_anomaly_enabled()

    set_detect_anomaly(True)                  # takes effect without `with`, as torch
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()


def test_exception_inside_the_block_restores_the_mode():
    with pytest.raises(AnomalyError), detect_anomaly():
        mg.tensor([0.0]).log()
    assert not is_anomaly_enabled()


def test_clean_training_gives_identical_results_with_the_mode_on(backend):
    """Anomaly mode only observes: the numbers are bit-identical."""
    def train():
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = mg.optim.SGD(model.parameters(), lr=0.1)
        x, y = mg.randn(16, 4), mg.randint(0, 3, (16,))
        for _ in range(5):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        return [p._array.copy() for p in model.parameters()]
    plain = train()
    with detect_anomaly():
        checked = train()
    for a, b in zip(plain, checked):
        np.testing.assert_array_equal(a, b)


def test_anomaly_error_is_a_runtime_error_as_in_torch():
    assert issubclass(AnomalyError, RuntimeError)
    assert mg.autograd.detect_anomaly is detect_anomaly
