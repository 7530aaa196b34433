"""End to end, bytes in and PNG bytes out, per input and backend, beside the decode floor and the OpenCV recipe.

Each input is one pytest-benchmark group (``end-to-end jpeg-12mp`` ...), so the
group table shows the floor, the recipe and every backend side by side. Every
result is checked after timing.
"""

from __future__ import annotations

import pytest
from bench_support import BACKENDS, INPUT_NAMES, describe

import engine
from engine.bench.baselines import decode_floor_candidates, opencv_recipe
from engine.bench.runner import MIN_BOX_IOU, box_iou

ROUNDS = 5

FLOOR_METHODS = ["simplejpeg gray", "cv2 gray", "pillow", "pillow-heif rgb"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", INPUT_NAMES)
def test_process(benchmark, bench_inputs, name, backend):
    item = bench_inputs[name]
    data = item.read_bytes()
    benchmark.group = f"end-to-end {name}"
    describe(benchmark, item, backend=backend, step="end-to-end")

    result = benchmark.pedantic(engine.process, args=(data,), kwargs={"backend": backend},
                                rounds=ROUNDS, iterations=1, warmup_rounds=1)

    benchmark.extra_info["timings_ms"] = {step: round(ms, 2) for step, ms in result.timings_ms.items()}
    assert result.backend == backend
    assert result.image_bytes[:8] == b"\x89PNG\r\n\x1a\n"
    if item.truth_box is not None:
        iou = box_iou(result.crop_box.as_list(), item.truth_box)
        benchmark.extra_info["crop_iou"] = round(iou, 3)
        assert iou >= MIN_BOX_IOU


@pytest.mark.parametrize("method", FLOOR_METHODS)
@pytest.mark.parametrize("name", INPUT_NAMES)
def test_decode_floor(benchmark, bench_inputs, name, method):
    item = bench_inputs[name]
    decoders = decode_floor_candidates(item.read_bytes(), item.format)
    if method not in decoders:
        pytest.skip(f"{method} does not decode {item.format} or is not installed")
    benchmark.group = f"end-to-end {name}"
    describe(benchmark, item, backend=method, step="decode floor")

    pixels = benchmark.pedantic(decoders[method], rounds=ROUNDS, iterations=1, warmup_rounds=1)

    assert pixels.shape[:2] == (item.height, item.width)


@pytest.mark.parametrize("name", INPUT_NAMES)
def test_opencv_recipe(benchmark, bench_inputs, name):
    item = bench_inputs[name]
    if item.format == "HEIF":
        pytest.skip("OpenCV reads no HEIF")
    data = item.read_bytes()
    benchmark.group = f"end-to-end {name}"
    describe(benchmark, item, backend="opencv recipe", step="end-to-end")

    png, box = benchmark.pedantic(opencv_recipe, args=(data,), rounds=ROUNDS, iterations=1, warmup_rounds=1)

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert box[2] > 0
    assert box[3] > 0
