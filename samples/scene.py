"""Scene rendering helpers: desk, paper, lighting and camera effects.

Every function takes an explicit ``numpy.random.Generator`` and returns float32
arrays, so a scene is a pure function of its seed. Images are ``(H, W, 3)``
float32 reflectance or radiance in [0, 1], RGB order, rows top to bottom.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "INK_COLORS",
    "illumination",
    "render_desk",
    "render_paper",
    "smooth_field",
]

# Reflectance of each ink relative to the paper under it, RGB in [0, 1].
INK_COLORS: dict[str, tuple[float, float, float]] = {
    "black": (0.11, 0.11, 0.13),
    "blue": (0.10, 0.17, 0.52),
    "green": (0.08, 0.38, 0.20),
}


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Return a ``shape`` float32 field of smooth noise in about [-1, 1].

    ``cells`` is the number of random knots along the longer side; fewer knots give
    slower variation.
    """
    height, width = shape
    scale = max(height, width) / max(cells, 1)
    knots = rng.uniform(-1.0, 1.0, (max(2, int(height / scale) + 2), max(2, int(width / scale) + 2)))
    field = cv2.resize(knots.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(field, -1.0, 1.0)


def _fine_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    noise = rng.standard_normal(shape).astype(np.float32)
    return cv2.GaussianBlur(noise, (0, 0), sigma)


def render_desk(rng: np.random.Generator, shape: tuple[int, int], kind: str) -> np.ndarray:
    """Render a desk surface of ``shape`` (H, W) as ``(H, W, 3)`` float32 reflectance.

    ``kind`` is ``"wood"`` (grain along x), ``"dark"`` (dark laminate) or
    ``"fabric"`` (grey cloth).
    """
    height, width = shape
    if kind == "wood":
        grain = cv2.resize(
            rng.standard_normal((max(2, height // 6), max(2, width // 120))).astype(np.float32),
            (width, height),
            interpolation=cv2.INTER_CUBIC,
        )
        rows = np.linspace(0, rng.uniform(20, 45), height, dtype=np.float32)[:, None]
        bands = np.sin(rows + 1.5 * grain)
        tone = 0.42 + 0.06 * bands + 0.03 * _fine_noise(rng, shape, 1.0)
        base = np.array(rng.choice([(0.62, 0.42, 0.26), (0.55, 0.36, 0.22), (0.70, 0.52, 0.34)]))
        desk = tone[..., None] * (base / 0.45)[None, None, :]
    elif kind == "dark":
        tone = 0.16 + 0.02 * smooth_field(rng, shape, 6) + 0.01 * _fine_noise(rng, shape, 1.2)
        desk = tone[..., None] * np.array([1.0, 0.97, 0.95])[None, None, :]
    else:
        weave = 0.02 * np.sin(np.arange(width, dtype=np.float32) * 1.7)[None, :]
        weave = weave + 0.02 * np.sin(np.arange(height, dtype=np.float32) * 1.7)[:, None]
        tone = 0.40 + weave + 0.04 * _fine_noise(rng, shape, 0.8) + 0.03 * smooth_field(rng, shape, 5)
        desk = tone[..., None] * np.array([0.95, 0.97, 1.0])[None, None, :]
    return np.clip(desk, 0.0, 1.0).astype(np.float32)


def render_paper(
    rng: np.random.Generator,
    shape: tuple[int, int],
    kind: str,
    *,
    line_spacing: float,
    line_offset: float = 0.0,
) -> np.ndarray:
    """Render a sheet of paper of ``shape`` (H, W) as ``(H, W, 3)`` float32 reflectance.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    shape : tuple of int
        ``(height, width)`` of the sheet in paper pixels.
    kind : {"plain", "ruled", "squared"}
        Plain paper, ruled paper (horizontal blue lines and a red margin) or squared
        paper (a grid).
    line_spacing : float
        Distance between ruled lines or grid lines, in paper pixels.
    line_offset : float
        Position of the first line from the top (and the left for a grid), in
        paper pixels.
    """
    height, width = shape
    tint = np.array(rng.choice([(0.93, 0.93, 0.91), (0.95, 0.94, 0.90), (0.92, 0.93, 0.95)]))
    tone = 1.0 + 0.012 * _fine_noise(rng, shape, 0.7) + 0.02 * smooth_field(rng, shape, 8)
    paper = tone[..., None] * tint[None, None, :]

    if kind in ("ruled", "squared"):
        lines = np.zeros(shape, dtype=np.float32)
        # Lines are drawn a few times larger and downscaled, so they are anti-aliased.
        thickness = max(1, int(round(line_spacing / 28)))
        y = line_offset
        while y < height:
            cv2.line(lines, (0, int(y * 16)), (width * 16, int(y * 16)), 1.0, thickness, cv2.LINE_AA, 4)
            y += line_spacing
        if kind == "squared":
            x = line_offset
            while x < width:
                cv2.line(lines, (int(x * 16), 0), (int(x * 16), height * 16), 1.0, thickness, cv2.LINE_AA, 4)
                x += line_spacing
        color = np.array(rng.choice([(0.55, 0.70, 0.92), (0.70, 0.75, 0.80), (0.55, 0.78, 0.62)]))
        strength = rng.uniform(0.45, 0.8)
        paper = paper * (1.0 - strength * lines[..., None] * (1.0 - color)[None, None, :])
        if kind == "ruled":
            margin = np.zeros(shape, dtype=np.float32)
            mx = int(width * rng.uniform(0.08, 0.14) * 16)
            cv2.line(margin, (mx, 0), (mx, height * 16), 1.0, thickness, cv2.LINE_AA, 4)
            red = np.array([0.92, 0.45, 0.48])
            paper = paper * (1.0 - 0.6 * margin[..., None] * (1.0 - red)[None, None, :])
    return np.clip(paper, 0.0, 1.0).astype(np.float32)


def illumination(
    rng: np.random.Generator,
    shape: tuple[int, int],
    *,
    gradient: float,
    shadow: str,
) -> np.ndarray:
    """Return an ``(H, W, 3)`` float32 illumination field to multiply reflectance with.

    Parameters
    ----------
    gradient : float
        Relative brightness change across the frame from a linear light falloff and
        vignetting, e.g. 0.3 for 30 %.
    shadow : {"none", "soft", "hard"}
        A cast shadow (of a hand or a phone) over part of the frame: none, a wide
        soft one darkening by 20 to 35 %, or a sharper one darkening by 35 to 55 %.
    """
    height, width = shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs = xs / width - 0.5
    ys = ys / height - 0.5
    direction = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(direction) * xs + np.sin(direction) * ys
    light = 1.0 + gradient * ramp - 0.5 * gradient * (xs**2 + ys**2)

    if shadow != "none":
        # A blurred polygon entering from one side of the frame.
        side = int(rng.integers(0, 4))
        centre = np.array([width, height]) * rng.uniform(0.25, 0.75, 2)
        points = []
        for angle in np.linspace(0, 2 * np.pi, 9, endpoint=False):
            radius = rng.uniform(0.25, 0.5) * max(width, height)
            points.append(centre + radius * np.array([np.cos(angle) * 1.4, np.sin(angle)]))
        shift = np.array([[-0.55, 0.0], [0.55, 0.0], [0.0, -0.55], [0.0, 0.55]][side])
        polygon = (np.array(points) + shift * np.array([width, height])).astype(np.int32)
        sharp = shadow == "hard"
        sigma = max(width, height) * (rng.uniform(0.006, 0.02) if sharp else rng.uniform(0.03, 0.07))
        # Blur at a reduced scale: a wide Gaussian at full size costs seconds.
        reduce = max(1, int(sigma / 4))
        small_shape = (max(1, height // reduce), max(1, width // reduce))
        mask = np.zeros(small_shape, dtype=np.float32)
        cv2.fillPoly(mask, [(polygon / reduce).astype(np.int32)], 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), sigma / reduce)
        mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
        depth = rng.uniform(0.35, 0.55) if sharp else rng.uniform(0.2, 0.35)
        light = light * (1.0 - depth * mask)

    warmth = rng.uniform(-0.06, 0.06)
    tint = np.array([1.0 + warmth, 1.0, 1.0 - warmth], dtype=np.float32)
    return (np.clip(light, 0.05, 1.5)[..., None] * tint[None, None, :]).astype(np.float32)
