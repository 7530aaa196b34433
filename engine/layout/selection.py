"""Selection of the signature's ink among blobs, specks, frames, printed text and stroke clusters."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from backends.base import Backend
from engine.layout.sheet import convex_hull_mask
from engine.params import Params

if TYPE_CHECKING:
    from engine.ink import InkDetection

__all__ = ["select_signature"]

# Printed-text search compares every pair of pieces; pages beyond this are not searched.
_MAX_TEXT_PIECES = 6000


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
        hull = convex_hull_mask(piece)
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
