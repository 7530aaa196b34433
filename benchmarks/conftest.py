"""Fixtures of the benchmark suites: the inputs and recorded pipeline runs.

Run with ``pytest benchmarks`` (they are outside the default ``tests`` path).
Synthetic inputs are rendered once and cached in the folder named by
``SIGNATURE_ENGINE_BENCH_CACHE``, or ``~/.cache/signature-engine/bench-inputs``.
Real photos come from the shared data folder beside the repository, when it
exists.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench_support import REALDATA

from engine.bench.inputs import BenchInput, build_inputs, default_cache_dir


@pytest.fixture(scope="session")
def bench_inputs() -> dict[str, BenchInput]:
    """Every benchmark input by name, rendered into the cache on first use."""
    cache = Path(os.environ.get("SIGNATURE_ENGINE_BENCH_CACHE") or default_cache_dir())
    inputs = build_inputs(cache, real_dir=REALDATA if REALDATA.is_dir() else None)
    return {item.name: item for item in inputs}


@pytest.fixture(scope="session")
def recorded_steps():
    """Return ``record(item, backend)``: the replayable steps of one pipeline run, computed once."""
    from engine.bench.steps import record_steps

    cache = {}

    def record(item: BenchInput, backend: str):
        key = (item.name, backend)
        if key not in cache:
            cache[key] = record_steps(item.read_bytes(), backend)
        return cache[key]

    return record


@pytest.fixture(scope="session")
def recorded_ops(bench_inputs):
    """Backend calls of the OpenCV pipeline on the 12 MP JPEG: the arguments every op benchmark replays."""
    from engine.bench.steps import record_ops

    return record_ops(bench_inputs["jpeg-12mp"].read_bytes(), "opencv")
