"""The pipeline: from upload bytes to a clean, cropped, level signature image."""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from backends import Backend, get_backend
from engine import quality
from engine.decode import Limits, open_upload, read_upload_file
from engine.deskew import estimate_angle
from engine.errors import FileNotReadable, InvalidAdjustment, NoInkFound, NotASignature
from engine.ink import (
    InkDetection,
    adapt_background_kernel,
    detect_ink,
    hysteresis_threshold,
    seed_thresholds,
)
from engine.params import Params, resolve_params
from engine.render import (
    OutputOptions,
    Stroke,
    binarize_region,
    center_on_canvas,
    encode_png,
    resolve_ink_color,
    rotate_stroke,
    trim,
)
from engine.result import Box, Result

__all__ = ["binarize_image", "process"]

logger = logging.getLogger(__name__)


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + (time.perf_counter() - start) * 1000


def _check_adjustments(
    crop: tuple[int, int, int, int] | None, rotation: float | None, size: tuple[int, int]
) -> Box | None:
    if rotation is not None and (not math.isfinite(rotation) or not -360.0 <= rotation <= 360.0):
        raise InvalidAdjustment(
            rotation,
            reason_fr=f"la rotation {rotation} doit être comprise entre -360 et 360 degrés",
            reason_en=f"rotation {rotation} must be between -360 and 360 degrees",
        )
    if crop is None:
        return None
    try:
        x, y, width, height = (int(v) for v in crop)
    except (TypeError, ValueError) as error:
        raise InvalidAdjustment(
            crop,
            reason_fr="le recadrage doit comporter quatre nombres entiers : x, y, largeur, hauteur",
            reason_en="the crop must be four integers: x, y, width, height",
        ) from error
    image_w, image_h = size
    if width < 8 or height < 8 or x < 0 or y < 0 or x + width > image_w or y + height > image_h:
        raise InvalidAdjustment(
            crop,
            reason_fr=(
                f"le rectangle ({x}, {y}, {width}, {height}) doit mesurer au moins 8 pixels de côté "
                f"et tenir dans l'image de {image_w} × {image_h} pixels"
            ),
            reason_en=(
                f"the rectangle ({x}, {y}, {width}, {height}) must be at least 8 pixels a side "
                f"and lie inside the {image_w} × {image_h} image"
            ),
        )
    return Box(x, y, width, height)


def _analysis_copy(upload, params: Params, backend: Backend) -> np.ndarray:
    decoded = upload.decode(max_side=params.analysis_long_side)
    rgb = decoded.pixels
    height, width = rgb.shape[:2]
    factor = params.analysis_long_side / max(width, height)
    if factor < 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        rgb = backend.resize(rgb, size, "area")
    return np.ascontiguousarray(rgb)


def _rejection(detection: InkDetection) -> Exception:
    if detection.text_components >= 30 and detection.stroke_components == 0:
        return NotASignature("printed_text", reason="printed text only", reason_fr="texte imprimé seulement")
    if detection.blob_area_fraction > 0.05 and detection.stroke_components == 0:
        return NotASignature(
            "no_handwriting", reason="a photo with no handwriting", reason_fr="photo sans écriture manuscrite"
        )
    return NoInkFound()


def _full_box(box: tuple[int, int, int, int], scale: float, size: tuple[int, int]) -> Box:
    x, y, w, h = box
    margin = 3 + 0.02 * max(w, h)
    x1 = max(0, math.floor((x - margin) / scale))
    y1 = max(0, math.floor((y - margin) / scale))
    x2 = min(size[0], math.ceil((x + w + margin) / scale))
    y2 = min(size[1], math.ceil((y + h + margin) / scale))
    return Box(x1, y1, x2 - x1, y2 - y1)


def _region_of(array: np.ndarray, box: Box, scale: float, shape: tuple[int, int], backend: Backend,
               interpolation: str) -> np.ndarray:
    """Resample the part of an analysis-scale ``array`` under full-resolution ``box`` to ``shape``."""
    height, width = array.shape[:2]
    x1 = max(0, math.floor(box.x * scale) - 1)
    y1 = max(0, math.floor(box.y * scale) - 1)
    x2 = min(width, math.ceil(box.x2 * scale) + 2)
    y2 = min(height, math.ceil(box.y2 * scale) + 2)
    part = np.ascontiguousarray(array[y1:y2, x1:x2])
    # Resize the padded part, then cut the exact box out of it.
    full_w = int(round((x2 - x1) / scale))
    full_h = int(round((y2 - y1) / scale))
    resized = backend.resize(part, (max(1, full_w), max(1, full_h)), interpolation)
    offset_x = int(round(box.x - x1 / scale))
    offset_y = int(round(box.y - y1 / scale))
    out = resized[offset_y : offset_y + shape[0], offset_x : offset_x + shape[1]]
    if out.shape[:2] != shape:
        pad = [(0, shape[0] - out.shape[0]), (0, shape[1] - out.shape[1])] + [(0, 0)] * (out.ndim - 2)
        out = np.pad(out, pad, mode="edge")
    return out


