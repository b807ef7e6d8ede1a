"""micrograd.compile with the sequence layers: a training step with RNN (tanh, relu), LSTM (deep,
bidirectional, batch_first, proj_size), GRU, LSTMCell/GRUCell stepped in a Python loop, or an
Embedding feeding a GRU replays (no fallback) and stays bitwise equal to eager (loss,
parameters, gradients, optimizer state) over 20 steps of different batches, on every backend."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn, optim
from micrograd.compile import _Plan
from micrograd.nn import functional as F

from compile_helpers import compare, training_step

STEPS = 20
SEQ, BATCH, IN, HID, VOCAB = 5, 3, 4, 6, 11

OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
    "adam": lambda ps: optim.Adam(ps, lr=1e-2),
}


class Layer(nn.Module):
    """A sequence layer and a linear head; the loss reads the output and the final states (so
    the LSTM's packed last c is split and used)."""

    def __init__(self, rnn: nn.Module, out_size: int) -> None:
        super().__init__()
        self.rnn, self.head = rnn, nn.Linear(out_size, 2)

    def forward(self, x, y):
        out, state = self.rnn(x)
        states = state if isinstance(state, tuple) else (state,)
        loss = F.mse_loss(self.head(out), y)
        for s in states:
            loss = loss + (s * s).mean()
        return loss


class Cell(nn.Module):
    """An LSTMCell or GRUCell stepped over the sequence in Python."""

    def __init__(self, cell: nn.Module) -> None:
        super().__init__()
        self.cell, self.head = cell, nn.Linear(HID, 2)

    def forward(self, x, y):
        state, outs = None, []
        for t in range(SEQ):
            state = self.cell(x[t], state)
            outs.append(state[0] if isinstance(state, tuple) else state)
        return F.mse_loss(self.head(mg.stack(outs)), y)


class CharModel(nn.Module):
    """Embedding -> GRU -> logits over the vocabulary: next-character cross-entropy."""

    def __init__(self, **embedding) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, IN, **embedding)
        self.gru = nn.GRU(IN, HID, batch_first=True)
        self.head = nn.Linear(HID, VOCAB)

    def forward(self, idx, target):  # target: flat, as a loss decides from an argument's labels
        out, _ = self.gru(self.embed(idx))
        return F.cross_entropy(self.head(out).reshape(-1, VOCAB), target)


def _time_major(rng):
    return (rng.standard_normal((SEQ, BATCH, IN)).astype(np.float32),
            rng.standard_normal((SEQ, BATCH, 2)).astype(np.float32))


def _batch_first(rng):
    x, y = _time_major(rng)
    return x.transpose(1, 0, 2).copy(), y.transpose(1, 0, 2).copy()


def _chars(rng):
    return rng.integers(0, VOCAB, (BATCH, SEQ)), rng.integers(0, VOCAB, BATCH * SEQ)


#: name -> (the model, its batches)
MODELS = {
    "lstm": (lambda: Layer(nn.LSTM(IN, HID), HID), _time_major),
    "lstm_2_layers_bidirectional": (
        lambda: Layer(nn.LSTM(IN, HID, num_layers=2, bidirectional=True), 2 * HID),
        _time_major),
    "lstm_batch_first": (lambda: Layer(nn.LSTM(IN, HID, batch_first=True), HID), _batch_first),
    "lstm_proj_size": (
        lambda: Layer(nn.LSTM(IN, HID, num_layers=2, proj_size=3, bidirectional=True), 6),
        _time_major),
    "lstm_no_bias": (lambda: Layer(nn.LSTM(IN, HID, bias=False), HID), _time_major),
    "gru": (lambda: Layer(nn.GRU(IN, HID, num_layers=2, bidirectional=True), 2 * HID),
            _time_major),
    "rnn_tanh": (lambda: Layer(nn.RNN(IN, HID, num_layers=2, bidirectional=True), 2 * HID),
                 _time_major),
    "rnn_relu": (lambda: Layer(nn.RNN(IN, HID, nonlinearity="relu"), HID), _time_major),
    "lstm_cell": (lambda: Cell(nn.LSTMCell(IN, HID)), _time_major),
    "gru_cell": (lambda: Cell(nn.GRUCell(IN, HID)), _time_major),
    "embedding_gru": (lambda: CharModel(), _chars),
    "embedding_padding_freq_gru": (lambda: CharModel(padding_idx=0, scale_grad_by_freq=True),
                                   _chars),
}


