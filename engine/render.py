"""Full-resolution binarisation inside the crop, rotation, centring and PNG encoding."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

from backends.base import Backend
from engine.errors import InvalidParameter
from engine.ink import compute_darkness, hysteresis_threshold

__all__ = ["OutputOptions", "Stroke", "binarize_region", "center_on_canvas", "encode_png", "rotate_stroke"]


@dataclass(frozen=True)
class OutputOptions:
    """Appearance of the output image.

    Attributes
    ----------
    mode : {"transparent", "bitonal"}
        ``"transparent"``: RGBA PNG, ink in ``ink_color`` with anti-aliased alpha on
        a transparent background. ``"bitonal"``: 1-bit PNG, black ink on white.
    ink_color : str
        ``"black"``, ``"original"`` (the median colour of the ink in the photo),
        or a ``#rrggbb`` colour. Ignored in bitonal mode.
    padding : float
        Margin around the signature, as a fraction of its larger side.
    padding_px : int or None
        Margin in output pixels; overrides ``padding`` when set.
    target_size : tuple of int or None
        ``(width, height)`` of the output canvas; the signature is scaled to fit
        inside it, margins included, and centred.
    aspect_ratio : float or None
        Width / height of the canvas; the canvas grows to reach it. Ignored when
        ``target_size`` is set.
    dpi : int
        Resolution written in the PNG's pHYs chunk, in dots per inch.
    """

    mode: Literal["transparent", "bitonal"] = "transparent"
    ink_color: str = "black"
    padding: float = 0.05
    padding_px: int | None = None
    target_size: tuple[int, int] | None = None
    aspect_ratio: float | None = None
    dpi: int = 300

    def __post_init__(self) -> None:
        if self.mode not in ("transparent", "bitonal"):
            raise InvalidParameter(self.mode, name="mode", reason="expected transparent or bitonal",
                                   reason_fr="transparent ou bitonal attendu")
        if not (self.ink_color in ("black", "original") or _parse_hex(self.ink_color) is not None):
            raise InvalidParameter(
                self.ink_color, name="ink_color", reason="expected black, original or #rrggbb",
                reason_fr="black, original ou #rrvvbb attendu"
            )
        if not 0.0 <= self.padding <= 2.0:
            raise InvalidParameter(self.padding, name="padding", reason="expected 0 to 2", reason_fr="valeur attendue entre 0 et 2")
        if self.padding_px is not None and not 0 <= self.padding_px <= 2000:
            raise InvalidParameter(self.padding_px, name="padding_px", reason="expected 0 to 2000",
                                   reason_fr="valeur attendue entre 0 et 2000")
        if self.target_size is not None and not all(8 <= side <= 10000 for side in self.target_size):
            raise InvalidParameter(
                self.target_size, name="target_size", reason="expected sides from 8 to 10000",
                reason_fr="côtés de 8 à 10000 pixels attendus"
            )
        if self.aspect_ratio is not None and not 0.05 <= self.aspect_ratio <= 20:
            raise InvalidParameter(self.aspect_ratio, name="aspect_ratio", reason="expected 0.05 to 20",
                                   reason_fr="valeur attendue entre 0,05 et 20")
        if not 1 <= self.dpi <= 10000:
            raise InvalidParameter(self.dpi, name="dpi", reason="expected 1 to 10000",
                                   reason_fr="valeur attendue entre 1 et 10000")


def _parse_hex(value: str) -> tuple[int, int, int] | None:
    if len(value) == 7 and value.startswith("#"):
        try:
            return tuple(int(value[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
        except ValueError:
            return None
    return None


@dataclass
class Stroke:
    """The signature's strokes at full resolution.

    ``alpha`` is ``(H, W)`` uint8 coverage (255 is solid ink). ``origin`` is the
    ``(x, y)`` of its top-left pixel in upright input coordinates, before any
    rotation. The bitonal output thresholds ``alpha``, so no separate mask is kept.
    """

    alpha: np.ndarray
    origin: tuple[int, int]


def binarize_region(
    rgb: np.ndarray,
    paper: np.ndarray,
    gate: np.ndarray,
    high: float,
    low: float,
    backend: Backend,
    lines: np.ndarray | None = None,
    line_darkness: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binarise a full-resolution region and compute its anti-aliased coverage.

    Parameters
    ----------
    rgb : ndarray
        ``(H, W, 3)`` uint8 region of the upright input.
    paper : ndarray
        ``(H, W, 3)`` float32 paper estimate for the region.
    gate : ndarray
        ``(H, W)`` uint8 mask of where the signature's ink may be.
    high, low : float
        Hysteresis darkness thresholds (see :func:`engine.ink.hysteresis_threshold`).
    lines : ndarray, optional
        ``(H, W)`` bool mask of printed lines that were removed. There, only
        pixels clearly darker than the lines (``line_darkness``) stay ink: a
        stroke crossing a rule keeps its crossing, the rule loses its stubs.

    Returns
    -------
    mask : ndarray
        ``(H, W)`` bool ink mask.
    alpha : ndarray
        ``(H, W)`` uint8 coverage: 0 at ``low`` darkness, 255 at the strokes' core.
    darkness : ndarray
        ``(H, W)`` float32 normalised darkness.
    """
    darkness = compute_darkness(rgb, paper)
    if lines is not None and lines.any():
        on_line = lines & (darkness < max(low, 1.3 * line_darkness))
        gate = np.where(on_line, 0, gate).astype(np.uint8)
    mask = hysteresis_threshold(darkness, high, low, backend, gate) > 0
    filled = np.zeros_like(mask)
    if lines is not None and lines.any():
        # Where a stroke crosses a line, the pixels it shares with the line can
        # be too light to keep; close the notch across the line's width only.
        across = _band_thickness(lines) + 2
        closed = backend.closing(mask.view(np.uint8), (3, across)) > 0
        closed |= backend.closing(mask.view(np.uint8), (across, 3)) > 0
        filled = closed & lines & ~mask
        mask |= filled

    core = float(np.percentile(darkness[mask], 60)) if mask.any() else high
    solid = max(high, 0.85 * core)
    coverage = (darkness - low) / max(solid - low, 1e-3)
    np.clip(coverage, 0.0, 1.0, out=coverage)
    # Keep the soft edge one pixel around the binarised strokes, nothing further.
    near = backend.dilate(mask.view(np.uint8), (3, 3)) > 0
    coverage[~near] = 0.0
    if lines is not None and lines.any():
        coverage[on_line & ~mask] = 0.0
    alpha = np.rint(coverage * 255.0).astype(np.uint8)
    if filled.any():
        # A filled notch takes the coverage of the stroke around it.
        alpha[filled] = backend.dilate(alpha, (3, 3))[filled]
    return mask, alpha, darkness


