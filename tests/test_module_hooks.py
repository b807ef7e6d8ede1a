"""Module introspection and hooks against torch.nn: forward / forward-pre hooks (modified
inputs and outputs, removal, order), named_modules (prefix, duplicates, remove_duplicate),
children, apply's order, register_buffer(persistent=)."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn

torch = pytest.importorskip("torch", reason="torch.nn is the oracle for module introspection")


def tree(lib):
    """A model with a module shared by two parents and a child registered under two names."""
    shared = lib.nn.Linear(2, 2)
    inner = lib.nn.Sequential(shared, lib.nn.ReLU())
    model = lib.nn.Sequential(shared, inner, lib.nn.Tanh())
    model.add_module("again", inner)
    return model


def walk(lib):
    model = tree(lib)
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    return {
        "named_modules": [n for n, _ in model.named_modules()],
        "prefix": [n for n, _ in model.named_modules(prefix="net")],
        "with_duplicates": [n for n, _ in model.named_modules(remove_duplicate=False)],
        "modules": [type(m).__name__ for m in model.modules()],
        "children": [type(m).__name__ for m in model.children()],
        "named_children": [n for n, _ in model.named_children()],
        "apply_order": seen,
        "parameters": [n for n, _ in model.named_parameters()],
        "parameters_all": [n for n, _ in model.named_parameters(remove_duplicate=False)],
        "state_dict": list(model.state_dict()),
    }


@pytest.mark.parametrize("key", list(walk(mg)))
def test_traversal_matches_torch(key):
    assert walk(mg)[key] == walk(torch)[key]


def hooked_run(lib):
    """Pre-hook doubles the input, forward hook adds 1 to the output, a removed hook never
    runs, hooks run in registration order (prepend puts one first)."""
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 10))
        lin.bias.copy_(lib.tensor([0.5, -0.5]))
    calls = []
    lin.register_forward_pre_hook(lambda m, args: (calls.append("pre"), args[0] * 2)[1])
    lin.register_forward_hook(lambda m, args, out: (calls.append("post"), out + 1)[1])
    first = lin.register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
    gone = lin.register_forward_hook(lambda m, args, out: calls.append("removed"))
    gone.remove()
    kw = lin.register_forward_pre_hook(lambda m, args, kwargs: calls.append(len(kwargs)),
                                       with_kwargs=True)
    x = lib.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    out = lin(x)
    out.sum().backward()
    first.remove()
    kw.remove()
    out2 = lin(x)
    return out.detach().numpy(), x.grad.numpy(), calls, out2.detach().numpy()


def test_hooks_modify_input_and_output_like_torch():
    ours, theirs = hooked_run(mg), hooked_run(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)  # the gradient sees the hooks
    assert ours[2] == theirs[2] == ["pre", 0, "first", "post", "pre", "post"]
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-6)


def test_hook_handle_as_context_manager_and_a_forward_hook_sees_the_hooked_input():
    m = nn.ReLU()
    seen = []
    m.register_forward_pre_hook(lambda mod, args: (-args[0],))
    with m.register_forward_hook(lambda mod, args, out: seen.append(args[0].tolist())):
        m(mg.tensor([1.0, -1.0]))
    m(mg.tensor([2.0]))
    assert seen == [[-1.0, 1.0]]
    with pytest.raises(TypeError, match="callable"):
        m.register_forward_hook("not a function")


def test_sequential_runs_the_hooks_of_fusable_modules():
    """Sequential fuses Linear + ReLU into one call; a hook on either must still run, and see
    the output it would see without the fusion."""
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    calls = []
    model[0].register_forward_hook(lambda m, args, out: calls.append(("linear", out.tolist())))
    model[1].register_forward_hook(lambda m, args, out: calls.append(("relu", out.tolist())))
    x = mg.tensor([[1.0, -2.0]])
    y = model(x)
    pre = (x @ model[0].weight.T + model[0].bias).tolist()
    assert [name for name, _ in calls] == ["linear", "relu"]
    assert calls[0][1] == pre and calls[1][1] == y.tolist()


def buffers(lib):
    m = lib.nn.Module()
    m.register_buffer("kept", lib.ones(2))
    m.register_buffer("scratch", lib.zeros(3), persistent=False)
    m.register_buffer("none", None)
    m.child = lib.nn.Module()
    m.child.register_buffer("cache", lib.ones(1), persistent=False)
    return (list(m.state_dict()), [n for n, _ in m.named_buffers()],
            [n for n, _ in m.named_buffers(recurse=False)])


def test_register_buffer_persistent_like_torch():
    assert buffers(mg) == buffers(torch)
    m = nn.Module()
    m.register_buffer("scratch", mg.zeros(3), persistent=False)
    m.load_state_dict({})  # a non-persistent buffer is not expected in a checkpoint
    with pytest.raises(KeyError, match="already exists"):
        m.x = 1
        m.register_buffer("x", mg.zeros(1))
    with pytest.raises(KeyError, match="'.'"):
        m.register_buffer("a.b", mg.zeros(1))
