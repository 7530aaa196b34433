"""Ruled, margin and grid lines: found among the ink points and removed."""

from __future__ import annotations

import math

import numpy as np

from engine.params import Params

__all__ = ["remove_lines"]

_LINE_ANGLES = np.arange(-30.0, 30.01, 1.0)
# Rounds of line search, each at the angle that fits the remaining points best.
_LINE_ROUNDS = 16
# Largest share of a line's columns that strokes may leave up or down.
_MAX_TOUCHED = 0.5
# Angles tried per round, strongest first, before the search gives up.
_ANGLES_TRIED = 6


def _line_angles_by_strength(along: np.ndarray, across: np.ndarray) -> list[float]:
    # Project the points across the lines at each candidate angle; the angles
    # whose fullest one-pixel band contains the most points come first.
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

    # Horizontal lines first. Their points are left out of the vertical search,
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
            # Ink lying along the line (an underline drawn on a rule) is much
            # darker than the rule itself and stays.
            on_top = darkness[ys[points], xs[points]] > max(1.5 * value, value + 0.15)
            remove = points[~is_crossing & ~on_top]
            lines_mask[ys[remove], xs[remove]] = 255
            band_mask[ys[points], xs[points]] = 255
            removed += 1
        counts.append(removed)
    return lines_mask, band_mask, counts[0], counts[1]
