"""The value returned by :func:`engine.process`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Box", "QualityWarning", "Result"]


@dataclass(frozen=True)
class Box:
    """Axis-aligned rectangle in pixels: left ``x``, top ``y``, ``width``, ``height``.

    Unless a docstring says otherwise, boxes are in the coordinates of the upright
    input image at full resolution (after EXIF or HEIF orientation), with x to the
    right and y downwards.
    """

    x: int
    y: int
    width: int
    height: int

    @property
    def x2(self) -> int:
        return self.x + self.width

    @property
    def y2(self) -> int:
        return self.y + self.height

    def as_list(self) -> list[int]:
        """Return ``[x, y, width, height]``, the JSON form."""
        return [self.x, self.y, self.width, self.height]

    def contains(self, other: Box) -> bool:
        """Tell whether ``other`` lies entirely inside this box."""
        return (
            self.x <= other.x and self.y <= other.y and other.x2 <= self.x2 and other.y2 <= self.y2
        )


@dataclass(frozen=True)
class QualityWarning:
    """A quality problem that does not stop processing, with its stable code and messages."""

    code: str
    message_fr: str
    message_en: str

    def message(self, lang: str | None = "fr") -> str:
        from engine.errors import normalize_language

        return self.message_en if normalize_language(lang) == "en" else self.message_fr

    def to_dict(self, lang: str | None = "fr") -> dict[str, str]:
        return {"code": self.code, "message": self.message(lang)}


@dataclass
class Result:
    """Outcome of one successful run of the pipeline.

    Attributes
    ----------
    image_bytes : bytes
        The encoded output image (PNG), with no metadata but its DPI.
    image : ndarray
        The output pixels: ``(H, W, 4)`` uint8 RGBA for the transparent mode,
        ``(H, W)`` bool for the 1-bit mode (True is ink).
    crop_box : Box
        The signature's box in upright input coordinates, before deskew.
    angle : float
        Rotation applied to level the signature, in degrees, counter-clockwise
        positive, about the crop box centre. 0.0 when nothing was applied.
    angle_estimated, angle_confidence : float
        The baseline angle the deskew step measured (degrees, counter-clockwise
        positive) and its confidence in [0, 1], whether applied or not.
    orientation : int
        The EXIF orientation (1-8) that the input layer applied; 1 for none. HEIF
        container transforms are applied by the decoder and reported as 1.
    ink_color : tuple of int
        Median sRGB colour of the ink pixels, ``(r, g, b)``.
    ink_mask : ndarray
        ``(crop_box.height, crop_box.width)`` bool mask of the ink inside the crop
        box, in input coordinates (before deskew).
    warnings : list of QualityWarning
        Non-fatal quality problems, in detection order.
    timings_ms : dict
        Wall time per step, in milliseconds.
    """

    image_bytes: bytes
    image: np.ndarray
    crop_box: Box
    angle: float
    angle_estimated: float
    angle_confidence: float
    orientation: int
    ink_color: tuple[int, int, int]
    ink_mask: np.ndarray
    input_format: str
    input_size: tuple[int, int]
    warnings: list[QualityWarning] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    backend: str = ""
    engine_version: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    manual: dict[str, Any] | None = None

    @property
    def warning_codes(self) -> list[str]:
        return [warning.code for warning in self.warnings]

    def ink_mask_full(self) -> np.ndarray:
        """Return the ink mask as a ``(H, W)`` bool array of the whole upright input."""
        width, height = self.input_size
        full = np.zeros((height, width), dtype=bool)
        box = self.crop_box
        full[box.y : box.y2, box.x : box.x2] = self.ink_mask
        return full

    def to_record(self, lang: str | None = "fr") -> dict[str, Any]:
        """Return the JSON-serialisable result record (no image bytes)."""
        return {
            "engine_version": self.engine_version,
            "backend": self.backend,
            "params": self.params,
            "input": {
                "format": self.input_format,
                "width": self.input_size[0],
                "height": self.input_size[1],
                "orientation_applied": self.orientation,
            },
            "crop_box": self.crop_box.as_list(),
            "angle": round(self.angle, 3),
            "angle_estimated": round(self.angle_estimated, 3),
            "angle_confidence": round(self.angle_confidence, 3),
            "ink_color": "#{:02x}{:02x}{:02x}".format(*self.ink_color),
            "warnings": [warning.to_dict(lang) for warning in self.warnings],
            "timings_ms": {step: round(ms, 2) for step, ms in self.timings_ms.items()},
            "output": self.output,
            "manual": self.manual,
        }
