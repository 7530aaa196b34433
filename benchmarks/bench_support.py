"""Names shared by the benchmark suites: installed backends, input names, and the extra_info helper."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from engine.bench.inputs import REAL_PHOTOS, SYNTHETIC_INPUTS, BenchInput

REALDATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata" / "signatures"

# Built-in backends whose modules are installed, in preference order.
BACKENDS = [
    name
    for name, modules in (("opencv", ("cv2",)), ("skimage", ("skimage", "scipy")), ("pillow", ("PIL",)))
    if all(importlib.util.find_spec(module) is not None for module in modules)
]
SYNTHETIC_NAMES = [recipe.name for recipe in SYNTHETIC_INPUTS]
REAL_NAMES = list(REAL_PHOTOS) if REALDATA.is_dir() else []
INPUT_NAMES = SYNTHETIC_NAMES + REAL_NAMES


def describe(benchmark, item: BenchInput, *, backend: str, step: str) -> None:
    """Record the input's size and format, the backend and the step in the benchmark's extra_info."""
    benchmark.extra_info.update(item.describe())
    benchmark.extra_info["backend"] = backend
    benchmark.extra_info["step"] = step
