"""The sheet on a desk: where on the analysis image ink may be."""

from __future__ import annotations

import numpy as np

from backends.base import Backend
from engine.params import Params

__all__ = ["convex_hull_mask", "find_sheet"]

_SHEET_REDUCTION = 4
# A sheet edge is a step a pixel or two wide at 1/4 analysis scale; the soft edge
# of a shadow spreads over tens of pixels. The ratio of the edge gradient to the
# step's contrast tells them apart.
_MIN_EDGE_SHARPNESS = 0.12
# A grey desk has the paper's hue; only a crisp edge then tells it from a shadow.
_MIN_DESK_EDGE_SHARPNESS = 0.4


def find_sheet(rgb: np.ndarray, params: Params, backend: Backend) -> np.ndarray | None:
    """Find a bright sheet lying on a darker background (a desk, a scanner lid).

    Returns a ``(h, w)`` uint8 mask (255 inside the sheet, with a margin taken off
    its edges) or None when the photo shows no such sheet: the paper fills the
    frame, or the darker area is a soft shadow rather than a desk.
    """
    height, width = rgb.shape[:2]
    small_size = (max(1, width // _SHEET_REDUCTION), max(1, height // _SHEET_REDUCTION))
    coloured = _find_coloured_desk(rgb, small_size, backend)
    if coloured is not None:
        return _sheet_mask(~coloured, (width, height), params, backend)

    gray = backend.resize(backend.rgb_to_gray(rgb), small_size, "area")
    smooth = backend.gaussian_blur(gray, 1.5)

    threshold = backend.otsu_threshold(smooth)
    bright = smooth > threshold
    dark_fraction = 1.0 - float(bright.mean())
    if not 0.02 < dark_fraction < 0.8:
        return None
    paper_level = float(smooth[bright].mean())
    desk_level = float(smooth[~bright].mean())
    # Paper in a shadow keeps much of its brightness; a desk or scanner lid is
    # far darker than the sheet, or of another hue (checked below).
    if paper_level - desk_level < 35 or desk_level > 0.85 * paper_level:
        return None
    contrast = paper_level - desk_level

    components = backend.connected_components(bright.view(np.uint8))
    if components.count < 2:
        return None
    areas = components.stats[1:, 4]
    sheet_label = 1 + int(np.argmax(areas))
    if areas[sheet_label - 1] < 0.15 * bright.size:
        return None
    sheet = components.labels == sheet_label

    # Dark holes inside the sheet (ink, shadows) belong to the sheet.
    outside = backend.connected_components((~sheet).view(np.uint8))
    border_labels = np.unique(
        np.concatenate(
            [outside.labels[0], outside.labels[-1], outside.labels[:, 0], outside.labels[:, -1]]
        )
    )
    is_outside = np.zeros(outside.count, dtype=bool)
    is_outside[border_labels] = True
    is_outside[0] = False
    desk = is_outside[outside.labels]
    # A desk or scanner lid is a wide region; ink and ruled lines touching the
    # border are thin, and an opening wider than them removes them.
    width_px = max(3, int(round(0.03 * max(small_size))) | 1)
    desk = backend.opening(desk.view(np.uint8), (width_px, width_px)) > 0
    if desk.mean() < 0.08:
        return None
    border = np.concatenate([desk[0], desk[-1], desk[:, 0], desk[:, -1]])
    if border.mean() < 0.15:
        return None

    gy, gx = np.gradient(gray.astype(np.float32))
    gradient = np.hypot(gx, gy)
    edge = desk & (backend.dilate(sheet.view(np.uint8), (3, 3)) > 0)
    if edge.sum() < 10:
        return None
    # The steepest gradient near each edge pixel, so a one-pixel offset between
    # the Otsu boundary and the true edge does not matter.
    steepest = backend.dilate(gradient, (3, 3))
    sharpness = float(np.median(steepest[edge])) / contrast
    if sharpness < _MIN_EDGE_SHARPNESS:
        return None

    # Paper in a shadow keeps the paper's hue; a desk that is not very dark
    # must differ from the sheet in chromaticity too.
    small_rgb = backend.resize(rgb, small_size, "area").astype(np.float64)
    chroma = small_rgb / np.maximum(small_rgb.sum(axis=2, keepdims=True), 1.0)
    sheet_chroma = chroma[sheet].mean(axis=0)
    desk_chroma = chroma[desk].mean(axis=0)
    very_dark = desk_level < 0.35 * paper_level
    same_hue = float(np.abs(sheet_chroma - desk_chroma).max()) < 0.02
    if same_hue and (desk_level > 0.65 * paper_level or (
        not very_dark and sharpness < _MIN_DESK_EDGE_SHARPNESS
    )):
        return None

    # A shadow falling across the sheet's edge joins the desk in the dark
    # class; the sheet is the convex hull of its bright part.
    desk &= ~convex_hull_mask(sheet)

    return _sheet_mask(~desk, (width, height), params, backend)


def _sheet_mask(sheet: np.ndarray, size: tuple[int, int], params: Params, backend: Backend) -> np.ndarray:
    """Scale a small sheet mask to ``size`` and take a margin off its edges."""
    mask = sheet.view(np.uint8) * np.uint8(255)
    mask = backend.resize(mask, size, "nearest")
    margin = max(3, int(round(params.border_margin * max(size))))
    return backend.erode(mask, (2 * margin + 1, 2 * margin + 1))


def _find_coloured_desk(rgb: np.ndarray, small_size: tuple[int, int], backend: Backend) -> np.ndarray | None:
    """Find a desk by its colour: a wide region along the border, far more saturated than the paper.

    Paper is close to neutral even in a shadow, where a shadow can be as dark
    as a wooden desk; wood, cloth and most desk tops are clearly coloured.
    Returns the desk as a bool mask at ``small_size``, or None.
    """
    small = backend.gaussian_blur(backend.resize(rgb, small_size, "area"), 1.5).astype(np.float32)
    brightest = small.max(axis=2)
    saturation = (brightest - small.min(axis=2)) / np.maximum(brightest, 1.0)
    paper_saturation = float(np.median(saturation))
    coloured = saturation > max(0.2, paper_saturation + 0.15)

    width_px = max(3, int(round(0.03 * max(small_size))) | 1)
    coloured = backend.opening(coloured.view(np.uint8), (width_px, width_px)) > 0
    components = backend.connected_components(coloured.view(np.uint8))
    border_labels = np.unique(np.concatenate([
        components.labels[0], components.labels[-1], components.labels[:, 0], components.labels[:, -1]
    ]))
    desk = np.isin(components.labels, border_labels[border_labels > 0])
    if not 0.04 <= desk.mean() <= 0.8:
        return None
    return desk


def convex_hull_mask(region: np.ndarray) -> np.ndarray:
    """Return the ``(h, w)`` bool mask of the convex hull of the set pixels of ``region``."""
    from PIL import Image, ImageDraw

    ys, xs = np.nonzero(region)
    # The hull of a region is the hull of its row ends.
    if ys.size == 0:
        return region.astype(bool)
    starts = np.flatnonzero(np.r_[True, ys[1:] != ys[:-1]])
    rows = ys[starts]
    left = np.minimum.reduceat(xs, starts)
    right = np.maximum.reduceat(xs, starts)
    points = sorted(set(zip(np.concatenate([left, right]).tolist(), np.concatenate([rows, rows]).tolist())))
    if len(points) < 3:
        return region.astype(bool)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    # Andrew's monotone chain.
    lower: list = []
    for point in points:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], point) <= 0:
            lower.pop()
        lower.append(point)
    upper: list = []
    for point in reversed(points):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], point) <= 0:
            upper.pop()
        upper.append(point)
    hull = lower[:-1] + upper[:-1]

    canvas = Image.new("1", (region.shape[1], region.shape[0]), 0)
    ImageDraw.Draw(canvas).polygon(hull, fill=1, outline=1)
    return np.asarray(canvas, dtype=bool)
