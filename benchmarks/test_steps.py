"""Each pipeline step on its own, per backend, grouped by step and input.

The steps replay the arguments recorded from a real run of the same backend
(see :mod:`engine.bench.steps`). Each replay's output is checked against that
run after timing.
"""

from __future__ import annotations

import pytest
from bench_support import BACKENDS, SYNTHETIC_NAMES, describe

from engine.bench.steps import STEP_NAMES

ROUNDS = 5


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("step", STEP_NAMES)
@pytest.mark.parametrize("name", SYNTHETIC_NAMES)
def test_step(benchmark, bench_inputs, recorded_steps, name, step, backend):
    item = bench_inputs[name]
    run = recorded_steps(item, backend)
    benchmark.group = f"step {step} {name}"
    describe(benchmark, item, backend=backend, step=step)

    output = benchmark.pedantic(run.steps[step], rounds=ROUNDS, iterations=1, warmup_rounds=1)

    result = run.result
    if step == "decode":
        assert max(output.shape[:2]) <= result.params["analysis_long_side"]
    elif step == "decode_region":
        assert output.ndim == 3
        assert output.size > 0
    elif step == "detect":
        assert output.box is not None
    elif step == "deskew":
        assert round(output.angle, 2) == round(result.angle_estimated, 2)
    elif step == "binarize":
        assert output[0].any()
    else:
        assert output == result.image_bytes
