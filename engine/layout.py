"""Page layout on the analysis image: the sheet on a desk, ruled lines, and which ink is the signature."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from backends.base import Backend
from engine.params import Params

if TYPE_CHECKING:
    from engine.ink import InkDetection

__all__ = ["find_sheet", "remove_lines", "select_signature"]

_SHEET_REDUCTION = 4
# A sheet edge is a step a pixel or two wide at 1/4 analysis scale; the soft edge
# of a shadow spreads over tens of pixels. The ratio of the edge gradient to the
# step's contrast tells them apart.
_MIN_EDGE_SHARPNESS = 0.12
# A grey desk has the paper's hue; only a crisp edge then tells it from a shadow.
_MIN_DESK_EDGE_SHARPNESS = 0.4
_LINE_ANGLES = np.arange(-30.0, 30.01, 1.0)
# Rounds of line search, each at the angle that fits the remaining points best.
_LINE_ROUNDS = 16
# Printed-text search compares every pair of pieces; pages beyond this are not searched.
_MAX_TEXT_PIECES = 6000
# Largest share of a line's columns that strokes may leave up or down.
_MAX_TOUCHED = 0.5
# Angles tried per round, strongest first, before the search gives up.
_ANGLES_TRIED = 6


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
    desk &= ~_convex_hull_mask(sheet)

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


def _convex_hull_mask(region: np.ndarray) -> np.ndarray:
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


def _line_angles_by_strength(along: np.ndarray, across: np.ndarray) -> list[float]:
    # Project the points across the lines at each candidate angle; the angles
    # whose fullest one-pixel band holds the most points come first.
    peaks = []
    for angle in _LINE_ANGLES:
        theta = math.radians(angle)
        positions = np.rint(across * math.cos(theta) - along * math.sin(theta)).astype(np.int64)
        peaks.append(int(np.bincount(positions - positions.min()).max()))
    order = np.argsort(peaks)[::-1]
    return [float(_LINE_ANGLES[i]) for i in order]


def _refine_line_angle(along: np.ndarray, across: np.ndarray, angle: float) -> float:
    best_angle, best_peak = angle, -1
    for candidate in np.arange(angle - 0.4, angle + 0.41, 0.05):
        theta = math.radians(candidate)
        positions = np.rint(across * math.cos(theta) - along * math.sin(theta)).astype(np.int64)
        peak = int(np.bincount(positions - positions.min()).max())
        if peak > best_peak:
            best_angle, best_peak = float(candidate), peak
    return best_angle


def _longest_run(columns: np.ndarray, max_gap: int) -> int:
    """Return the length of the longest run of sorted ``columns`` with no gap wider than ``max_gap``."""
    if columns.size == 0:
        return 0
    breaks = np.flatnonzero(np.diff(columns) > max_gap + 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [columns.size - 1]])
    return int((columns[ends] - columns[starts]).max()) + 1


def _lines_at_angle(
    along: np.ndarray, across: np.ndarray, angle: float, min_length: float, params: Params
) -> list[tuple[np.ndarray, np.ndarray]]:
    # A printed line is one continuous run; the baseline band of handwriting
    # also covers many columns, but in short pieces with gaps between letters.
    max_gap = max(4, int(0.03 * min_length / params.line_length))
    theta = math.radians(angle)
    positions = np.rint(across * math.cos(theta) - along * math.sin(theta)).astype(np.int64)
    positions -= positions.min()
    counts = np.bincount(positions)

    lines = []
    candidates = np.flatnonzero(counts >= 0.5 * min_length)
    used = np.zeros(counts.size, dtype=bool)
    max_thickness = int(math.ceil(params.line_thickness))
    for centre in candidates[np.argsort(-counts[candidates])]:
        if used[centre]:
            continue
        low, high = centre, centre
        while low > 0 and counts[low - 1] >= 0.3 * counts[centre] and centre - low < max_thickness:
            low -= 1
        while (
            high + 1 < counts.size
            and counts[high + 1] >= 0.3 * counts[centre]
            and high - centre < max_thickness
        ):
            high += 1
        used[max(0, low - 1) : high + 2] = True

        in_band = (positions >= low) & (positions <= high)
        columns = np.unique(np.rint(along[in_band]).astype(np.int64))
        if columns.size < min_length or _longest_run(columns, max_gap) < min_length:
            continue

        # A stroke crossing the line has ink on both sides of the band in the
        # same column; those columns keep their ink.
        above = np.rint(along[(positions >= low - 3) & (positions < low)]).astype(np.int64)
        below = np.rint(along[(positions > high) & (positions <= high + 3)]).astype(np.int64)
        # A printed line runs alone through most of its columns; a band of
        # handwriting has strokes leaving it up or down nearly everywhere.
        touched = np.union1d(above, below)
        if np.isin(columns, touched).mean() > _MAX_TOUCHED:
            continue
        near_below = np.unique(np.concatenate([below + shift for shift in range(-3, 4)]))
        crossing = np.intersect1d(above, near_below)
        # A slanted stroke moves a few columns while it crosses the band.
        crossing = np.unique(np.concatenate([crossing + shift for shift in range(-3, 4)]))
        band_points = np.flatnonzero(in_band)
        is_crossing = np.isin(np.rint(along[band_points]).astype(np.int64), crossing)
        lines.append((band_points, is_crossing))
    return lines


def _find_lines(
    along: np.ndarray, across: np.ndarray, min_length: float, params: Params
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Find long straight thin lines among ink points, one direction at a time.

    ``along`` is the coordinate along the lines (x for horizontal lines) and
    ``across`` the other; a line covers at least ``min_length`` distinct pixels. Under perspective, the lines of one sheet differ in
    angle, so the search repeats on the points left over until no line is found.
    Returns, per line, the indices of its points and a boolean per point telling
    whether it is a stroke crossing the line.
    """
    remaining = np.arange(along.size)
    lines: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(_LINE_ROUNDS):
        if remaining.size < 0.5 * min_length:
            break
        # The angle search needs only a sample of the points.
        step = max(1, remaining.size // 6_000)
        sample = remaining[::step]
        found = []
        for angle in _line_angles_by_strength(along[sample], across[sample])[:_ANGLES_TRIED]:
            # Over a photo's width, a quarter degree off spreads a thin line
            # over several pixel rows: refine before measuring the lines.
            angle = _refine_line_angle(along[sample], across[sample], angle)
            found = _lines_at_angle(along[remaining], across[remaining], angle, min_length, params)
            if found:
                break
        if not found:
            break
        taken = np.zeros(remaining.size, dtype=bool)
        for points, is_crossing in found:
            lines.append((remaining[points], is_crossing))
            taken[points] = True
        remaining = remaining[~taken]
    return lines


def remove_lines(
    ink: np.ndarray, darkness: np.ndarray, params: Params, sheet: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Find ruled, margin and grid lines in an ink mask.

    A long straight run counts as a printed line when the paper has two or more
    of them, or when it is much fainter than the rest of the ink; a single dark
    one is kept, because it is most likely the signature's underline.

    Returns
    -------
    lines : ndarray
        ``(h, w)`` uint8 mask of line pixels to remove (crossing strokes excluded).
        Line lengths are measured against the sheet's width and height when
        ``sheet``, its mask, is given, and against the photo's otherwise.
    bands : ndarray
        ``(h, w)`` uint8 mask of every pixel of those lines, crossings included.
    horizontal, vertical : int
        Number of horizontal and vertical lines removed.
    """
    height, width = ink.shape
    ys, xs = np.nonzero(ink)
    lines_mask = np.zeros_like(ink)
    band_mask = np.zeros_like(ink)
    if ys.size < 50:
        return lines_mask, band_mask, 0, 0

    def line_darkness_of(points: np.ndarray) -> float:
        # The lower quartile: strokes crossing or running along a line darken
        # its band, but only in part of it.
        return float(np.percentile(darkness[ys[points], xs[points]], 25))

    # Horizontal lines first; the vertical search then sees none of their points,
    # so the crossings of rules and margin are not mistaken for strokes.
    in_any_line = np.zeros(ys.size, dtype=bool)
    found: dict[str, list[tuple[np.ndarray, np.ndarray, bool]]] = {}
    sheet_width, sheet_height = width, height
    if sheet is not None and sheet.any():
        sheet_cols = np.flatnonzero(sheet.any(axis=0))
        sheet_rows = np.flatnonzero(sheet.any(axis=1))
        sheet_width = int(sheet_cols[-1] - sheet_cols[0] + 1)
        sheet_height = int(sheet_rows[-1] - sheet_rows[0] + 1)
    for direction, along, across, extent in (("h", xs, ys, sheet_width), ("v", ys, xs, sheet_height)):
        found[direction] = []
        for length_factor in (1.0, 0.4):
            pool = np.flatnonzero(~in_any_line)
            lines = _find_lines(
                along[pool].astype(np.float64), across[pool].astype(np.float64),
                length_factor * params.line_length * extent, params,
            )
            lines = [(pool[points], is_crossing) for points, is_crossing in lines]
            if length_factor < 1.0:
                # Shorter pieces count only on ruled paper, and only when they are
                # as faint as its rules: the rest of a rule that bends, or one
                # half hidden in a shadow.
                first = [line_darkness_of(points) for points, _, _ in found[direction]]
                if len(first) < 2:
                    break
                ceiling = 1.25 * float(np.median(first))
                lines = [line for line in lines if line_darkness_of(line[0]) <= ceiling]
            for points, is_crossing in lines:
                found[direction].append((points, is_crossing, length_factor < 1.0))
                # Crossing points stay in the pool: where a rule crosses the
                # margin, the vertical search must still see the margin there.
                in_any_line[points[~is_crossing]] = True
    other_ink = ~in_any_line
    ink_darkness = line_darkness_of(np.flatnonzero(other_ink)) if other_ink.any() else 1.0

    counts = []
    for direction in ("h", "v"):
        lines = found[direction]
        line_darkness = [line_darkness_of(points) for points, _, _ in lines]
        typical = float(np.median(line_darkness)) if line_darkness else 0.0
        removed = 0
        for (points, is_crossing, vetted), value in zip(lines, line_darkness):
            faint = value < 0.6 * ink_darkness
            one_of_many = len(lines) >= 2 and value <= 1.25 * typical
            if direction == "h":
                # A lone horizontal line as dark as the ink is kept as an underline.
                remove_line = faint or one_of_many or vetted
            else:
                # Tall initials have long straight downstrokes as dark as the rest
                # of the ink; margin and grid lines are fainter, or run the
                # photo's whole height.
                along = ys[points]
                span = float(along.max() - along.min() + 1) / sheet_height
                # Squared paper: many lines both ways, all of one darkness.
                grid = len(found["h"]) >= 3 and len(lines) >= 3 and value <= 1.25 * typical
                remove_line = faint or span >= 0.85 or grid or (
                    (one_of_many or vetted) and value < 0.8 * ink_darkness
                )
            if not remove_line:
                continue
            remove = points[~is_crossing]
            lines_mask[ys[remove], xs[remove]] = 255
            band_mask[ys[points], xs[points]] = 255
            removed += 1
        counts.append(removed)
    return lines_mask, band_mask, counts[0], counts[1]


def _component_thickness(components, mask: np.ndarray, backend: Backend) -> np.ndarray:
    distance = backend.distance_transform(mask)
    set_pixels = components.labels > 0
    thickness = np.zeros(components.count, dtype=np.float32)
    np.maximum.at(thickness, components.labels[set_pixels], distance[set_pixels])
    return 2.0 * thickness


def _box_gaps(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Return the Euclidean gaps between every box of ``boxes`` and of ``others`` (x, y, w, h rows)."""
    ax1, ay1 = boxes[:, 0:1], boxes[:, 1:2]
    ax2, ay2 = ax1 + boxes[:, 2:3], ay1 + boxes[:, 3:4]
    bx1, by1 = others[:, 0], others[:, 1]
    bx2, by2 = bx1 + others[:, 2], by1 + others[:, 3]
    gap_x = np.maximum(0, np.maximum(ax1, bx1) - np.minimum(ax2, bx2))
    gap_y = np.maximum(0, np.maximum(ay1, by1) - np.minimum(ay2, by2))
    return np.hypot(gap_x, gap_y)


def _find_printed_text(stats: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Mark components that look like printed text: letters or words of one height, set in rows.

    Handwriting varies in height and seldom lines up three pieces of the same
    height on one row; printed lines do it everywhere. Pages with fewer than 30
    pieces are not searched, so a signature alone is never taken for text.
    """
    text = np.zeros(len(stats), dtype=bool)
    index = np.flatnonzero(candidates)
    if index.size < 30:
        return text
    heights = stats[index, 3].astype(np.float64)
    widths = stats[index, 2].astype(np.float64)
    typical = float(np.median(heights))
    small = index[(heights <= 1.8 * typical) & (widths <= 25.0 * typical)]
    if small.size < 30 or small.size > _MAX_TEXT_PIECES:
        return text

    top = stats[small, 1].astype(np.float64)
    bottom = top + stats[small, 3]
    left, right = stats[small, 0], stats[small, 0] + stats[small, 2]
    # Same row: the vertical extents overlap by most of the smaller one.
    overlap = np.minimum(bottom[:, None], bottom[None, :]) - np.maximum(top[:, None], top[None, :])
    smaller = np.minimum(stats[small, 3][:, None], stats[small, 3][None, :])
    same_row = overlap >= 0.6 * smaller
    gap = np.maximum(left[:, None], left[None, :]) - np.minimum(right[:, None], right[None, :])
    near = gap < 3.0 * typical
    neighbours = (same_row & near).sum(axis=1) - 1
    text[small[neighbours >= 2]] = True

    # Lines of text with no neighbour on their row (an underlined link, one long
    # word) sit between other text lines: a low piece close to text is text.
    found = np.flatnonzero(text)
    if found.size:
        low = index[(heights <= 2.5 * typical) & (widths <= 40.0 * typical)]
        low = low[~text[low]]
        if low.size:
            gaps = _box_gaps(stats[low, :4], stats[found, :4]).min(axis=1)
            text[low[gaps <= 1.5 * typical]] = True
    return text


def _frames(components, stats: np.ndarray, width: int, height: int, backend: Backend) -> np.ndarray:
    """Mark outlines: components spanning half the photo both ways whose ink hugs their convex hull's edge.

    A printed frame, or the four edges of a sheet photographed at an angle,
    draws the border of its own hull; handwriting fills its hull's inside.
    """
    frame = np.zeros(components.count, dtype=bool)
    large = np.flatnonzero((stats[:, 2] >= 0.5 * width) & (stats[:, 3] >= 0.5 * height))
    for label in large[large > 0]:
        x, y, w, h = stats[label, :4]
        # A one-pixel margin, so that the hull's edge has paper beyond it even
        # when the piece fills its whole box.
        piece = np.pad(components.labels[y : y + h, x : x + w] == label, 1)
        hull = _convex_hull_mask(piece)
        depth = backend.distance_transform(hull.view(np.uint8))
        band = max(2.0, 0.04 * min(w, h))
        frame[label] = float((depth[piece] <= band).mean()) >= 0.7
    return frame


def _rotated_boxes(components, candidates: np.ndarray) -> np.ndarray:
    """Return component boxes ``[x, y, w, h, area]`` in the frame of the page's text lines.

    On a photographed page turned by a few degrees, the upright boxes of long
    words are far taller than the letters, and no two of them share a row. The
    text lines' angle is the one with the sharpest projection of the ink, as in
    deskewing; boxes are measured along and across that angle.
    """
    from engine.deskew import _sharpness

    stats = components.stats.copy()
    if np.count_nonzero(candidates) < 30:
        return stats
    ys, xs = np.nonzero(components.labels)
    labels = components.labels[ys, xs]
    keep = candidates[labels]
    ys, xs, labels = ys[keep].astype(np.float64), xs[keep].astype(np.float64), labels[keep]
    step = max(1, xs.size // 30_000)
    sample_x, sample_y = xs[::step] - xs.mean(), ys[::step] - ys.mean()
    angles = np.arange(-30.0, 30.01, 1.0)
    best = float(angles[int(np.argmax([_sharpness(sample_x, sample_y, a, 2.0) for a in angles]))])
    if abs(best) < 1.0:
        return stats

    theta = math.radians(best)
    across = xs * math.sin(theta) + ys * math.cos(theta)
    along = xs * math.cos(theta) - ys * math.sin(theta)
    count = components.count
    low_u, high_u = np.full(count, np.inf), np.full(count, -np.inf)
    low_v, high_v = np.full(count, np.inf), np.full(count, -np.inf)
    np.minimum.at(low_u, labels, along)
    np.maximum.at(high_u, labels, along)
    np.minimum.at(low_v, labels, across)
    np.maximum.at(high_v, labels, across)
    index = np.flatnonzero(candidates)
    stats[index, 0] = np.floor(low_u[index]).astype(np.int64)
    stats[index, 1] = np.floor(low_v[index]).astype(np.int64)
    stats[index, 2] = np.ceil(high_u[index] - low_u[index]).astype(np.int64) + 1
    stats[index, 3] = np.ceil(high_v[index] - low_v[index]).astype(np.int64) + 1
    return stats


def _cluster(boxes: np.ndarray, gap: float) -> np.ndarray:
    """Single-linkage clustering of boxes whose gap is at most ``gap``; returns a cluster id per box."""
    count = len(boxes)
    parent = np.arange(count)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    close = _box_gaps(boxes, boxes) <= gap
    for i, j in zip(*np.nonzero(np.triu(close, k=1))):
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[rj] = ri
    return np.array([root(i) for i in range(count)])


def select_signature(
    detection: InkDetection, params: Params, backend: Backend, *, keep_all: bool = False
) -> None:
    """Keep the signature's components in ``detection.mask`` and set ``detection.box``.

    Components are sorted into specks, blobs (too thick to be strokes: shadows,
    pens, desk), straight lines (sheet edges, frames), printed characters, and
    strokes. Strokes are grouped by proximity, the group with the most ink is the
    signature, and nearby strokes and specks (detached initials, dots, accents)
    join it.
    """
    mask = detection.mask
    height, width = mask.shape
    long_side = max(height, width)
    components = backend.connected_components(mask)
    if components.count <= 1:
        detection.mask[:] = 0
        return

    stats = components.stats
    areas = stats[:, 4]
    thickness = _component_thickness(components, mask, backend)
    extent = np.maximum(stats[:, 2] / width, stats[:, 3] / height)
    length = np.maximum(stats[:, 2], stats[:, 3]).astype(np.float64)

    # A blob is much thicker than the photo's typical stroke (area-weighted
    # median), and thick in absolute terms: shadows, a pen, a black frame. A
    # felt-pen signature has thick strokes everywhere, so none of them is a blob.
    sized = np.flatnonzero(areas >= params.min_stroke_area)
    sized = sized[sized > 0]
    if sized.size:
        order = sized[np.argsort(thickness[sized])]
        cumulative = np.cumsum(areas[order])
        typical = float(thickness[order[np.searchsorted(cumulative, cumulative[-1] / 2)]])
    else:
        typical = 0.0
    blob = (thickness > 3.0 * typical) & (thickness > 0.4 * params.max_stroke_width * long_side)
    # Sheet edges and scanner frames run into the photo's border; an underline does not.
    touches_border = (
        (stats[:, 0] <= 1) | (stats[:, 1] <= 1)
        | (stats[:, 0] + stats[:, 2] >= width - 1) | (stats[:, 1] + stats[:, 3] >= height - 1)
    )
    thin = np.minimum(stats[:, 2], stats[:, 3]) <= 0.15 * length
    straight = touches_border & thin & (extent >= params.line_length)
    # Pieces lying wholly in a narrow band along the photo's border are desk
    # strips and sheet edges; a signature cut by the border reaches further in.
    band = 0.04 * long_side
    in_band = touches_border & (
        (stats[:, 0] + stats[:, 2] <= band)
        | (stats[:, 0] >= width - band)
        | (stats[:, 1] + stats[:, 3] <= band)
        | (stats[:, 1] >= height - band)
    )
    straight |= in_band
    straight |= _frames(components, stats, width, height, backend)
    speck = areas < params.min_component_area
    candidates = ~blob & ~straight & ~speck
    candidates[0] = speck[0] = False

    # Small pieces touching a removed line are what is left of the line, not
    # dots; so are flat thin pieces lying on a line's row further along it.
    near_line = backend.dilate(detection.lines, (3, 3)) > 0
    on_line = np.zeros(components.count, dtype=bool)
    on_line[np.unique(components.labels[near_line])] = True
    reach = max(3, int(0.05 * long_side)) | 1
    along_line = backend.dilate(detection.lines, (reach, 3)) > 0
    on_row = np.zeros(components.count, dtype=bool)
    on_row[np.unique(components.labels[along_line])] = True
    flat = (areas <= params.line_thickness * stats[:, 2]) & (stats[:, 2] >= 5 * stats[:, 3])
    # Only as faint as the lines: an underline drawn along a rule stays.
    labels_flat = components.labels.ravel()
    mean_darkness = np.bincount(labels_flat, weights=detection.darkness.ravel(),
                                minlength=components.count) / np.maximum(areas, 1)
    faint = mean_darkness <= 1.3 * detection.line_darkness
    leftover = (on_line & (areas < params.min_stroke_area)) | (on_row & flat & faint)
    # Where two removed lines cross (rules and the margin), a faint knot is left.
    leftover |= on_line & faint & (areas < 4 * params.min_stroke_area)
    candidates &= ~leftover
    speck &= ~leftover

    text = _find_printed_text(_rotated_boxes(components, candidates), candidates)
    strokes = candidates & ~text & (areas >= params.min_stroke_area)
    detection.text_components = int(text.sum())
    detection.stroke_components = int(strokes.sum())
    detection.blob_area_fraction = float(areas[blob & (np.arange(len(areas)) > 0)].sum()) / mask.size

    keep = np.zeros(components.count, dtype=bool)
    # Detached initials sit about a letter height away, whatever the photo's framing.
    tallest = float(stats[strokes, 3].max()) if strokes.any() else 0.0
    gap = max(params.cluster_gap * long_side, params.cluster_gap_height * tallest)
    if keep_all:
        keep = candidates.copy()
    elif strokes.any():
        index = np.flatnonzero(strokes)
        clusters = _cluster(stats[index, :4], gap)
        mass = np.bincount(clusters, weights=areas[index])
        # Desk texture and sheet edges run into the border; a signature seldom
        # does, so a cluster touching the border must outweigh the others.
        at_border = np.zeros(mass.size, dtype=bool)
        at_border[np.unique(clusters[touches_border[index]])] = True
        primary = int(np.argmax(np.where(at_border, 0.25 * mass, mass)))
        keep[index[clusters == primary]] = True

        # A first name and a surname far apart on one line are one signature:
        # clusters with real ink that share the signature's line join it.
        top, bottom = stats[keep, 1].min(), (stats[keep, 1] + stats[keep, 3]).max()
        for cluster in np.unique(clusters):
            if cluster == primary or mass[cluster] < 0.1 * mass[primary]:
                continue
            members = index[clusters == cluster]
            c_top, c_bottom = stats[members, 1].min(), (stats[members, 1] + stats[members, 3]).max()
            overlap = min(bottom, c_bottom) - max(top, c_top)
            reach = 0.5 * (bottom - top)
            inside = c_top >= top - reach and c_bottom <= bottom + reach
            if inside and overlap >= 0.5 * min(bottom - top, c_bottom - c_top):
                keep[members] = True

        # Grow the signature by nearby strokes, then add small pieces (dots,
        # accents) close to it. Small pieces never extend the reach, so a trail
        # of specks cannot lead the crop across the page.
        for _ in range(4):
            gaps = _box_gaps(stats[keep, :4], stats[:, :4]).min(axis=0)
            grown = keep | (strokes & (gaps <= gap))
            if (grown == keep).all():
                break
            keep = grown
        gaps = _box_gaps(stats[keep, :4], stats[:, :4]).min(axis=0)
        keep |= (candidates & ~text & (gaps <= 0.5 * gap)) | (speck & (gaps <= 0.25 * gap) & (areas >= 2))
    keep[0] = False

    detection.mask = (keep[components.labels] * np.uint8(255)).astype(np.uint8)
    if not keep.any():
        return
    kept = stats[keep]
    x1, y1 = int(kept[:, 0].min()), int(kept[:, 1].min())
    x2 = int((kept[:, 0] + kept[:, 2]).max())
    y2 = int((kept[:, 1] + kept[:, 3]).max())
    detection.box = (x1, y1, x2 - x1, y2 - y1)
