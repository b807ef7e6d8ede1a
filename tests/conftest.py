"""Shared fixtures: run backend-dependent tests on every backend this install has."""
from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import micrograd
from micrograd import backends

# Hypothesis: no deadlines (the machine is shared and noisy), bounded example counts for CI.
settings.register_profile("ci", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=500)
# under valgrind every example costs ~50x: fewer of them (scripts/valgrind.sh; ASan runs all 40)
settings.register_profile("valgrind", deadline=None, max_examples=10,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BACKENDS = micrograd.available_backends()


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The name of each available backend, made active for the duration of the test. On "c"
    the routing's size rule is off (``backends.force_c``): the small inputs tests use would
    otherwise go to NumPy (2-D matmuls up to 96^3), and the test would run NumPy twice."""
    force = backends.force_c() if request.param == "c" else contextlib.nullcontext()
    with micrograd.use_backend(request.param), force:
        yield request.param


@pytest.fixture
def numpy_ref():
    """The reference NumPy backend object."""
    return backends.REGISTRY["numpy"]


@pytest.fixture
def c_backend():
    """The C backend object, with the size rule off as in ``backend``; the test is skipped
    (with the reason) when it is not built."""
    if "c" not in backends.REGISTRY:
        pytest.skip(f"C backend not built: {backends.C_IMPORT_ERROR}")
    with backends.force_c():
        yield backends.REGISTRY["c"]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


#: the parameters by which tests run once per backend (the ``backend`` fixture's and the
#: parametrizations by name or backend object)
_BACKEND_PARAMS = ("backend", "backend_name", "be")


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """``MICROGRAD_TEST_BACKENDS=c`` (a comma-separated list) runs the per-backend tests only
    for those backends. CI's sanitizer jobs and its runs on the other Pythons use it: they
    check the C core, and the NumPy twin of each such test already ran in the main suite."""
    wanted = os.environ.get("MICROGRAD_TEST_BACKENDS")
    if not wanted:
        return
    keep = {name.strip() for name in wanted.split(",")}
    selected, deselected = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        names = {getattr(params[k], "name", params[k]) for k in _BACKEND_PARAMS if k in params}
        (selected if names <= keep else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
