"""Fixtures of the evaluation tests: a small synthetic set rendered once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from samples.manifest import SampleSet
from samples.recipes import generate_set


@pytest.fixture(scope="session")
def smoke_set(tmp_path_factory: pytest.TempPathFactory) -> SampleSet:
    """Render the ``smoke`` recipe (four 480 x 360 photos, one negative) with seed 3."""
    folder = tmp_path_factory.mktemp("smoke_set")
    return generate_set("smoke", folder, seed=3, name="smoke")


@pytest.fixture(scope="session")
def smoke_path(smoke_set: SampleSet) -> Path:
    return smoke_set.path.parent
