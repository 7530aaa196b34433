"""Comparing an evaluation with a saved one and flagging regressions.

A regression is a change for the worse larger than the threshold of its metric.
Thresholds are absolute, in the metric's own unit:

========================  =========  ==========  ===================================
metric                    overall    category    unit
========================  =========  ==========  ===================================
``fm`` drop               1.0        3.0         F-measure points (percent)
``psnr`` drop             0.5        1.0         dB
``drd`` rise              0.5        1.0         DRD
``skew_mean`` rise        0.5        1.0         degrees
``skew_p95`` rise         1.0        2.0         degrees
``iou`` drop              0.02       0.05        intersection over union
``kept_whole`` drop       any        any         fraction of positives
``gate_accuracy`` drop    any        any         fraction of images
========================  =========  ==========  ===================================

Categories with fewer than 3 images are not compared (one image swings their
means too much). Per image, a regression is: the truth box no longer inside the
crop, the quality gate now wrong, or an F-measure drop over 10 points. Time per
image only gives a warning when it grows by more than half, because wall time
varies between machines and runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CATEGORY_THRESHOLDS",
    "ITEM_FM_DROP",
    "MIN_CATEGORY_SIZE",
    "OVERALL_THRESHOLDS",
    "TIME_WARNING_RATIO",
    "Finding",
    "compare_documents",
]

# metric -> (direction, threshold): "drop" means lower is worse.
OVERALL_THRESHOLDS: dict[str, tuple[str, float]] = {
    "fm": ("drop", 1.0),
    "psnr": ("drop", 0.5),
    "drd": ("rise", 0.5),
    "skew_mean": ("rise", 0.5),
    "skew_p95": ("rise", 1.0),
    "iou": ("drop", 0.02),
    "kept_whole": ("drop", 0.0),
    "gate_accuracy": ("drop", 0.0),
}
CATEGORY_THRESHOLDS: dict[str, tuple[str, float]] = {
    "fm": ("drop", 3.0),
    "psnr": ("drop", 1.0),
    "drd": ("rise", 1.0),
    "skew_mean": ("rise", 1.0),
    "skew_p95": ("rise", 2.0),
    "iou": ("drop", 0.05),
    "kept_whole": ("drop", 0.0),
    "gate_accuracy": ("drop", 0.0),
}
MIN_CATEGORY_SIZE = 3
ITEM_FM_DROP = 10.0
TIME_WARNING_RATIO = 1.5
# Differences below this are rounding, not change.
_EPSILON = 1e-9


@dataclass(frozen=True)
class Finding:
    """One difference between two evaluations."""

    level: str  # "regression" or "warning"
    method: str
    scope: str  # "overall", "category NAME" or "image ID"
    metric: str
    before: Any
    after: Any
    threshold: float | None = None

    def __str__(self) -> str:
        limit = "" if self.threshold is None else f" (threshold {self.threshold:g})"
        return (
            f"{self.level.upper()}: {self.method}, {self.scope}: {self.metric} "
            f"{_show(self.before)} -> {_show(self.after)}{limit}"
        )


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _worse(direction: str, before: float, after: float, threshold: float) -> bool:
    change = before - after if direction == "drop" else after - before
    return change > threshold + _EPSILON


def _compare_summary(
    method: str,
    scope: str,
    before: dict[str, Any],
    after: dict[str, Any],
    thresholds: dict[str, tuple[str, float]],
) -> list[Finding]:
    findings = []
    for metric, (direction, threshold) in thresholds.items():
        old, new = before.get(metric), after.get(metric)
        if old is None or new is None or not math.isfinite(old) or not math.isfinite(new):
            continue
        if _worse(direction, float(old), float(new), threshold):
            findings.append(Finding("regression", method, scope, metric, old, new, threshold))
    old_time, new_time = before.get("time_ms"), after.get("time_ms")
    if scope == "overall" and old_time and new_time and new_time > TIME_WARNING_RATIO * old_time:
        findings.append(Finding("warning", method, scope, "time_ms", old_time, new_time, TIME_WARNING_RATIO))
    return findings


def _compare_items(method: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Finding]:
    findings = []
    old_by_id = {record["id"]: record for record in before}
    for record in after:
        old = old_by_id.get(record["id"])
        if old is None:
            continue
        scope = f"image {record['id']}"
        for flag in ("kept_whole", "gate_correct"):
            if old.get(flag) is True and record.get(flag) is False:
                findings.append(Finding("regression", method, scope, flag, True, False))
        old_fm, new_fm = old.get("fm"), record.get("fm")
        if old_fm is not None and new_fm is not None and old_fm - new_fm > ITEM_FM_DROP:
            findings.append(Finding("regression", method, scope, "fm", old_fm, new_fm, ITEM_FM_DROP))
        if "error" in record and "error" not in old:
            findings.append(Finding("regression", method, scope, "error", None, record["error"]))
    return findings


def compare_documents(baseline: dict[str, Any], current: dict[str, Any]) -> list[Finding]:
    """Compare two evaluation documents (as written by ``evaluate --json``).

    Runs are matched by method name; a method missing from the baseline gives a
    warning. Returns regressions first, then warnings.
    """
    findings: list[Finding] = []
    old_runs = {run["method"]: run for run in baseline.get("runs", [])}
    for run in current.get("runs", []):
        method = run["method"]
        old = old_runs.get(method)
        if old is None:
            findings.append(Finding("warning", method, "overall", "run", "absent", "present"))
            continue
        findings += _compare_summary(
            method, "overall", old["summary"]["overall"], run["summary"]["overall"], OVERALL_THRESHOLDS
        )
        old_categories = old["summary"].get("categories", {})
        for name, summary in run["summary"].get("categories", {}).items():
            previous = old_categories.get(name)
            if previous is None or min(previous.get("n", 0), summary.get("n", 0)) < MIN_CATEGORY_SIZE:
                continue
            findings += _compare_summary(method, f"category {name}", previous, summary, CATEGORY_THRESHOLDS)
        findings += _compare_items(method, old.get("items", []), run.get("items", []))
    findings.sort(key=lambda finding: finding.level != "regression")
    return findings
