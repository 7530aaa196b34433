"""Scores that compare an engine output with ground truth.

The binarisation scores follow the DIBCO contests (Document Image Binarization
Contest, ICDAR and ICFHR, 2009 onwards): F-measure, PSNR and the Distance
Reciprocal Distortion measure (DRD). Masks are ``(H, W)`` bool arrays with True
for ink, rows top to bottom; boxes are ``(x, y, width, height)`` in pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

__all__ = [
    "DRD_BLOCK_SIZE",
    "DRD_WINDOW",
    "angle_difference",
    "box_inside",
    "box_iou",
    "drd",
    "drd_weights",
    "f_measure",
    "mask_box",
    "percentile",
    "psnr",
]

# Size of the weight window (m) and of the blocks counted in NUBN, as set by
# Lu, Kot and Shi (2004) and used by every DIBCO since 2011.
DRD_WINDOW = 5
DRD_BLOCK_SIZE = 8

Box = Sequence[int]


def _check_pair(prediction: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    prediction = np.asarray(prediction, dtype=bool)
    truth = np.asarray(truth, dtype=bool)
    if prediction.shape != truth.shape or prediction.ndim != 2:
        raise ValueError(
            f"masks must be 2-D and of equal shape, got {prediction.shape} and {truth.shape}"
        )
    return prediction, truth


def f_measure(prediction: np.ndarray, truth: np.ndarray) -> float:
    """Compute the F-measure of an ink mask, in percent.

    ``FM = 2 * recall * precision / (recall + precision)`` with
    ``recall = TP / (TP + FN)`` and ``precision = TP / (TP + FP)``, where a
    positive is an ink pixel.

    Parameters
    ----------
    prediction, truth : ndarray
        ``(H, W)`` bool masks, True for ink.

    Returns
    -------
    float
        F-measure in [0, 100]. 100.0 when both masks are empty (nothing to find,
        nothing found), 0.0 when only one of them is empty.
    """
    prediction, truth = _check_pair(prediction, truth)
    true_positive = int(np.count_nonzero(prediction & truth))
    predicted = int(np.count_nonzero(prediction))
    actual = int(np.count_nonzero(truth))
    if predicted == 0 and actual == 0:
        return 100.0
    if true_positive == 0:
        return 0.0
    recall = true_positive / actual
    precision = true_positive / predicted
    return 100.0 * 2.0 * recall * precision / (recall + precision)


def psnr(prediction: np.ndarray, truth: np.ndarray) -> float:
    """Compute the peak signal-to-noise ratio of a binary image, in dB.

    ``PSNR = 10 log10(C^2 / MSE)`` where ``C = 1`` is the difference between ink
    and background and ``MSE`` is the fraction of pixels that differ.

    Parameters
    ----------
    prediction, truth : ndarray
        ``(H, W)`` bool masks, True for ink.

    Returns
    -------
    float
        PSNR in dB; ``inf`` when the masks are identical.
    """
    prediction, truth = _check_pair(prediction, truth)
    mse = np.count_nonzero(prediction != truth) / prediction.size
    if mse == 0:
        return math.inf
    return 10.0 * math.log10(1.0 / mse)


def drd_weights(size: int = DRD_WINDOW) -> np.ndarray:
    """Return the normalised reciprocal-distance weight matrix of the DRD measure.

    Each entry is ``1 / sqrt((i - c)^2 + (j - c)^2)`` for the distance of cell
    ``(i, j)`` to the centre ``c``, the centre itself is 0, and the matrix is
    divided by its sum (Lu, Kot and Shi, 2004).

    Returns
    -------
    ndarray
        ``(size, size)`` float64 weights summing to 1.
    """
    if size < 3 or size % 2 == 0:
        raise ValueError(f"invalid DRD window size {size}: expected an odd number >= 3")
    centre = size // 2
    rows, cols = np.mgrid[0:size, 0:size]
    distance = np.hypot(rows - centre, cols - centre)
    weights = np.zeros((size, size), dtype=np.float64)
    weights[distance > 0] = 1.0 / distance[distance > 0]
    return weights / weights.sum()


def _non_uniform_blocks(truth: np.ndarray, block: int) -> int:
    """Count the ``block x block`` tiles of ``truth`` that hold both ink and background.

    Tiles start at the top-left corner; the partial tiles along the right and
    bottom edges are counted like the others.
    """
    height, width = truth.shape
    rows = -(-height // block)
    cols = -(-width // block)
    padded_ink = np.zeros((rows * block, cols * block), dtype=np.int32)
    padded_ink[:height, :width] = truth
    valid = np.zeros_like(padded_ink)
    valid[:height, :width] = 1
    ink = padded_ink.reshape(rows, block, cols, block).sum(axis=(1, 3))
    size = valid.reshape(rows, block, cols, block).sum(axis=(1, 3))
    return int(np.count_nonzero((ink > 0) & (ink < size)))


def drd(prediction: np.ndarray, truth: np.ndarray) -> float:
    """Compute the Distance Reciprocal Distortion measure (DRD).

    For every pixel ``k`` where the prediction differs from the truth,
    ``DRD_k = sum over the 5 x 5 window around k of |truth(i, j) - prediction(k)| * W(i, j)``
    with ``W`` from :func:`drd_weights`. ``DRD = sum_k DRD_k / NUBN``, where NUBN is
    the number of 8 x 8 blocks of the truth that are neither all ink nor all
    background. Window cells outside the image count as 0 (they add nothing).

    Parameters
    ----------
    prediction, truth : ndarray
        ``(H, W)`` bool masks, True for ink.

    Returns
    -------
    float
        DRD, 0 for a perfect mask, lower is better. NaN when the truth has no
        non-uniform block (for instance a negative sample with no ink).

    References
    ----------
    H. Lu, A. C. Kot and Y. Q. Shi, "Distance-reciprocal distortion measure for
    binary document images", IEEE Signal Processing Letters 11(2), 2004, pp. 228-231.
    """
    prediction, truth = _check_pair(prediction, truth)
    blocks = _non_uniform_blocks(truth, DRD_BLOCK_SIZE)
    if blocks == 0:
        return math.nan
    flipped = prediction != truth
    if not flipped.any():
        return 0.0

    weights = drd_weights(DRD_WINDOW)
    truth_float = truth.astype(np.float64)
    # Distortion of a pixel predicted as ink: the weighted background around it;
    # of a pixel predicted as background: the weighted ink around it. Padding
    # with 0 after the subtraction makes outside cells add nothing to either map.
    distortion_if_ink = ndimage.correlate(1.0 - truth_float, weights, mode="constant", cval=0.0)
    distortion_if_background = ndimage.correlate(truth_float, weights, mode="constant", cval=0.0)

    total = distortion_if_ink[flipped & prediction].sum()
    total += distortion_if_background[flipped & ~prediction].sum()
    return float(total / blocks)


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Return the bounding box ``(x, y, width, height)`` of the True pixels, or None."""
    mask = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def box_iou(first: Box, second: Box) -> float:
    """Return the intersection over union of two ``(x, y, width, height)`` boxes, in [0, 1]."""
    ax, ay, aw, ah = first
    bx, by, bw, bh = second
    overlap_w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    overlap_h = max(0, min(ay + ah, by + bh) - max(ay, by))
    intersection = overlap_w * overlap_h
    union = aw * ah + bw * bh - intersection
    return intersection / union if union > 0 else 0.0


def box_inside(inner: Box, outer: Box, tolerance: int = 0) -> bool:
    """Tell whether ``inner`` lies inside ``outer`` grown by ``tolerance`` pixels on each side."""
    ix, iy, iw, ih = inner
    ox, oy, ow, oh = outer
    return (
        ix >= ox - tolerance
        and iy >= oy - tolerance
        and ix + iw <= ox + ow + tolerance
        and iy + ih <= oy + oh + tolerance
    )


def angle_difference(measured: float, truth: float) -> float:
    """Return ``|measured - truth|`` in degrees, wrapped to [0, 180]."""
    difference = (measured - truth + 180.0) % 360.0 - 180.0
    return abs(difference)


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (linear interpolation) of the finite values, NaN if none."""
    finite = [value for value in values if value is not None and math.isfinite(value)]
    if not finite:
        return math.nan
    return float(np.percentile(np.asarray(finite, dtype=np.float64), q))