def _quality_warnings(
    detection: InkDetection,
    analysis_shape: tuple[int, int],
    full_box: Box,
    sideways: bool,
    orientation: int,
    params: Params,
) -> list:
    warnings = []
    ink = detection.mask > 0
    ink_darkness = detection.darkness[ink]
    if ink_darkness.size and float(np.median(ink_darkness)) < params.low_contrast:
        warnings.append(quality.make_warning("low_contrast"))

    # Edge steepness on the analysis image: darkness change per pixel at the
    # strokes' edges, relative to the strokes' own darkness.
    if ink_darkness.size:
        x, y, w, h = detection.box
        gy, gx = np.gradient(detection.darkness[y : y + h, x : x + w])
        steep = np.hypot(gx, gy)
        near = ink[y : y + h, x : x + w]
        edge = float(np.percentile(steep[near], 90)) / max(float(np.median(ink_darkness)), 1e-3)
        detection.notes["edge_steepness"] = edge
        if edge < params.blurry:
            warnings.append(quality.make_warning("blurry"))

    height, width = analysis_shape
    margin = params.border_margin * max(height, width)
    x, y, w, h = detection.box
    if (x <= margin or y <= margin or x + w >= width - margin or y + h >= height - margin):
        warnings.append(quality.make_warning("signature_cut_off"))
    if full_box.height < params.low_resolution or full_box.width < 2 * params.low_resolution:
        warnings.append(quality.make_warning("low_resolution"))
    # On a printed page, underlines and the page's own lines are not ruled paper.
    printed_page = detection.text_components >= 30
    if (detection.ruled_lines >= 2 or detection.grid_lines >= 2) and not printed_page:
        warnings.append(quality.make_warning("lined_paper"))
    if sideways and orientation == 1:
        warnings.append(quality.make_warning("rotated_photo"))
    return warnings


