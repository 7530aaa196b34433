"""Fixtures for the backend registry and the cross-backend parity tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from backend_testing import CANDIDATES, installed

import backends
from backends import ENV_VARIABLE, Backend


@pytest.fixture
def backend_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Give a test a fresh backend registry and no backend environment variable; restore both after."""
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    backends.reset_registry()
    yield backends
    backends.reset_registry()


@pytest.fixture(scope="session")
def reference() -> Backend:
    """Return the OpenCV backend, against which the others are compared."""
    if not installed("opencv"):
        pytest.skip("the OpenCV reference backend is not installed")
    return backends.get_backend("opencv")


@pytest.fixture(scope="session", params=sorted(CANDIDATES))
def candidate(request: pytest.FixtureRequest) -> Backend:
    """Return each non-reference backend in turn, skipping those not installed."""
    name = request.param
    if not installed(name):
        pytest.skip(f"backend {name} is not installed")
    return backends.get_backend(name)
