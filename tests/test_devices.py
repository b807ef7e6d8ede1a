"""Devices: the CPU is the one device; PyTorch's device code runs, anything else is a clear
error. device objects against torch.device (repr, str, type, index)."""
from __future__ import annotations

import pickle

import pytest

import micrograd as mg
from micrograd.core.creation import __all__ as creation_names

torch = pytest.importorskip("torch", reason="torch.device is the oracle for device objects")

FACTORIES = [  # name, arguments (device= is added)
    ("tensor", ([1.0],)), ("as_tensor", ([1.0],)), ("zeros", (2,)), ("ones", (2,)),
    ("empty", (2,)), ("full", ((2,), 1.0)), ("rand", (2,)), ("randn", (2,)),
    ("randint", (0, 5, (2,))), ("arange", (3,)), ("linspace", (0, 1, 3)), ("eye", (2,)),
    ("zeros_like", (mg.ones(2),)), ("ones_like", (mg.ones(2),)), ("empty_like", (mg.ones(2),)),
    ("full_like", (mg.ones(2), 3.0)), ("rand_like", (mg.ones(2),)), ("randn_like", (mg.ones(2),)),
]


@pytest.mark.parametrize("spec", ["cpu", "cpu:0", ("cpu", 0)])
def test_device_objects_like_torch(spec):
    ours = mg.device(*spec) if isinstance(spec, tuple) else mg.device(spec)
    theirs = torch.device(*spec) if isinstance(spec, tuple) else torch.device(spec)
    assert (repr(ours), str(ours), ours.type, ours.index) == \
        (repr(theirs), str(theirs), theirs.type, theirs.index)
    assert pickle.loads(pickle.dumps(ours)) == ours
    assert mg.device(ours) is ours


def test_cpu_device_equals_the_string_tensor_device_returns():
    assert mg.device("cpu") == "cpu" and mg.ones(1).device == mg.device("cpu")
    assert {mg.device("cpu"): 1}["cpu"] == 1


@pytest.mark.parametrize("name,args", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_every_factory_takes_device(name, args):
    factory = getattr(mg, name)
    for dev in ("cpu", mg.device("cpu"), None):
        assert factory(*args, device=dev).device == "cpu"
    with pytest.raises(RuntimeError, match="runs on the CPU only"):
        factory(*args, device="cuda")


def test_factory_table_covers_the_factories():
    made = {n for n in creation_names if n in {f[0] for f in FACTORIES}}
    assert made == {f[0] for f in FACTORIES}


def test_gpu_queries_answer_false_and_gpu_devices_are_clear_errors():
    assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0
    assert mg.accelerator.is_available() is False and mg.accelerator.current_accelerator() is None
    assert mg.backends.mps.is_available() is False
    for name in ("cuda", "cuda:0", "mps"):
        with pytest.raises(RuntimeError, match="runs on the CPU only"):
            mg.device(name)
    with pytest.raises(RuntimeError, match="expected one of"):
        mg.device("gpu")
    mg.set_default_device("cpu")
    mg.set_default_device(None)
    assert mg.get_default_device() == "cpu"
    with pytest.raises(RuntimeError, match="runs on the CPU only"):
        mg.set_default_device("cuda")


def test_pytorch_device_idioms_run():
    device = mg.device("cuda" if mg.cuda.is_available() else "cpu")
    device2 = (mg.accelerator.current_accelerator().type if mg.accelerator.is_available()
               else "cpu")
    model = mg.nn.Linear(2, 1).to(device)
    x = mg.randn(3, 2, device=device2).to(device)
    assert model(x).shape == (3, 1) and x.to(mg.device("cpu"), mg.float64).dtype == mg.float64
