"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# Read-only inputs kept beside the repository, never copied into it.
SHARED_DIR = Path(__file__).resolve().parents[1] / ".." / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Return the shared input folder (``cases/``, ``realdata/``), or skip when it is absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared test inputs not found at {SHARED_DIR}")
    return SHARED_DIR.resolve()


@pytest.fixture(scope="session")
def cases(shared_dir: Path) -> dict[str, dict[str, Any]]:
    """Return the cases of ``cases/expected.json`` keyed by their ``file`` entry.

    Each case is the JSON object as written, plus ``"path"``: the absolute
    :class:`~pathlib.Path` of its input file.
    """
    cases_dir = shared_dir / "cases"
    document = json.loads((cases_dir / "expected.json").read_text(encoding="utf-8"))
    return {case["file"]: {**case, "path": cases_dir / case["file"]} for case in document["cases"]}
