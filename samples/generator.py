"""Generator of synthetic phone photos of signatures with exact ground truth.

A photo is a pure function of a :class:`SampleSpec`: the same spec (seed
included) gives the same JPEG bytes and the same ground truth, on the same
versions of NumPy, OpenCV and Pillow.

The ink is drawn as discs along each stroke on a canvas ``supersample`` times
finer than the output, directly in output coordinates (after the paper's
perspective), then area-averaged down to the output grid. The average is the ink
coverage of each output pixel. It sets how dark the pixel gets and, thresholded
at one half, gives the ground-truth mask, so the truth matches the visible ink.

All ground truth is in the upright frame: the frame a viewer sees once the EXIF
orientation is applied. The stored pixels are that frame turned by the inverse
of the orientation.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image

from samples.scene import INK_COLORS, illumination, render_desk, render_paper
from samples.strokes import Stroke, synthesize_signature

__all__ = ["GENERATOR_VERSION", "Sample", "SampleSpec", "render_sample"]

GENERATOR_VERSION = 1

# Pillow transpose that turns upright pixels into stored pixels for each EXIF
# orientation: the inverse of the one a viewer applies to display them.
_STORE_TRANSPOSE: dict[int, Image.Transpose | None] = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@dataclass(frozen=True)
class SampleSpec:
    """Every choice that defines one synthetic photo.

    Sizes are in output pixels of the upright frame; angles in degrees,
    counter-clockwise positive as seen on screen.

    Attributes
    ----------
    seed : int
        Seed of every random draw not fixed by the other fields (stroke shapes,
        textures, shadow shape, noise).
    width, height : int
        Upright output size. 4000 x 3000 is a 12 MP phone photo.
    signature : bool
        False for a negative sample: the same scene with no ink at all.
    ink : {"black", "blue", "green"}
    paper : {"plain", "ruled", "squared"}
    desk : {"wood", "dark", "fabric"}
    paper_coverage : float
        Width of the sheet as a fraction of the frame width; above 1 the sheet
        fills the frame and no desk shows on the left and right.
    paper_rotation : float
        In-plane rotation of the sheet in the frame, degrees.
    perspective : float
        Random displacement of each sheet corner, as a fraction of the sheet size
        (0 is a top-down shot; 0.08 is a strong tilt).
    signature_width : float
        Width of the signature as a fraction of the frame width.
    signature_rotation : float
        Rotation of the signature's baseline on the sheet, degrees.
    pen_width : float
        Nominal pen width in output pixels, before pressure variation.
    ink_density : float
        Opacity of fully covered ink pixels, in (0, 1].
    light_gradient : float
        Relative brightness change across the frame (0.3 is 30 %).
    shadow : {"none", "soft", "hard"}
    blur : float
        Defocus, as the sigma of a Gaussian in output pixels (0 for none).
    noise : float
        Sensor noise standard deviation at full brightness, in [0, 1] units.
    jpeg_quality : int
        Pillow JPEG quality, 1-95.
    orientation : int
        EXIF orientation tag (1-8) written into the file.
    supersample : int
        Ink canvas resolution as a multiple of the output resolution.
    """

    seed: int
    width: int = 1600
    height: int = 1200
    signature: bool = True
    ink: str = "blue"
    paper: str = "plain"
    desk: str = "wood"
    paper_coverage: float = 0.85
    paper_rotation: float = 0.0
    perspective: float = 0.03
    signature_width: float = 0.5
    signature_rotation: float = 0.0
    pen_width: float = 3.0
    ink_density: float = 0.9
    light_gradient: float = 0.2
    shadow: str = "none"
    blur: float = 0.6
    noise: float = 0.012
    jpeg_quality: int = 90
    orientation: int = 1
    supersample: int = 4

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Sample:
    """One rendered photo and its ground truth.

    Attributes
    ----------
    spec : SampleSpec
    jpeg : bytes
        The encoded photo as stored (pixels turned by the inverse orientation, EXIF
        orientation tag set).
    mask : ndarray
        ``(height, width)`` bool ink mask of the upright frame, True where an output
        pixel is at least half covered by ink.
    coverage : ndarray
        ``(height, width)`` float32 ink coverage of each upright pixel in [0, 1].
    box : tuple of int or None
        ``(x, y, width, height)`` of the mask's bounding box in upright pixels, None
        for a negative sample.
    angle : float or None
        Baseline angle of the signature in the upright frame, degrees,
        counter-clockwise positive; None for a negative sample.
    """

    spec: SampleSpec
    jpeg: bytes
    mask: np.ndarray
    coverage: np.ndarray
    box: tuple[int, int, int, int] | None
    angle: float | None
    extra: dict[str, Any] = field(default_factory=dict)


def _rotation(degrees: float) -> np.ndarray:
    # Screen rotation by ``degrees`` counter-clockwise in a y-down frame.
    theta = math.radians(degrees)
    return np.array([[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]])


def _paper_homography(
    rng: np.random.Generator, spec: SampleSpec
) -> tuple[np.ndarray, tuple[int, int]]:
    """Return the paper-to-frame homography ``(3, 3)`` and the sheet size ``(height, width)``."""
    landscape = rng.random() < 0.5
    aspect = math.sqrt(2.0) if landscape else 1.0 / math.sqrt(2.0)
    paper_width = int(spec.width * spec.paper_coverage)
    paper_height = int(paper_width / aspect)
    centre = np.array([spec.width, spec.height]) * (0.5 + rng.uniform(-0.05, 0.05, 2))

    corners = np.array(
        [[0, 0], [paper_width, 0], [paper_width, paper_height], [0, paper_height]], dtype=np.float64
    )
    # The signature is usually written in the part of the sheet the phone points at,
    # so the frame centre falls on a random point of the sheet's middle band.
    focus = np.array([paper_width, paper_height]) * rng.uniform(0.4, 0.6, 2)
    placed = (corners - focus) @ _rotation(spec.paper_rotation).T + centre
    jitter = rng.uniform(-1.0, 1.0, (4, 2)) * spec.perspective * np.array([paper_width, paper_height])
    placed = placed + jitter
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), placed.astype(np.float32))
    return homography, (paper_height, paper_width)


def _place_strokes(
    rng: np.random.Generator,
    strokes: list[Stroke],
    spec: SampleSpec,
    homography: np.ndarray,
    line_spacing: float,
    line_offset: float,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Map stroke points to frame pixels; return the point arrays, the centre and baseline direction."""
    all_points = np.vstack([stroke.points for stroke in strokes])
    low, high = all_points.min(axis=0), all_points.max(axis=0)
    units_width = float(high[0] - low[0])

    # Scale so the signature spans the requested fraction of the frame.
    frame_scale = math.sqrt(abs(np.linalg.det(homography[:2, :2])))
    scale = spec.signature_width * spec.width / units_width / max(frame_scale, 1e-6)
    middle = np.array([(low[0] + high[0]) / 2.0, 0.0])

    inverse = np.linalg.inv(homography)
    target = np.array([spec.width / 2.0, spec.height / 2.0, 1.0])
    target = target + np.array([*rng.uniform(-0.08, 0.08, 2) * [spec.width, spec.height], 0.0])
    anchor = inverse @ target
    anchor = anchor[:2] / anchor[2]
    if spec.paper == "ruled" and abs(spec.signature_rotation) < 3.0:
        # People sign on a ruled line: snap the baseline to the nearest line.
        line = round((anchor[1] - line_offset) / line_spacing)
        anchor[1] = line_offset + line * line_spacing + rng.uniform(-0.12, 0.02) * line_spacing

    rotation = _rotation(spec.signature_rotation)
    mapped = []
    for stroke in strokes:
        local = (stroke.points - middle) * scale
        local[:, 1] = -local[:, 1]  # signature units are y-up, paper pixels y-down
        paper_points = local @ rotation.T + anchor
        frame = cv2.perspectiveTransform(paper_points[None, :, :].astype(np.float64), homography)[0]
        mapped.append(frame)

    baseline = np.array([[0.0, 0.0], [1.0, 0.0]]) * scale * units_width * 0.5
    baseline = baseline @ rotation.T + anchor
    ends = cv2.perspectiveTransform(baseline[None, :, :], homography)[0]
    return mapped, ends[0], ends[1] - ends[0]


