"""Where PyTorch raises RuntimeError for bad shapes or arguments, so does micrograd (``OpError``
is a RuntimeError and, as before, a ValueError). Each case runs under micrograd, and under
torch when it is installed to confirm torch raises a RuntimeError there too."""
import numpy as np
import pytest

import micrograd as mg
from micrograd.core.errors import DTypeError, OpError

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
    # the Tensor core: shapes that do not fit
    ("matmul inner dims", lambda t: t.ones(2, 3) @ t.ones(4, 5), r"inner dims 3 != 4"),
    ("matmul 1-D", lambda t: t.ones(3) @ t.ones(4), "inner dims"),
    ("matmul batched inner", lambda t: t.ones(2, 2, 3) @ t.ones(2, 4, 5), "inner dims"),
    ("matmul batch dims", lambda t: t.ones(2, 2, 3) @ t.ones(3, 3, 4), "batch dims"),
    ("matmul 0-d", lambda t: t.matmul(t.tensor(1.0), t.ones(2, 3)), "at least 1 dim"),
    ("add broadcast", lambda t: t.ones(2, 3) + t.ones(4, 5), r"\(2, 3\) and \(4, 5\)"),
    ("mul broadcast", lambda t: t.ones(2, 3) * t.ones(2), "broadcast"),
    ("compare broadcast", lambda t: t.ones(2, 3) < t.ones(4, 5), "broadcast"),
    ("bitwise broadcast", lambda t: t.ones(2, 3).long() & t.ones(4, 5).long(), "broadcast"),
    ("div floor broadcast", lambda t: t.ones(2, 3).div(t.ones(4, 5), rounding_mode="floor"),
     "broadcast"),
    ("where broadcast", lambda t: t.where(t.ones(3, 2, dtype=t.bool), t.ones(2, 3), 0.0),
     "broadcast"),
    ("masked_select broadcast", lambda t: t.ones(2, 3).masked_select(
        t.ones(3, 2, dtype=t.bool)), "broadcast"),
    ("reshape count", lambda t: t.ones(2, 3).reshape(4), r"shape \(2, 3\) \(6 elements\)"),
    ("reshape two -1", lambda t: t.ones(2, 3).reshape(-1, -1), "invalid shape"),
    ("reshape negative", lambda t: t.ones(2, 3).reshape(-2, 3), "invalid shape"),
    ("view count", lambda t: t.ones(3).view(2, 2), "cannot reshape"),
    ("permute repeated", lambda t: t.ones(2, 3).permute(0, 0), "not a permutation"),
    ("permute length", lambda t: t.ones(2, 3).permute(0), "not a permutation"),
    ("expand size", lambda t: t.ones(2, 3).expand(3, 3), "cannot expand"),
    ("expand fewer dims", lambda t: t.ones(2, 3).expand(3), "fewer dims"),
    ("flatten order", lambda t: t.ones(2, 3).flatten(1, 0), "start_dim"),
    ("split sizes", lambda t: t.ones(2, 3).split([1, 2], 0), "do not add up"),
    ("split zero", lambda t: t.ones(2, 3).split(0), "split_size"),
    ("chunk zero", lambda t: t.ones(2, 3).chunk(0), "chunks"),
    ("t of 3-D", lambda t: t.ones(2, 3, 4).t(), "<= 2 dim"),
    ("take_along_dim ndim", lambda t: t.ones(2, 3).take_along_dim(
        t.zeros(2, dtype=t.long), 1), "dims"),
    ("take_along_dim broadcast", lambda t: t.ones(2, 3).take_along_dim(
        t.zeros(3, 3, dtype=t.long), 1), "broadcast"),
    ("sum repeated dims", lambda t: t.ones(2, 3).sum((0, 0)), "repeats a dim"),
    ("sum same dim twice", lambda t: t.ones(2, 3).sum((0, -2)), "repeats a dim"),
    ("amax repeated dims", lambda t: t.ones(2, 3).amax(dim=(1, 1)), "repeats a dim"),
    ("gather index dims", lambda t: t.ones(3).gather(0, t.zeros(2, 2, dtype=t.long)),
     "index has 2 dims"),
    ("scatter index dims", lambda t: t.ones(2, 3).scatter(0, t.zeros(2, dtype=t.long),
                                                          t.ones(2, 3)), "index has 1 dims"),
    ("index_add source", lambda t: t.ones(3, 3).index_add(0, t.zeros(2, dtype=t.long),
                                                          t.ones(3, 3)), "source of shape"),
    ("clamp without bounds", lambda t: t.ones(3).clamp(), "at least one"),
    ("backward gradient shape", lambda t: t.ones(3, requires_grad=True).sum().backward(
        t.ones(2)), "gradient has shape"),
    ("item of many", lambda t: t.ones(2).item(), "2 elements"),
    ("int negative power", lambda t: t.ones(3, dtype=t.long) ** -1, "negative"),
    ("div rounding mode", lambda t: t.ones(2).div(2.0, rounding_mode="round"), "rounding_mode"),
    ("view of a transposed tensor", lambda t: t.arange(6.0).reshape(2, 3).t().view(6),
     "Use .reshape"),
    # nn.functional and the layers, where torch raises RuntimeError
    ("F.linear inner dims", lambda t: t.nn.functional.linear(t.ones(2, 3), t.ones(4, 5)),
     "inner dims"),
    ("F.linear bias", lambda t: t.nn.functional.linear(t.ones(2, 3), t.ones(4, 3), t.ones(5)),
     "bias"),
    ("Linear input", lambda t: t.nn.Linear(3, 4)(t.ones(2, 5)), "inner dims"),
    ("F.layer_norm", lambda t: t.nn.functional.layer_norm(t.ones(2, 3), (4,)),
     "normalized_shape"),
    ("F.glu odd", lambda t: t.nn.functional.glu(t.ones(3)), "even"),
    ("F.prelu weights", lambda t: t.nn.functional.prelu(t.ones(2, 3), t.ones(4)), "prelu"),
    ("F.celu alpha 0", lambda t: t.nn.functional.celu(t.ones(2), alpha=0.0), "alpha"),
    ("F.huber delta", lambda t: t.nn.functional.huber_loss(t.ones(2), t.ones(2), delta=-1.0),
     "delta"),
    ("F.bce range", lambda t: t.nn.functional.binary_cross_entropy(t.ones(2) * 2, t.ones(2)),
     "between 0 and 1|in \\[0, 1\\]"),
    ("F.mse broadcast", lambda t: t.nn.functional.mse_loss(t.ones(2, 3), t.ones(4, 3)),
     "broadcast"),
    ("F.cross_entropy target shape", lambda t: t.nn.functional.cross_entropy(
        t.ones(2, 3, 4), t.zeros(2, 5, dtype=t.long)), "target shape"),
    ("F.cross_entropy weight", lambda t: t.nn.functional.cross_entropy(
        t.ones(2, 3), t.zeros(2, dtype=t.long), weight=t.ones(4)), "weight"),
    ("F.cross_entropy smoothing", lambda t: t.nn.functional.cross_entropy(
        t.ones(2, 3), t.zeros(2, dtype=t.long), label_smoothing=2.0), "label_smoothing"),
    ("BatchNorm1d features", lambda t: t.nn.BatchNorm1d(3)(t.ones(2, 4)), "BatchNorm1d"),
    # dtypes that do not fit: DTypeError, a RuntimeError as torch's and a TypeError as before
    ("matmul dtypes", lambda t: t.ones(2, 2) @ t.ones(2, 2, dtype=t.float64), "dtypes differ"),
    ("masked_select int mask", lambda t: t.ones(3).masked_select(t.tensor([1, 0, 1])), "bool"),
    ("where int condition", lambda t: t.where(t.tensor([1, 0, 1]), t.ones(3), t.zeros(3)),
     "bool"),
    ("mean of ints", lambda t: t.tensor([1, 2]).mean(), "floating"),
    ("scatter src dtype", lambda t: t.zeros(3).scatter(0, t.tensor([0]),
                                                        t.tensor([1.0], dtype=t.float64)),
     "dtype"),
]


@pytest.mark.parametrize("call,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_runtime_error_as_torch(call, words):
    with pytest.raises(RuntimeError, match=words) as info:
        call(mg)
    assert isinstance(info.value, (ValueError, TypeError))  # still what micrograd raised before


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



def test_dtype_error_is_both():
    assert issubclass(DTypeError, RuntimeError) and issubclass(DTypeError, TypeError)


def test_strict_load_state_dict_key_mismatch_is_a_runtime_error_as_torch():
    model = mg.nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match="Error.s. in loading state_dict for Linear: missing "
                                           r"keys \['bias'\]") as info:
        model.load_state_dict({"weight": model.weight.detach()})
    assert isinstance(info.value, KeyError)  # what micrograd raised before


def test_view_shares_storage_and_reshape_copies_where_it_must():
    x = mg.arange(6.0).reshape(2, 3)
    x.view(3, 2)[0, 0] = 100.0
    assert x[0, 0].item() == 100.0
    flat = x.t().reshape(6)  # no view exists: a copy, as torch's reshape
    flat[0] = -1.0
    assert x[0, 0].item() == 100.0
    with pytest.raises(NotImplementedError, match="to.dtype. converts"):
        x.view(mg.int64)