def _band_thickness(lines: np.ndarray) -> int:
    """Estimate the thickness in pixels of horizontal line bands: the median length of vertical runs."""
    padded = np.vstack([np.zeros((1, lines.shape[1]), dtype=bool), lines])
    runs = (np.diff(padded.view(np.int8), axis=0) == 1).sum(axis=0)
    pixels = lines.sum(axis=0)
    used = runs > 0
    if not used.any():
        return 1
    return max(1, int(round(float(np.median(pixels[used] / runs[used])))))


def rotate_stroke(stroke: Stroke, angle: float, backend: Backend) -> Stroke:
    """Rotate the strokes by ``angle`` degrees counter-clockwise about their centre, growing the canvas."""
    if angle == 0.0:
        return stroke
    height, width = stroke.alpha.shape
    theta = math.radians(angle)
    new_width = int(math.ceil(abs(width * math.cos(theta)) + abs(height * math.sin(theta))))
    new_height = int(math.ceil(abs(width * math.sin(theta)) + abs(height * math.cos(theta))))
    centre = ((width - 1) / 2.0, (height - 1) / 2.0)
    alpha = backend.rotate(stroke.alpha, angle, centre, (new_width, new_height), "linear", 0.0)
    return Stroke(alpha=alpha, origin=stroke.origin)


def trim(stroke: Stroke) -> Stroke:
    """Cut the strokes' arrays down to the bounding box of their nonzero coverage."""
    rows = np.flatnonzero(stroke.alpha.any(axis=1))
    cols = np.flatnonzero(stroke.alpha.any(axis=0))
    if rows.size == 0:
        return stroke
    y1, y2, x1, x2 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return Stroke(
        alpha=stroke.alpha[y1:y2, x1:x2],
        origin=(stroke.origin[0] + int(x1), stroke.origin[1] + int(y1)),
    )


def center_on_canvas(
    stroke: Stroke, ink_rgb: tuple[int, int, int], options: OutputOptions, backend: Backend
) -> np.ndarray:
    """Place the strokes in the middle of a canvas with even margins.

    Returns ``(H, W, 4)`` uint8 RGBA for the transparent mode, ``(H, W)`` bool
    (True is ink) for the bitonal mode.
    """
    alpha = stroke.alpha
    height, width = alpha.shape
    if options.padding_px is not None:
        pad = options.padding_px
    else:
        pad = int(round(options.padding * max(width, height)))

    if options.target_size is not None:
        target_w, target_h = options.target_size
        inner_w, inner_h = max(1, target_w - 2 * pad), max(1, target_h - 2 * pad)
        factor = min(inner_w / width, inner_h / height)
        size = (max(1, int(round(width * factor))), max(1, int(round(height * factor))))
        alpha = backend.resize(alpha, size, "area" if factor < 1 else "linear")
        height, width = alpha.shape
        canvas_w, canvas_h = target_w, target_h
    else:
        canvas_w, canvas_h = width + 2 * pad, height + 2 * pad
        if options.aspect_ratio is not None:
            if canvas_w / canvas_h < options.aspect_ratio:
                canvas_w = int(math.ceil(canvas_h * options.aspect_ratio))
            else:
                canvas_h = int(math.ceil(canvas_w / options.aspect_ratio))

    top, left = (canvas_h - height) // 2, (canvas_w - width) // 2
    canvas_alpha = np.zeros((canvas_h, canvas_w), dtype=np.uint8)
    canvas_alpha[top : top + height, left : left + width] = alpha

    if options.mode == "bitonal":
        return canvas_alpha >= 128
    rgba = np.empty((canvas_h, canvas_w, 4), dtype=np.uint8)
    rgba[..., :3] = ink_rgb
    rgba[..., 3] = canvas_alpha
    return rgba


def encode_png(image: np.ndarray, dpi: int) -> bytes:
    """Encode the output as PNG with only its pixels and DPI: no EXIF, text or ICC chunk."""
    if image.dtype == bool:
        picture = Image.fromarray(image == 0).convert("1")  # white paper, black ink
    else:
        picture = Image.fromarray(image, "RGBA")
    buffer = io.BytesIO()
    # Pillow's optimize=True (zlib level 9, every filter) took 3.5 times as long
    # as level 6 on a 12 MP photo's output for 3 % fewer bytes.
    picture.save(buffer, format="PNG", compress_level=6, dpi=(dpi, dpi))
    return buffer.getvalue()


def resolve_ink_color(option: str, measured: tuple[int, int, int]) -> tuple[int, int, int]:
    """Return the RGB colour the output's ink is drawn in."""
    if option == "black":
        return (0, 0, 0)
    if option == "original":
        return measured
    parsed = _parse_hex(option)
    assert parsed is not None  # checked by OutputOptions
    return parsed