def _draw_ink(
    mapped: list[np.ndarray],
    strokes: list[Stroke],
    spec: SampleSpec,
    pen_scale: float,
) -> np.ndarray:
    """Return the ``(height, width)`` float32 ink coverage of the frame."""
    coverage = np.zeros((spec.height, spec.width), dtype=np.float32)
    radii = [0.5 * spec.pen_width * pen_scale * stroke.widths for stroke in strokes]
    margin = 0.5 * spec.pen_width * 1.6 + 2
    points = np.vstack(mapped)
    x0 = max(0, int(math.floor(points[:, 0].min() - margin)))
    y0 = max(0, int(math.floor(points[:, 1].min() - margin)))
    x1 = min(spec.width, int(math.ceil(points[:, 0].max() + margin)))
    y1 = min(spec.height, int(math.ceil(points[:, 1].max() + margin)))
    if x1 <= x0 or y1 <= y0:
        return coverage

    factor = spec.supersample
    shift = 4  # cv2 fixed-point bits: coordinates in 1/16 of a canvas pixel
    canvas = np.zeros(((y1 - y0) * factor, (x1 - x0) * factor), dtype=np.uint8)
    for frame_points, stroke_radii in zip(mapped, radii, strict=True):
        local = (frame_points - [x0, y0]) * factor
        # Resample densely: discs at most a third of a radius apart draw a solid stroke.
        steps = np.linalg.norm(np.diff(local, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(steps)])
        spacing = max(0.35, float(stroke_radii.min()) * factor / 3.0)
        positions = np.arange(0.0, arc[-1] + spacing, spacing)
        xs = np.interp(positions, arc, local[:, 0])
        ys = np.interp(positions, arc, local[:, 1])
        rs = np.interp(positions, arc, stroke_radii) * factor
        for x, y, r in zip(xs, ys, rs, strict=True):
            cv2.circle(
                canvas,
                (int(round(x * 16)), int(round(y * 16))),
                max(1, int(round(r * 16))),
                255,
                -1,
                cv2.LINE_8,
                shift,
            )
    small = cv2.resize(
        canvas.astype(np.float32) / 255.0, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA
    )
    coverage[y0:y1, x0:x1] = small
    return coverage


