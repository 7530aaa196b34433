"""Running a method over a sample set and scoring each image against its ground truth.

One :class:`Run` contains a record per image (a flat dict of scores) and the summary
of the whole set and of each category. For signature sets the scores are:

- ``fm``, ``psnr``, ``drd``: the DIBCO scores of the ink mask over the whole
  upright frame (positives only; a rejected positive scores as an empty mask);
- ``skew_error``: the baseline angle left in the output, in degrees,
  ``|truth angle + applied rotation|``; ``angle_error``: ``|estimated - truth|``;
- ``iou``: crop box against the truth box; ``kept_whole``: the truth box lies
  inside the crop, allowing ``max(2 px, 1 % of the truth box's longer side)``;
- ``gate_correct``: a positive was accepted, a negative rejected (any code);
  ``code_match``: a rejection used the expected code;
- ``time_ms``: wall time of the method on the image, decoding included.

Binarisation sets get ``fm``, ``psnr``, ``drd`` and ``time_ms``.
"""

from __future__ import annotations

import io
import math
import sys
import traceback
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

from engine.evaluation.baselines import MethodSpec, Prediction, make_method, read_upright_rgb
from engine.evaluation.metrics import angle_difference, box_inside, box_iou, drd, f_measure, percentile, psnr
from samples.manifest import SampleSet, SetItem

__all__ = [
    "MISSED_INK_RGB",
    "FALSE_INK_RGB",
    "TRUE_INK_RGB",
    "Run",
    "evaluate_item",
    "evaluate_set",
    "summarize",
]

# Overlay colours: ink found where the truth has ink, ink the method missed, and
# ink the method invented.
TRUE_INK_RGB = (45, 45, 45)
MISSED_INK_RGB = (228, 26, 28)
FALSE_INK_RGB = (31, 120, 235)

THUMB_SIDE = 320
OVERLAY_SIDE = 520


@dataclass
class Run:
    """Scores of one method on one set."""

    method: MethodSpec
    set_name: str
    task: str
    records: list[dict[str, Any]]
    artifacts: dict[str, dict[str, bytes]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.method.label()

    def summary(self) -> dict[str, Any]:
        """Return ``{"overall": {...}, "categories": {name: {...}}}`` aggregates."""
        return summarize(self.records, self.task)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method.name,
            "params": self.method.params,
            "backend": self.method.backend,
            "summary": _json_safe(self.summary()),
            "items": _json_safe(self.records),
        }


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _fit(array: np.ndarray, side: int) -> np.ndarray:
    height, width = array.shape[:2]
    factor = side / max(height, width)
    if factor >= 1.0:
        return array
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA)