def make(model_name: str, opt_name: str):
    """A fresh model (the same weights every time), its optimizer and its training step."""
    mg.manual_seed(0)
    model = MODELS[model_name][0]()
    opt = OPTIMIZERS[opt_name](model.parameters())
    return model, opt, training_step(opt, model)


def run_both(model_name: str, opt_name: str, steps: int = STEPS):
    """Eager and compiled copies side by side on different batches; bitwise equal each step,
    and the compiled one replays (a fallback's warning fails the test)."""
    rng = np.random.default_rng(list(MODELS).index(model_name))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = compare([make(model_name, opt_name) for _ in range(2)],
                           [MODELS[model_name][1](rng) for _ in range(steps)])
    (plan,) = compiled.plans.values()
    assert isinstance(plan, _Plan), plan  # replayed, not a silent fallback
    return compiled


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("model_name", list(MODELS))
def test_replay_bitwise_equal_to_eager(backend, model_name, opt_name):
    run_both(model_name, opt_name)


def test_replay_runs_the_sequence_kernels(backend):
    """The plan repeats the layer's kernels (the recurrence is one backend call each way)."""
    (plan,) = run_both("lstm", "sgd", steps=3).plans.values()
    assert "lstm_sequence" in plan.source and "lstm_sequence_backward" in plan.source


def test_index_out_of_range_at_replay_raises(backend):
    """The lookup's range check depends on the indices' values: a replay with an index out of
    range runs eagerly, which raises as eager does (NumPy would wrap a negative index)."""
    compiled = run_both("embedding_gru", "sgd", steps=3)
    rng = np.random.default_rng(0)
    idx, target = _chars(rng)
    idx[0, 0] = -1
    with pytest.warns(RuntimeWarning, match="decide otherwise"), \
            pytest.raises(IndexError, match="index out of range"):
        compiled(mg.from_numpy(idx), mg.from_numpy(target))


def test_initial_states_passed_as_a_tuple_replay(backend):
    """An LSTM's (h0, c0) handed to the step as one tuple argument: its tensors are arguments
    (the plan key looks into tuples), so the step replays, and each call's states are used."""
    def make_lstm():
        mg.manual_seed(0)
        lstm = nn.LSTM(IN, HID, batch_first=True)
        opt = optim.Adam(lstm.parameters(), lr=1e-2)
        return lstm, opt, training_step(opt, lambda x, hc, y: F.mse_loss(lstm(x, hc)[0], y))
    rng = np.random.default_rng(4)
    batches = [(rng.standard_normal((BATCH, SEQ, IN)).astype(np.float32),
                tuple(rng.standard_normal((1, BATCH, HID)).astype(np.float32) for _ in "hc"),
                rng.standard_normal((BATCH, SEQ, HID)).astype(np.float32)) for _ in range(8)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = compare([make_lstm() for _ in range(2)], batches)
    (plan,) = compiled.plans.values()
    assert isinstance(plan, _Plan)


def _embedding_model(make_embedding, width: int):
    def make_model():
        mg.manual_seed(0)
        model = nn.Sequential(make_embedding(), nn.Flatten(), nn.Linear(width, 2))
        opt = optim.SGD(model.parameters(), lr=0.5)
        return model, opt, training_step(opt, lambda i, y: F.cross_entropy(model(i), y))
    return make_model


EMBEDDING_BATCHES = [(np.random.default_rng(5 + k).integers(0, VOCAB, (8, 3)),
                      np.random.default_rng(5 + k).integers(0, 2, 8)) for k in range(6)]


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_replays_its_renorm(backend, norm_type):
    """max_norm rescales the looked-up rows in place when their norms exceed it (a
    ``numpy_call``): the replay repeats it on that step's indices, so weights stay equal to
    eager (a replay skipping it differed from the third step on)."""
    make = _embedding_model(lambda: nn.Embedding(VOCAB, 4, max_norm=0.5, norm_type=norm_type),
                            12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = compare([make() for _ in range(2)], EMBEDDING_BATCHES)
    (plan,) = compiled.plans.values()
    assert isinstance(plan, _Plan) and "= U" in plan.source


def test_embedding_bag_runs_eagerly(backend):
    """EmbeddingBag builds its bag index with NumPy: the step runs eagerly, equal to eager."""
    make = _embedding_model(lambda: nn.EmbeddingBag(VOCAB, 4, mode="mean"), 4)
    with pytest.warns(RuntimeWarning, match="running eagerly"):
        compare([make() for _ in range(2)], EMBEDDING_BATCHES)
