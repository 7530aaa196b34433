"""Synthesis of handwriting-like signature strokes.

A signature is a list of pen-down strokes. Each stroke is a dense polyline with a
pen width per point, in *signature units*: x to the right, y upwards, the
baseline at ``y = 0`` and the x-height at about ``y = 1``. The scene module maps
these units to paper and image pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Stroke", "synthesize_signature"]


@dataclass(frozen=True)
class Stroke:
    """One pen-down stroke.

    Attributes
    ----------
    points : ndarray
        ``(N, 2)`` float64 positions ``(x, y)`` in signature units, y upwards,
        spaced densely enough to be drawn as overlapping discs.
    widths : ndarray
        ``(N,)`` float64 pen width at each point, as a fraction of the nominal
        pen width (1.0 is nominal; pressure makes it vary between about 0.4 and 1.3).
    """

    points: np.ndarray
    widths: np.ndarray


def _catmull_rom(control: np.ndarray, samples_per_unit: float) -> np.ndarray:
    """Interpolate ``(K, 2)`` control points with a centripetal-free uniform Catmull-Rom spline."""
    padded = np.vstack([control[0], control, control[-1]])
    pieces = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        count = max(4, int(np.ceil(np.linalg.norm(p2 - p1) * samples_per_unit)))
        t = np.linspace(0.0, 1.0, count, endpoint=False)[:, None]
        t2, t3 = t * t, t * t * t
        pieces.append(
            0.5
            * (
                2 * p1
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t3
            )
        )
    pieces.append(control[-1][None, :])
    return np.vstack(pieces)


def _smooth_noise(rng: np.random.Generator, count: int, scale: float) -> np.ndarray:
    """Return ``count`` values of smooth noise in about [-1, 1], varying over ``scale`` samples."""
    knots = max(2, int(count / max(scale, 1.0)) + 2)
    values = rng.uniform(-1.0, 1.0, knots)
    return np.interp(np.linspace(0, knots - 1, count), np.arange(knots), values)


def _pressure(rng: np.random.Generator, count: int) -> np.ndarray:
    """Return a pressure profile for one stroke: tapered ends and slow variation."""
    base = 0.85 + 0.25 * _smooth_noise(rng, count, scale=count / rng.uniform(2.0, 6.0))
    ramp = max(2, int(count * rng.uniform(0.03, 0.08)))
    taper = np.ones(count)
    taper[:ramp] = np.linspace(0.45, 1.0, ramp)
    taper[-ramp:] = np.minimum(taper[-ramp:], np.linspace(1.0, rng.uniform(0.3, 0.6), ramp))
    return np.clip(base * taper, 0.35, 1.35)


def _word_controls(rng: np.random.Generator, x_start: float, letters: int) -> np.ndarray:
    """Return control points of one cursive word: up and down strokes with loops."""
    points = [(x_start, rng.uniform(0.0, 0.4))]
    x = x_start
    for index in range(letters):
        kind = rng.choice(["plain", "ascender", "descender", "loop"], p=[0.45, 0.25, 0.12, 0.18])
        step = rng.uniform(0.45, 0.9)
        if kind == "plain":
            points.append((x + step * 0.5, rng.uniform(0.8, 1.15)))
            points.append((x + step, rng.uniform(-0.05, 0.1)))
        elif kind == "ascender":
            height = rng.uniform(1.7, 2.6)
            # A tall loop: go up to the right, come back down slightly to the left.
            points.append((x + step * 0.7, height))
            points.append((x + step * 0.35, height * 0.55))
            points.append((x + step, rng.uniform(-0.05, 0.1)))
        elif kind == "descender":
            depth = rng.uniform(-1.3, -0.7)
            points.append((x + step * 0.4, rng.uniform(0.8, 1.1)))
            points.append((x + step * 0.5, depth))
            points.append((x + step * 0.2, depth * 0.4))
            points.append((x + step, rng.uniform(0.2, 0.5)))
        else:
            # A small closed loop at x-height, like an "o" or "e".
            points.append((x + step * 0.8, rng.uniform(0.9, 1.2)))
            points.append((x + step * 0.3, rng.uniform(0.7, 1.0)))
            points.append((x + step * 0.4, rng.uniform(0.05, 0.2)))
            points.append((x + step, rng.uniform(0.3, 0.6)))
        x += step
        if index == 0 and rng.random() < 0.6:
            # Capital letters are taller and wider.
            points[-1] = (points[-1][0] + 0.3, points[-1][1])
    return np.asarray(points, dtype=np.float64)


def synthesize_signature(
    rng: np.random.Generator,
    *,
    slant: float | None = None,
    flourish: bool | None = None,
) -> list[Stroke]:
    """Synthesise the strokes of a random handwriting-like signature.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; the same state gives the same strokes.
    slant : float, optional
        Horizontal shear applied to the strokes (x += slant * y), positive leaning
        right. Drawn from [-0.15, 0.55] when None.
    flourish : bool, optional
        Whether to add an underline flourish. Drawn with probability 0.5 when None.

    Returns
    -------
    list of Stroke
        Pen-down strokes in signature units (baseline y = 0, x-height about 1,
        y upwards); the whole signature is about 4 to 12 units wide.
    """
    if slant is None:
        slant = float(rng.uniform(-0.15, 0.55))
    if flourish is None:
        flourish = bool(rng.random() < 0.5)

    strokes: list[Stroke] = []
    words = int(rng.integers(1, 4))
    x = 0.0
    letter_tops: list[tuple[float, float]] = []
    for _ in range(words):
        letters = int(rng.integers(3, 8))
        controls = _word_controls(rng, x, letters)
        controls[:, 1] += 0.06 * _smooth_noise(rng, len(controls), scale=3.0)
        points = _catmull_rom(controls, samples_per_unit=160.0)
        strokes.append(Stroke(points, _pressure(rng, len(points))))
        letter_tops.extend((float(px), float(py)) for px, py in controls if 0.7 < py < 1.3)
        x = float(controls[:, 0].max()) + rng.uniform(0.4, 1.0)

    # Detached dots (i-dots, full stops) above some x-height letters.
    dot_count = int(rng.integers(0, 3))
    for _ in range(min(dot_count, len(letter_tops))):
        cx, cy = letter_tops[int(rng.integers(0, len(letter_tops)))]
        centre = np.array([cx + rng.uniform(0.0, 0.3), cy + rng.uniform(0.5, 0.9)])
        wiggle = rng.uniform(-0.04, 0.04, size=(3, 2))
        dot = _catmull_rom(centre + np.cumsum(wiggle, axis=0), samples_per_unit=160.0)
        strokes.append(Stroke(dot, np.full(len(dot), rng.uniform(1.1, 1.4))))

    if flourish:
        width = x
        controls = np.array(
            [
                (rng.uniform(-0.3, 0.5), rng.uniform(-0.5, -0.2)),
                (width * 0.35, rng.uniform(-0.75, -0.45)),
                (width * 0.75, rng.uniform(-0.6, -0.3)),
                (width * rng.uniform(0.9, 1.1), rng.uniform(-0.3, 0.1)),
            ]
        )
        points = _catmull_rom(controls, samples_per_unit=160.0)
        strokes.append(Stroke(points, _pressure(rng, len(points)) * 0.9))

    sheared = []
    for stroke in strokes:
        points = stroke.points.copy()
        points[:, 0] += slant * points[:, 1]
        sheared.append(Stroke(points, stroke.widths))
    return sheared