def _checkerboard(height: int, width: int, cell: int = 8) -> np.ndarray:
    rows = (np.arange(height) // cell)[:, None]
    cols = (np.arange(width) // cell)[None, :]
    tone = np.where((rows + cols) % 2 == 0, 236, 206).astype(np.float32)
    return np.repeat(tone[..., None], 3, axis=2)


def _output_picture(output: np.ndarray | None) -> np.ndarray | None:
    if output is None or output.size == 0:
        return None
    if output.dtype == bool:
        return np.where(output, 0, 255).astype(np.uint8)
    if output.ndim == 3 and output.shape[2] == 4:
        # Show transparency over a checkerboard.
        small = _fit(output, THUMB_SIDE).astype(np.float32)
        alpha = small[..., 3:4] / 255.0
        board = _checkerboard(*small.shape[:2])
        return (small[..., :3] * alpha + board * (1.0 - alpha)).astype(np.uint8)
    return output


def overlay_picture(
    prediction: np.ndarray | None, truth: np.ndarray, region: tuple[int, int, int, int] | None
) -> np.ndarray | None:
    """Colour ink found, missed and invented inside ``region`` of the frame.

    Returns an ``(h, w, 3)`` uint8 RGB picture on white, at most
    ``OVERLAY_SIDE`` pixels a side, or None when there is nothing to show.
    """
    if region is None:
        return None
    x, y, w, h = region
    truth_part = truth[y : y + h, x : x + w]
    predicted = (
        prediction[y : y + h, x : x + w] if prediction is not None else np.zeros_like(truth_part)
    )
    classes = [
        (predicted & truth_part, TRUE_INK_RGB),
        (predicted & ~truth_part, FALSE_INK_RGB),
        (~predicted & truth_part, MISSED_INK_RGB),
    ]
    height, width = truth_part.shape
    factor = min(1.0, OVERLAY_SIDE / max(height, width))
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    # Share of each class under every output pixel. The colour mixes the classes
    # by share, and the ink coverage is boosted so thin strokes stay visible
    # after the reduction.
    shares = [cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) for mask, _ in classes]
    coverage = np.sum(shares, axis=0)
    mixed = sum(share[..., None] * np.array(color, np.float32) for share, (_, color) in zip(shares, classes))
    tint = mixed / np.maximum(coverage, 1e-6)[..., None]
    alpha = np.clip(coverage * (1.0 / factor if factor < 1.0 else 1.0), 0.0, 1.0)[..., None]
    return (255.0 * (1.0 - alpha) + tint * alpha).round().astype(np.uint8)


def _union_region(
    boxes: Iterable[tuple[int, int, int, int] | None], shape: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    present = [box for box in boxes if box is not None]
    if not present:
        return None
    x1 = min(box[0] for box in present)
    y1 = min(box[1] for box in present)
    x2 = max(box[0] + box[2] for box in present)
    y2 = max(box[1] + box[3] for box in present)
    margin = int(0.04 * max(x2 - x1, y2 - y1)) + 4
    height, width = shape
    x1, y1 = max(0, x1 - margin), max(0, y1 - margin)
    x2, y2 = min(width, x2 + margin), min(height, y2 + margin)
    return x1, y1, x2 - x1, y2 - y1


def _score_signature(item: SetItem, prediction: Prediction, truth: np.ndarray | None) -> dict[str, Any]:
    positive = not item.is_negative
    outcome = "accept" if prediction.accepted else "reject"
    record: dict[str, Any] = {
        "outcome": outcome,
        "code": prediction.code,
        "gate_correct": prediction.accepted == positive,
        "code_match": (prediction.code == item.expected.code) if not positive and not prediction.accepted else None,
        "warnings": prediction.warnings,
        "crop_box": list(prediction.crop_box) if prediction.crop_box else None,
        "box_truth": list(item.box) if item.box else None,
        "angle_truth": item.angle,
        "angle_estimated": prediction.angle_estimated,
        "angle_applied": prediction.angle_applied if prediction.accepted else None,
    }
    if not positive or truth is None:
        return record

    predicted = prediction.mask if prediction.mask is not None else np.zeros_like(truth)
    if predicted.shape != truth.shape:
        raise ValueError(
            f"prediction is {predicted.shape[1]}x{predicted.shape[0]} but the truth is "
            f"{truth.shape[1]}x{truth.shape[0]}: the image and its mask disagree"
        )
    record.update(fm=f_measure(predicted, truth), psnr=psnr(predicted, truth), drd=drd(predicted, truth))
    if prediction.accepted and item.box is not None and prediction.crop_box is not None:
        record["iou"] = box_iou(prediction.crop_box, item.box)
        tolerance = max(2, int(round(0.01 * max(item.box[2], item.box[3]))))
        record["kept_whole"] = box_inside(item.box, prediction.crop_box, tolerance)
    else:
        record["iou"] = 0.0
        record["kept_whole"] = False
    if prediction.accepted and item.angle is not None:
        record["skew_error"] = angle_difference(item.angle + prediction.angle_applied, 0.0)
        if prediction.angle_estimated is not None:
            record["angle_error"] = angle_difference(prediction.angle_estimated, item.angle)
    return record


def evaluate_item(
    item: SetItem,
    task: str,
    method: Any,
    *,
    artifacts: bool = False,
) -> tuple[dict[str, Any], dict[str, bytes] | None]:
    """Run ``method`` on one item and score it.

    Parameters
    ----------
    item : SetItem
    task : {"signature", "binarization"}
    method : callable
        As returned by :func:`~engine.evaluation.baselines.make_method`.
    artifacts : bool
        Also return PNG thumbnails (``input``, ``output``, ``overlay``) for the report.

    Returns
    -------
    record : dict
        The scores; an ``error`` key contains the message of an unexpected failure.
    pictures : dict or None
    """
    record: dict[str, Any] = {
        "id": item.id,
        "categories": list(item.categories),
        "expected": item.expected.outcome,
        "expected_code": item.expected.code,
    }
    pictures: dict[str, bytes] | None = None
    try:
        prediction = method(item, task)
        truth = item.read_mask()
        record["time_ms"] = prediction.seconds * 1000.0
        if task == "binarization":
            assert truth is not None and prediction.mask is not None
            record.update(
                fm=f_measure(prediction.mask, truth),
                psnr=psnr(prediction.mask, truth),
                drd=drd(prediction.mask, truth),
            )
        else:
            record.update(_score_signature(item, prediction, truth))
        if artifacts:
            pictures = _pictures(item, task, prediction, truth)
    except Exception as error:  # noqa: BLE001 - one bad image must not end the run
        record["error"] = f"{type(error).__name__}: {error}"
        record["traceback"] = traceback.format_exc(limit=6)
        record["gate_correct"] = False
    return record, pictures


def _pictures(
    item: SetItem, task: str, prediction: Prediction, truth: np.ndarray | None
) -> dict[str, bytes]:
    rgb = read_upright_rgb(item.read_image())
    pictures = {"input": _png(_fit(rgb, THUMB_SIDE))}
    output = _output_picture(prediction.output)
    if output is not None:
        pictures["output"] = _png(_fit(output, THUMB_SIDE))
    if truth is not None:
        if task == "binarization":
            region = (0, 0, truth.shape[1], truth.shape[0])
        else:
            region = _union_region([item.box, prediction.crop_box], truth.shape)
        overlay = overlay_picture(prediction.mask, truth, region)
        if overlay is not None:
            pictures["overlay"] = _png(overlay)
    return pictures


_WORKER: dict[str, Any] = {}


def _worker_init(spec: MethodSpec) -> None:
    _WORKER["method"] = make_method(spec)


def _worker_run(task: tuple[SetItem, str, bool]) -> tuple[dict[str, Any], dict[str, bytes] | None]:
    item, kind, artifacts = task
    return evaluate_item(item, kind, _WORKER["method"], artifacts=artifacts)


def evaluate_set(
    sample_set: SampleSet,
    spec: MethodSpec,
    *,
    items: Sequence[SetItem] | None = None,
    jobs: int = 1,
    artifacts: bool = False,
    progress: bool = True,
) -> Run:
    """Run ``spec`` on every item of ``sample_set`` (or on ``items``) and score the outputs.

    Parameters
    ----------
    sample_set : SampleSet
    spec : MethodSpec
    items : sequence of SetItem, optional
        A subset to run, such as the items whose files are present.
    jobs : int
        Worker processes; 1 runs in this process.
    artifacts : bool
        Keep thumbnails for the HTML report.
    progress : bool
        Show a tqdm progress bar on stderr.
    """
    chosen = list(sample_set.items if items is None else items)
    bar = tqdm(
        total=len(chosen),
        desc=f"{spec.label()} on {sample_set.name}",
        unit="image",
        file=sys.stderr,
        disable=not progress,
    )
    run = Run(method=spec, set_name=sample_set.name, task=sample_set.task, records=[])
    tasks = [(item, sample_set.task, artifacts) for item in chosen]
    if jobs > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(spec,)) as pool:
            results = pool.map(_worker_run, tasks)
            for record, pictures in results:
                _collect(run, record, pictures)
                bar.update()
    else:
        method = make_method(spec)
        for item, kind, keep in tasks:
            record, pictures = evaluate_item(item, kind, method, artifacts=keep)
            _collect(run, record, pictures)
            bar.update()
    bar.close()
    return run


def _collect(run: Run, record: dict[str, Any], pictures: dict[str, bytes] | None) -> None:
    run.records.append(record)
    if pictures:
        run.artifacts[record["id"]] = pictures


def _mean(values: list[float]) -> float:
    finite = [value for value in values if value is not None and math.isfinite(value)]
    return float(np.mean(finite)) if finite else math.nan


def _group_summary(records: list[dict[str, Any]], task: str) -> dict[str, Any]:
    def values(key: str) -> list[float]:
        return [float(r[key]) for r in records if r.get(key) is not None]

    psnr_values = values("psnr")
    times = values("time_ms")
    summary: dict[str, Any] = {
        "n": len(records),
        "errors": sum(1 for r in records if "error" in r),
        "fm": _mean(values("fm")),
        "psnr": _mean(psnr_values),
        "psnr_perfect": sum(1 for v in psnr_values if math.isinf(v)),
        "drd": _mean(values("drd")),
        "time_ms": _mean(times),
        "time_p95_ms": percentile(times, 95),
    }
    if task == "binarization":
        return summary

    skew = values("skew_error")
    kept = [r["kept_whole"] for r in records if r.get("kept_whole") is not None]
    gate = [r.get("gate_correct", False) for r in records]
    negatives = [r for r in records if r.get("expected") == "reject"]
    summary.update(
        n_positive=len(records) - len(negatives),
        n_negative=len(negatives),
        skew_mean=_mean(skew),
        skew_p95=percentile(skew, 95),
        skew_max=max(skew) if skew else math.nan,
        angle_error_mean=_mean(values("angle_error")),
        iou=_mean(values("iou")),
        kept_whole=float(np.mean(kept)) if kept else math.nan,
        gate_accuracy=float(np.mean(gate)) if gate else math.nan,
        negatives_rejected=(
            float(np.mean([r.get("outcome") == "reject" for r in negatives])) if negatives else math.nan
        ),
    )
    return summary


def summarize(records: list[dict[str, Any]], task: str) -> dict[str, Any]:
    """Aggregate per-image records over the whole set and per category.

    Means skip missing and non-finite values (a perfect PSNR is infinite and is
    counted in ``psnr_perfect`` instead).
    """
    categories: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        for category in record.get("categories", []):
            categories.setdefault(category, []).append(record)
    return {
        "overall": _group_summary(records, task),
        "categories": {name: _group_summary(group, task) for name, group in sorted(categories.items())},
    }


def _json_safe(value: Any) -> Any:
    """Replace NaN and infinities (invalid in JSON) by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value
