"""Baseline angle estimation by projection profiles.

For each candidate angle the ink pixels are projected across the would-be
baseline; the angle whose profile is sharpest (largest sum of squared bin counts)
is the baseline's. A slanted handwriting style shears strokes along the baseline,
which does not change that projection, so slant is never "corrected".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from backends.base import Backend
from engine.params import Params

__all__ = ["AngleEstimate", "estimate_angle"]

_MAX_POINTS = 40_000
# Confidence compares the profile at the best angle with the profile this many
# degrees away on each side: a line-like signature loses sharpness fast, a round
# blob of ink does not.
_CONFIDENCE_OFFSET = 6.0


@dataclass(frozen=True)
class AngleEstimate:
    """A baseline angle in degrees, counter-clockwise positive as seen on screen, and its confidence in [0, 1].

    ``sideways`` is True when the writing seems to run down the photo (a
    quarter turn); the pipeline then warns with ``rotated_photo`` and turns nothing.
    """

    angle: float
    confidence: float
    sideways: bool = False


def _sharpness(xs: np.ndarray, ys: np.ndarray, angle: float, bin_size: float) -> float:
    theta = math.radians(angle)
    # With y pointing down, a baseline rising to the right by `angle` keeps
    # x*sin + y*cos constant along it.
    across = xs * math.sin(theta) + ys * math.cos(theta)
    bins = np.floor((across - across.min()) / bin_size).astype(np.int64)
    counts = np.bincount(bins).astype(np.float64)
    return float((counts**2).sum()) / float(xs.size) ** 2


def _without_underlines(mask: np.ndarray, backend: Backend) -> np.ndarray:
    """Drop long flat components (underlines, flourishes) that would outweigh the letters' baseline."""
    components = backend.connected_components(mask)
    stats = components.stats
    width, height, area = stats[:, 2], stats[:, 3], stats[:, 4]
    flat = (width >= 4 * height) & (area <= 0.25 * width * height)
    flat[0] = False
    if not flat.any():
        return mask
    letters = ~flat
    letters[0] = False
    if area[letters].sum() < 0.3 * area[1:].sum():
        return mask
    return (letters[components.labels]).view(np.uint8)


def estimate_angle(mask: np.ndarray, params: Params, backend: Backend) -> AngleEstimate:
    """Estimate the baseline angle of the ink in ``mask``.

    Separate underlines are left out of the measure: they are often drawn at an
    angle to the writing, and being long and straight they would decide it alone.

    Parameters
    ----------
    mask : ndarray
        ``(h, w)`` mask of the signature's ink (nonzero is ink), analysis scale.

    Returns
    -------
    AngleEstimate
        The angle lies within ``±params.deskew_max_angle``; confidence is 0 when
        there is too little ink to tell.
    """
    ys, xs = np.nonzero(_without_underlines(mask, backend))
    if xs.size < 30:
        return AngleEstimate(0.0, 0.0)
    step = max(1, xs.size // _MAX_POINTS)
    xs = xs[::step].astype(np.float64)
    ys = ys[::step].astype(np.float64)
    xs -= xs.mean()
    ys -= ys.mean()
    height = ys.max() - ys.min() + 1
    bin_size = max(1.0, height / 60.0)

    limit = params.deskew_max_angle
    coarse = np.arange(-limit, limit + 1e-9, 1.0)
    scores = np.array([_sharpness(xs, ys, a, bin_size) for a in coarse])
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 1.0, best + 1.0 + 1e-9, 0.1)
    fine = fine[np.abs(fine) <= limit]
    fine_scores = np.array([_sharpness(xs, ys, a, bin_size) for a in fine])
    best = float(fine[int(np.argmax(fine_scores))])
    best_score = float(fine_scores.max())

    neighbours = [
        _sharpness(xs, ys, best - _CONFIDENCE_OFFSET, bin_size),
        _sharpness(xs, ys, best + _CONFIDENCE_OFFSET, bin_size),
    ]
    drop = 1.0 - max(neighbours) / best_score
    confidence = float(np.clip(drop * 5.0, 0.0, 1.0))
    if abs(best) >= limit - 0.5:
        # The sharpest profile sits on the edge of the search: the true peak
        # may lie outside it, so the measure says nothing.
        confidence = 0.0

    # NOTE: only quarter turns are detected. Ink above and below the letters'
    # band did not tell upside-down photos from upright ones with flourishes.
    return AngleEstimate(round(best, 2), round(confidence, 3), _runs_vertically(mask, backend))


def _runs_vertically(mask: np.ndarray, backend: Backend) -> bool:
    """Tell whether the writing runs down the photo instead of across it.

    Letters and words follow one another along the line of writing. When the
    larger pieces of ink are spread out far more from top to bottom than from
    left to right, the photo was taken a quarter turn off. A single connected
    piece counts only when it is much taller than wide: tall initials written
    side by side stay upright.
    """
    components = backend.connected_components(mask)
    stats = components.stats[1:]
    if stats.size == 0:
        return False
    width = float((stats[:, 0] + stats[:, 2]).max() - stats[:, 0].min())
    height = float((stats[:, 1] + stats[:, 3]).max() - stats[:, 1].min())
    if height < 1.2 * width:
        return False
    pieces = stats[stats[:, 4] >= 0.05 * stats[:, 4].max()]
    if len(pieces) < 3:
        return height > 2.5 * width
    # The principal axis of the pieces' centres, weighted by their ink, is the
    # line of writing: vertical and clearly elongated means a quarter turn.
    centres = np.stack([pieces[:, 0] + pieces[:, 2] / 2.0, pieces[:, 1] + pieces[:, 3] / 2.0], axis=1)
    weights = pieces[:, 4].astype(np.float64)
    mean = (centres * weights[:, None]).sum(axis=0) / weights.sum()
    offsets = centres - mean
    covariance = (offsets * weights[:, None]).T @ offsets / weights.sum()
    values, vectors = np.linalg.eigh(covariance)
    major = vectors[:, 1]
    elongated = values[1] > 2.0 * max(values[0], 1e-9)
    return bool(elongated and abs(major[1]) > math.cos(math.radians(35.0)))
