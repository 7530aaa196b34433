"""Each backend operation on the largest arguments it gets in the 12 MP JPEG run, per backend.

Grouped by operation (``op resize`` ...), so the group table compares the
backends on identical arrays. Outputs are checked against the OpenCV backend's
after timing, with the tolerances of ``tests/test_backends/test_ops_parity.py``
loosened to shapes for the operations whose tolerance is not exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from bench_support import BACKENDS

from backends import get_backend
from engine.bench.steps import OP_NAMES

ROUNDS = 7
EXACT = {"rgb_to_gray", "gaussian_blur", "dilate", "erode", "otsu_threshold"}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", OP_NAMES)
def test_op(benchmark, recorded_ops, bench_inputs, op, backend):
    if op not in recorded_ops.largest:
        pytest.skip(f"the pipeline did not call {op} on this input")
    args, kwargs = recorded_ops.largest[op]
    method = getattr(get_backend(backend), op)
    benchmark.group = f"op {op}"
    first = np.asarray(args[0]) if args else np.empty(0)
    benchmark.extra_info.update(
        {"backend": backend, "step": f"op {op}", "input": "jpeg-12mp", "array_shape": list(first.shape),
         "array_dtype": str(first.dtype), "calls_per_run": recorded_ops.calls[op]}
    )

    output = benchmark.pedantic(method, args=args, kwargs=kwargs, rounds=ROUNDS, iterations=1, warmup_rounds=1)

    expected = getattr(get_backend("opencv"), op)(*args, **kwargs)
    if op == "connected_components":
        assert output.count == expected.count
    elif op in EXACT:
        assert np.array_equal(np.asarray(output), np.asarray(expected))
    else:
        assert np.asarray(output).shape == np.asarray(expected).shape
