"""Ink detection: paper removal, thresholding, and the separation of ink from what only looks dark.

Everything here runs on the analysis image, a reduced copy of the upright input
(see :mod:`engine.params`). Darkness is the paper-normalised value
``1 - pixel / paper`` per RGB channel, keeping the largest channel: 0 is paper,
1 is black. Dividing by a local paper estimate makes shadows and uneven light
vanish, and taking the darkest channel finds blue, green and red ink as well as
black.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import numpy as np

from backends.base import Backend
from engine.params import Params

__all__ = [
    "InkDetection",
    "adapt_background_kernel",
    "compute_darkness",
    "detect_ink",
    "estimate_paper",
    "hysteresis_threshold",
    "seed_thresholds",
]

logger = logging.getLogger(__name__)

# The paper is estimated on a copy this many times smaller than the analysis image:
# the paper varies slowly, and a smaller maximum filter is much cheaper.
_PAPER_REDUCTION = 4


@dataclass
class InkDetection:
    """Result of :func:`detect_ink` on the analysis image.

    Attributes
    ----------
    mask : ndarray
        ``(h, w)`` uint8 mask (0 or 255) of the signature's ink only.
    all_ink : ndarray
        ``(h, w)`` uint8 mask of every ink-like pixel before the signature was chosen.
    lines : ndarray
        ``(h, w)`` uint8 mask of the ruled, margin and grid lines that were removed.
    line_bands : ndarray
        ``(h, w)`` uint8 mask of those lines' pixels, crossing strokes included.
    paper : ndarray
        ``(h, w, 3)`` float32 paper estimate in sRGB units (0-255).
    darkness : ndarray
        ``(h, w)`` float32 normalised darkness.
    threshold, threshold_low : float
        Seed and hysteresis darkness thresholds actually used.
    box : tuple of int or None
        Bounding box ``(x, y, w, h)`` of ``mask``, None when no ink was kept.
    """

    mask: np.ndarray
    all_ink: np.ndarray
    lines: np.ndarray
    line_bands: np.ndarray
    paper: np.ndarray
    darkness: np.ndarray
    threshold: float
    threshold_low: float
    box: tuple[int, int, int, int] | None
    ruled_lines: int = 0
    line_darkness: float = 0.0
    grid_lines: int = 0
    sheet_found: bool = False
    text_components: int = 0
    stroke_components: int = 0
    blob_area_fraction: float = 0.0
    notes: dict[str, float] = field(default_factory=dict)


def estimate_paper(rgb: np.ndarray, params: Params, backend: Backend) -> np.ndarray:
    """Estimate the paper colour under the ink, per channel.

    A morphological closing (maximum then minimum filter) wider than any stroke
    removes the strokes and keeps the slow variations of light, then a Gaussian
    smooths the blocky result.

    Parameters
    ----------
    rgb : ndarray
        ``(h, w, 3)`` uint8 analysis image.

    Returns
    -------
    ndarray
        ``(h, w, 3)`` float32 paper estimate, at least 1.0 everywhere.
    """
    height, width = rgb.shape[:2]
    small_size = (max(1, width // _PAPER_REDUCTION), max(1, height // _PAPER_REDUCTION))
    small = backend.resize(rgb, small_size, "area")

    kernel = max(3, int(round(params.background_kernel / _PAPER_REDUCTION)) | 1)
    closed = backend.closing(small, (kernel, kernel))
    if params.background_blur > 0:
        closed = backend.gaussian_blur(closed, params.background_blur / _PAPER_REDUCTION + 0.5)

    paper = backend.resize(closed, (width, height), "linear").astype(np.float32)
    # The closing can only raise values; where the strokes were wider than the
    # kernel the estimate stays dark, which makes those pixels paper: a safe error.
    np.maximum(paper, rgb, out=paper, casting="unsafe")
    np.maximum(paper, 1.0, out=paper)
    return paper


def adapt_background_kernel(
    rgb: np.ndarray, params: Params, backend: Backend
) -> tuple[Params, np.ndarray, np.ndarray]:
    """Shrink the paper kernel to about four stroke widths, within ``[15, background_kernel]``.

    A kernel much wider than the strokes lets stains and bleed-through count as
    ink; one narrower than the strokes makes their cores paper. A first pass
    with the full kernel measures the stroke width: twice the 90th percentile
    of the ink pixels' distance to the paper.

    Returns the parameters with the chosen kernel, and the paper estimate and
    darkness made with it.
    """
    paper = estimate_paper(rgb, params, backend)
    darkness = compute_darkness(rgb, paper)
    high, low = seed_thresholds(darkness, params)
    mask = hysteresis_threshold(darkness, high, low, backend)
    if not mask.any():
        return params, paper, darkness
    distance = backend.distance_transform(mask)
    stroke_width = 2.0 * float(np.percentile(distance[mask > 0], 90))
    kernel = int(np.clip(round(4.0 * stroke_width) | 1, 15, params.background_kernel))
    if kernel == params.background_kernel:
        return params, paper, darkness
    params = dataclasses.replace(params, background_kernel=kernel)
    paper = estimate_paper(rgb, params, backend)
    return params, paper, compute_darkness(rgb, paper)


def compute_darkness(rgb: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Return the ``(h, w)`` float32 darkness ``max over channels of 1 - rgb / paper``, in [0, 1]."""
    # The darkest channel has the smallest ratio. Working one plane at a time
    # keeps two float32 planes instead of two 3-channel arrays, and a minimum of
    # planes is about 9 times faster than NumPy's reduction over a last axis of 3.
    darkness = rgb[..., 0].astype(np.float32)
    darkness /= paper[..., 0]
    for channel in (1, 2):
        ratio = rgb[..., channel].astype(np.float32)
        ratio /= paper[..., channel]
        np.minimum(darkness, ratio, out=darkness)
    np.subtract(np.float32(1.0), darkness, out=darkness)
    np.clip(darkness, 0.0, 1.0, out=darkness)
    return darkness