def _encode(upright: np.ndarray, spec: SampleSpec) -> bytes:
    image = Image.fromarray(upright, mode="RGB")
    transpose = _STORE_TRANSPOSE[spec.orientation]
    if transpose is not None:
        image = image.transpose(transpose)
    exif = Image.Exif()
    exif[0x0112] = spec.orientation  # Orientation
    exif[0x010F] = "signature-engine samples"  # Make
    exif[0x0110] = f"synthetic v{GENERATOR_VERSION}"  # Model
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=spec.jpeg_quality, exif=exif.tobytes(), subsampling=2)
    return buffer.getvalue()


def render_sample(spec: SampleSpec) -> Sample:
    """Render the photo described by ``spec`` with its ground truth.

    Parameters
    ----------
    spec : SampleSpec
        The scene; see its attributes for units.

    Returns
    -------
    Sample
        The JPEG bytes and the upright ground truth (mask, box, baseline angle).

    Raises
    ------
    ValueError
        If a categorical field holds an unknown value or a size is not positive.
    """
    _check(spec)
    rng = np.random.default_rng(spec.seed)
    shape = (spec.height, spec.width)

    homography, paper_shape = _paper_homography(rng, spec)
    line_spacing = float(rng.uniform(0.045, 0.06) * paper_shape[1])
    if spec.paper == "squared":
        line_spacing *= 0.6
    line_offset = float(rng.uniform(0.0, line_spacing))

    desk = render_desk(rng, shape, spec.desk)
    paper = render_paper(
        rng, paper_shape, spec.paper, line_spacing=line_spacing, line_offset=line_offset
    )
    warped = cv2.warpPerspective(paper, homography, (spec.width, spec.height), flags=cv2.INTER_LINEAR)
    sheet = cv2.warpPerspective(
        np.ones(paper_shape, dtype=np.float32), homography, (spec.width, spec.height), flags=cv2.INTER_LINEAR
    )
    reflectance = desk * (1.0 - sheet[..., None]) + warped * sheet[..., None]

    box: tuple[int, int, int, int] | None = None
    angle: float | None = None
    coverage = np.zeros(shape, dtype=np.float32)
    strokes = synthesize_signature(rng) if spec.signature else []
    if strokes:
        mapped, centre, direction = _place_strokes(
            rng, strokes, spec, homography, line_spacing, line_offset
        )
        # Perspective makes the pen look thinner where the sheet is farther away.
        pen_scale = math.sqrt(abs(np.linalg.det(_jacobian(homography, centre))))
        coverage = _draw_ink(mapped, strokes, spec, pen_scale)
        coverage *= sheet  # ink off the sheet is impossible; keep the truth honest at edges
        angle = float(math.degrees(math.atan2(-direction[1], direction[0])))

        ink = np.array(INK_COLORS[spec.ink], dtype=np.float32)
        grain = 1.0 - 0.18 * np.clip(rng.standard_normal(shape).astype(np.float32), -2, 2) ** 2 / 4
        alpha = (coverage * spec.ink_density * grain)[..., None]
        reflectance = reflectance * (1.0 - alpha * (1.0 - ink[None, None, :]))

    light = illumination(rng, shape, gradient=spec.light_gradient, shadow=spec.shadow)
    radiance = reflectance * light
    if spec.blur > 0:
        radiance = cv2.GaussianBlur(radiance, (0, 0), spec.blur)
    if spec.noise > 0:
        grain = rng.standard_normal(radiance.shape).astype(np.float32)
        radiance = radiance + spec.noise * np.sqrt(np.clip(radiance, 0, None)) * grain
    # A mild tone curve, as phone pipelines brighten mid-tones.
    radiance = np.clip(radiance, 0.0, 1.0) ** 0.85
    upright = np.clip(radiance * 255.0 + 0.5, 0, 255).astype(np.uint8)

    mask = coverage >= 0.5
    if mask.any():
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        box = (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
    elif spec.signature:
        angle = None

    return Sample(spec=spec, jpeg=_encode(upright, spec), mask=mask, coverage=coverage, box=box, angle=angle)


def _jacobian(homography: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Return the ``(2, 2)`` derivative of the homography at ``point`` (x, y)."""
    x, y = float(point[0]), float(point[1])
    h = homography
    w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    u = h[0, 0] * x + h[0, 1] * y + h[0, 2]
    v = h[1, 0] * x + h[1, 1] * y + h[1, 2]
    return np.array(
        [
            [(h[0, 0] * w - u * h[2, 0]) / w**2, (h[0, 1] * w - u * h[2, 1]) / w**2],
            [(h[1, 0] * w - v * h[2, 0]) / w**2, (h[1, 1] * w - v * h[2, 1]) / w**2],
        ]
    )


def _check(spec: SampleSpec) -> None:
    choices = {
        "ink": (spec.ink, tuple(INK_COLORS)),
        "paper": (spec.paper, ("plain", "ruled", "squared")),
        "desk": (spec.desk, ("wood", "dark", "fabric")),
        "shadow": (spec.shadow, ("none", "soft", "hard")),
    }
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ValueError(f"invalid {name} {value!r}: expected one of {', '.join(allowed)}")
    if spec.width < 16 or spec.height < 16:
        raise ValueError(f"invalid size {spec.width}x{spec.height}: both sides must be at least 16 px")
    if spec.orientation not in _STORE_TRANSPOSE:
        raise ValueError(f"invalid EXIF orientation {spec.orientation}: expected 1 to 8")
    if not 1 <= spec.jpeg_quality <= 95:
        raise ValueError(f"invalid JPEG quality {spec.jpeg_quality}: expected 1 to 95")