def process(
    data: bytes | bytearray | memoryview | str | Path,
    *,
    params: Params | str | Path | dict | None = None,
    backend: str | Backend | None = None,
    crop: tuple[int, int, int, int] | None = None,
    rotation: float | None = None,
    output: OutputOptions | None = None,
    limits: Limits | None = None,
) -> Result:
    """Turn an uploaded photo or scan of a signature into a clean signature image.

    Parameters
    ----------
    data : bytes or path
        The upload's bytes, or a path to read them from. The format comes from
        the content, never the name.
    params : Params, str, Path or dict, optional
        The parameter set, a profile name, a profile path, or a dict of fields.
    backend : str or Backend, optional
        Backend name (``"opencv"``, ...); default from ``SIGNATURE_ENGINE_BACKEND``,
        then the preference order.
    crop : tuple of int, optional
        The user's crop ``(x, y, width, height)`` in upright input pixels. Ink is
        looked for inside it only, and all of it is kept.
    rotation : float, optional
        The user's rotation in degrees, counter-clockwise. It replaces the
        automatic deskew; any angle is allowed, quarter turns included.
    output : OutputOptions, optional
        Output mode, ink colour, padding, canvas and DPI.
    limits : Limits, optional
        Upload limits: file size, pixel count, minimum side.

    Returns
    -------
    Result
        The PNG bytes, the pixels and the result record.

    Raises
    ------
    engine.errors.InputError
        The upload is empty, too large, too small, corrupt, animated or in an
        unsupported format.
    engine.errors.NoInkFound, engine.errors.NotASignature
        No handwriting was found.
    engine.errors.InvalidAdjustment, engine.errors.InvalidParameter
        A manual adjustment, option or parameter is out of range.
    """
    from engine import __version__

    timer = _Timer()
    params = resolve_params(params)
    backend = get_backend(backend)
    output = output or OutputOptions()
    limits = limits or Limits()

    with timer.step("decode"):
        if isinstance(data, (str, Path)):
            try:
                data = read_upload_file(data, limits)
            except OSError as error:
                raise FileNotReadable.from_os_error(str(data), error) from error
        upload = open_upload(data, limits)
        manual_box = _check_adjustments(crop, rotation, upload.full_size)
        analysis = _analysis_copy(upload, params, backend)
    scale = analysis.shape[1] / upload.full_size[0]

    with timer.step("detect"):
        region = None
        if manual_box is not None:
            x1 = int(math.floor(manual_box.x * scale))
            y1 = int(math.floor(manual_box.y * scale))
            x2 = int(math.ceil(manual_box.x2 * scale))
            y2 = int(math.ceil(manual_box.y2 * scale))
            region = (x1, y1, max(1, x2 - x1), max(1, y2 - y1))
        detection = detect_ink(analysis, params, backend, region=region, keep_all=manual_box is not None)
    if detection.box is None:
        raise _rejection(detection)

    with timer.step("deskew"):
        estimate = estimate_angle(detection.mask, params, backend)
        if rotation is not None:
            angle = float(rotation)
        elif (
            estimate.confidence >= params.deskew_min_confidence
            and abs(estimate.angle) >= params.deskew_min_angle
        ):
            # Levelling a baseline that rises by `angle` means turning it back.
            angle = -estimate.angle
        else:
            angle = 0.0

    with timer.step("binarize"):
        box = _full_box(detection.box, scale, upload.full_size)
        if manual_box is not None:
            box = Box(
                max(box.x, manual_box.x),
                max(box.y, manual_box.y),
                min(box.x2, manual_box.x2) - max(box.x, manual_box.x),
                min(box.y2, manual_box.y2) - max(box.y, manual_box.y),
            )
        region_rgb = upload.decode_region((box.x, box.y, box.width, box.height))
        shape = region_rgb.shape[:2]
        paper = _region_of(detection.paper, box, scale, shape, backend, "linear")
        gate = _region_of(backend.dilate(detection.mask, (5, 5)), box, scale, shape, backend, "nearest")
        lines = None
        if detection.line_bands.any():
            bands = backend.dilate(detection.line_bands, (3, 3))
            lines = _region_of(bands, box, scale, shape, backend, "nearest") > 0
        mask, alpha, _ = binarize_region(
            region_rgb, paper, gate, detection.threshold, detection.threshold_low, backend,
            lines=lines, line_darkness=detection.line_darkness,
        )
        if not mask.any():
            raise NoInkFound()
        ink_rgb = tuple(int(v) for v in np.median(region_rgb[mask], axis=0))

    with timer.step("render"):
        stroke = Stroke(alpha=alpha, origin=(box.x, box.y))
        stroke = trim(rotate_stroke(stroke, angle, backend))
        image = center_on_canvas(stroke, resolve_ink_color(output.ink_color, ink_rgb), output, backend)
        image_bytes = encode_png(image, output.dpi)

    # The crop box reported is the tight box of the binarised ink in input coordinates.
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    crop_box = Box(box.x + int(cols[0]), box.y + int(rows[0]), int(cols[-1] - cols[0] + 1),
                   int(rows[-1] - rows[0] + 1))
    ink_mask = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    warnings = _quality_warnings(
        detection, analysis.shape[:2], crop_box, estimate.sideways, upload.orientation, params
    )
    logger.info(
        "processed %s %dx%d: box %s, angle %.2f (estimated %.2f, confidence %.2f), warnings %s",
        upload.format, *upload.full_size, crop_box.as_list(), angle, estimate.angle,
        estimate.confidence, [w.code for w in warnings],
    )
    return Result(
        image_bytes=image_bytes,
        image=image,
        crop_box=crop_box,
        angle=angle,
        angle_estimated=estimate.angle,
        angle_confidence=estimate.confidence,
        orientation=upload.orientation,
        ink_color=ink_rgb,
        ink_mask=ink_mask,
        input_format=upload.format,
        input_size=upload.full_size,
        warnings=warnings,
        timings_ms=timer.timings,
        backend=backend.name,
        engine_version=__version__,
        params=params.to_dict(),
        output={
            "mode": output.mode,
            "width": int(image.shape[1]),
            "height": int(image.shape[0]),
            "dpi": output.dpi,
            "bytes": len(image_bytes),
        },
        manual=None if crop is None and rotation is None else {
            "crop": None if manual_box is None else manual_box.as_list(),
            "rotation": rotation,
        },
    )


def binarize_image(
    rgb: np.ndarray,
    params: Params | str | Path | dict | None = None,
    backend: str | Backend | None = None,
) -> np.ndarray:
    """Binarise a whole page at full resolution, with no cropping or signature selection.

    The paper estimate and thresholds are those of the pipeline, with pixel sizes
    scaled from the analysis resolution to this image. Used to score the
    binarisation step alone on document-binarisation benchmarks.

    Parameters
    ----------
    rgb : ndarray
        ``(H, W, 3)`` uint8 sRGB image.

    Returns
    -------
    ndarray
        ``(H, W)`` bool, True where there is ink.
    """
    params = resolve_params(params)
    backend = get_backend(backend)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    long_side = max(rgb.shape[:2])
    factor = long_side / params.analysis_long_side
    scaled = Params.from_dict(
        {
            **params.to_dict(),
            "background_kernel": min(301, max(5, int(round(params.background_kernel * factor)))),
            "background_blur": min(50.0, params.background_blur * factor),
        }
    )
    scaled, _, darkness = adapt_background_kernel(rgb, scaled, backend)

    high, low = seed_thresholds(darkness, scaled)
    mask = hysteresis_threshold(darkness, high, low, backend)
    components = backend.connected_components(mask)
    areas = components.stats[:, 4]
    keep = areas >= max(1, int(params.min_component_area * factor * factor))
    keep[0] = False
    return keep[components.labels]