def seed_thresholds(darkness: np.ndarray, params: Params) -> tuple[float, float]:
    """Choose the seed and hysteresis thresholds from the parameters and the paper's noise.

    The paper's noise is the median absolute deviation of darkness over pixels
    that are clearly paper, scaled to a standard deviation (x 1.4826).
    """
    sample = darkness[::2, ::2]
    paper_pixels = sample[sample < params.ink_threshold_low]
    if paper_pixels.size < 100:
        paper_pixels = sample.ravel()
    median = float(np.median(paper_pixels))
    noise = 1.4826 * float(np.median(np.abs(paper_pixels - median)))
    high = max(params.ink_threshold, median + params.noise_factor * noise)
    low = max(params.ink_threshold_low, median + 0.5 * params.noise_factor * noise)
    return high, min(low, high)


def hysteresis_threshold(
    darkness: np.ndarray, high: float, low: float, backend: Backend, allowed: np.ndarray | None = None
) -> np.ndarray:
    """Keep the pixels above ``low`` that are connected to a pixel above ``high``.

    Returns a ``(h, w)`` uint8 mask, 0 or 255. ``allowed``, a mask of the same
    shape, limits where ink may be.
    """
    weak = darkness > low
    if allowed is not None:
        weak &= allowed > 0
    components = backend.connected_components(weak.view(np.uint8))
    strong = weak & (darkness > high)
    keep = np.zeros(components.count, dtype=bool)
    keep[components.labels[strong]] = True
    keep[0] = False
    return (keep[components.labels] * np.uint8(255)).astype(np.uint8)


def detect_ink(
    rgb: np.ndarray,
    params: Params,
    backend: Backend,
    *,
    region: tuple[int, int, int, int] | None = None,
    keep_all: bool = False,
) -> InkDetection:
    """Find the signature's ink on the analysis image.

    Parameters
    ----------
    rgb : ndarray
        ``(h, w, 3)`` uint8 analysis image, upright.
    region : tuple of int, optional
        ``(x, y, w, h)`` box the user chose; ink outside it is ignored.
    keep_all : bool
        Keep every stroke-like component instead of choosing the signature's
        cluster. Used inside a manual crop, where the user already chose.

    Returns
    -------
    InkDetection
        ``box`` is None when nothing ink-like remains.
    """
    from engine import layout

    params, paper, darkness = adapt_background_kernel(rgb, params, backend)
    high, low = seed_thresholds(darkness, params)

    allowed = np.full(darkness.shape, 255, dtype=np.uint8)
    sheet_found = False
    if region is not None:
        x, y, w, h = region
        allowed[:] = 0
        allowed[y : y + h, x : x + w] = 255
    else:
        sheet = layout.find_sheet(rgb, params, backend)
        if sheet is not None:
            sheet_found = True
            allowed = sheet

    ink = hysteresis_threshold(darkness, high, low, backend, allowed)
    lines, line_bands, ruled, grid = layout.remove_lines(
        ink, darkness, params, allowed if sheet_found else None
    )
    ink[lines > 0] = 0
    # The darker end of the removed lines: full-resolution pixels on a line
    # must be clearly darker than this to count as a crossing stroke.
    line_darkness = float(np.percentile(darkness[lines > 0], 75)) if lines.any() else 0.0

    detection = InkDetection(
        mask=ink,
        all_ink=ink.copy(),
        lines=lines,
        line_bands=line_bands,
        paper=paper,
        darkness=darkness,
        threshold=high,
        threshold_low=low,
        box=None,
        ruled_lines=ruled,
        grid_lines=grid,
        line_darkness=line_darkness,
        sheet_found=sheet_found,
    )
    layout.select_signature(detection, params, backend, keep_all=keep_all)
    logger.debug(
        "ink: thresholds %.3f/%.3f, sheet %s, %d ruled and %d grid lines, box %s",
        high, low, sheet_found, ruled, grid, detection.box,
    )
    return detection
