"""Replay each step of :func:`engine.process` on its own, with the arguments of a real run.

:func:`record_steps` runs the pipeline once while recording the arguments of
the step functions it calls (looked up by name in :mod:`engine.pipeline`),
then returns one zero-argument callable per step. Because the arguments come
from the pipeline itself, the replay follows the pipeline as it changes; a
renamed step function makes :func:`record_steps` raise instead of timing the
wrong thing.

Steps, in pipeline order:

``decode``
    Header checks and the reduced analysis copy (``open_upload`` then the
    pipeline's ``_analysis_copy``), from the bytes each time.
``decode_region``
    The full-resolution decode of the crop box, from the bytes each time.
``detect``, ``deskew``, ``binarize``
    ``detect_ink``, ``estimate_angle``, ``binarize_region``.
``render``
    ``rotate_stroke``, ``trim``, ``center_on_canvas`` and ``encode_png``.

The pipeline's own ``timings_ms`` splits the time differently: its
``binarize`` includes ``decode_region`` and the resampling of the paper
estimate and gate to full resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

__all__ = ["OP_NAMES", "RecordedOps", "RecordedRun", "STEP_NAMES", "record_ops", "record_steps"]

STEP_NAMES = ("decode", "decode_region", "detect", "deskew", "binarize", "render")

# The Backend methods whose calls record_ops times and keeps.
OP_NAMES = (
    "rgb_to_gray",
    "resize",
    "gaussian_blur",
    "dilate",
    "erode",
    "connected_components",
    "distance_transform",
    "otsu_threshold",
    "rotate",
)

# Functions of engine.pipeline whose calls are recorded.
_RECORDED = ("detect_ink", "estimate_angle", "binarize_region", "rotate_stroke", "trim", "center_on_canvas", "encode_png")


@dataclass
class RecordedRun:
    """The result of the recorded run and one replay callable per step."""

    result: Any
    steps: dict[str, Callable[[], Any]] = field(default_factory=dict)


@contextmanager
def _recording(module, names: tuple[str, ...]) -> Iterator[dict[str, list]]:
    calls: dict[str, list] = {name: [] for name in names}
    originals = {}
    for name in names:
        original = getattr(module, name, None)
        if original is None:
            raise RuntimeError(f"engine.pipeline has no {name!r}: update engine.bench.steps to the new pipeline")
        originals[name] = original

        def wrapper(*args, _name=name, _original=original, **kwargs):
            calls[_name].append((args, kwargs))
            return _original(*args, **kwargs)

        setattr(module, name, wrapper)
    try:
        yield calls
    finally:
        for name, original in originals.items():
            setattr(module, name, original)


def record_steps(data: bytes, backend: Any = None, params: Any = None) -> RecordedRun:
    """Run the pipeline on ``data`` once and return replayable steps.

    Parameters
    ----------
    data : bytes
        An accepted upload; a rejected one raises the engine's typed error.
    backend, params
        As for :func:`engine.process`.
    """
    import engine.pipeline as pipeline
    from engine.decode import Limits, Upload, open_upload
    from engine.params import resolve_params

    backend = pipeline.get_backend(backend)
    params = resolve_params(params)
    boxes: list[tuple] = []
    original_region = Upload.decode_region

    def recording_region(self, box, **kwargs):
        boxes.append((tuple(box), kwargs))
        return original_region(self, box, **kwargs)

    Upload.decode_region = recording_region
    try:
        with _recording(pipeline, _RECORDED) as calls:
            result = pipeline.process(data, backend=backend, params=params)
    finally:
        Upload.decode_region = original_region

    missing = [name for name in ("detect_ink", "estimate_angle", "binarize_region") if not calls[name]]
    if missing or not boxes:
        raise RuntimeError(f"the pipeline did not call {missing or ['decode_region']}; update engine.bench.steps")
    analysis_copy = getattr(pipeline, "_analysis_copy", None)
    if analysis_copy is None:
        raise RuntimeError("engine.pipeline has no _analysis_copy: update engine.bench.steps")

    def replay(name: str) -> Callable[[], Any]:
        args, kwargs = calls[name][0]
        function = getattr(pipeline, name)
        return lambda: function(*args, **kwargs)

    def render() -> Any:
        output = None
        for name in ("rotate_stroke", "trim", "center_on_canvas", "encode_png"):
            for args, kwargs in calls[name]:
                output = getattr(pipeline, name)(*args, **kwargs)
        return output

    region_box, region_kwargs = boxes[0]
    limits = Limits()
    steps = {
        "decode": lambda: analysis_copy(open_upload(data, limits), params, backend),
        "decode_region": lambda: open_upload(data, limits).decode_region(region_box, **region_kwargs),
        "detect": replay("detect_ink"),
        "deskew": replay("estimate_angle"),
        "binarize": replay("binarize_region"),
        "render": render,
    }
    return RecordedRun(result=result, steps=steps)


@dataclass
class RecordedOps:
    """Backend calls of one pipeline run: per operation, the number of calls, their total time, and the largest call.

    ``largest[op]`` is ``(args, kwargs)`` of the call whose first argument had
    the most elements, to replay with any backend.
    """

    calls: dict[str, int] = field(default_factory=dict)
    total_ms: dict[str, float] = field(default_factory=dict)
    largest: dict[str, tuple[tuple, dict]] = field(default_factory=dict)
    result: Any = None


def record_ops(data: bytes, backend: Any = None, params: Any = None) -> RecordedOps:
    """Run the pipeline once through a proxy that times every backend call, per operation."""
    import time

    import numpy as np

    import engine
    from backends import get_backend
    from backends.base import Backend

    inner = get_backend(backend)
    recorded = RecordedOps()
    sizes: dict[str, int] = {}

    class TimingProxy(Backend):
        name = inner.name

    def timed(op: str):
        method = getattr(inner, op)

        def call(self, *args, **kwargs):
            start = time.perf_counter()
            output = method(*args, **kwargs)
            recorded.total_ms[op] = recorded.total_ms.get(op, 0.0) + (time.perf_counter() - start) * 1000.0
            recorded.calls[op] = recorded.calls.get(op, 0) + 1
            size = int(np.asarray(args[0]).size) if args else 0
            if size >= sizes.get(op, -1):
                sizes[op] = size
                recorded.largest[op] = (args, kwargs)
            return output

        return call

    for op in OP_NAMES:
        setattr(TimingProxy, op, timed(op))
    TimingProxy.__abstractmethods__ = frozenset()
    recorded.result = engine.process(data, backend=TimingProxy(), params=params)
    return recorded
