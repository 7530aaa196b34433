"""The one typed, versioned set of tunable parameters of the pipeline.

Pixel sizes only mean something at a stated resolution. Most detection work runs
on the *analysis image*: a reduced copy of the upright input whose long side is
``analysis_long_side`` pixels. A parameter in "px @ analysis" is counted on that
image; "px @ full" is counted on the full-resolution input.

A parameter set is saved as a TOML *profile*: its keys are the field names, plus
``name`` and ``version``. ``Params.load`` takes a profile name (a file in
``engine/profiles``) or a path.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InvalidParameter

__all__ = ["PARAMS_VERSION", "PROFILES_DIR", "Params", "describe_params"]

PARAMS_VERSION = 1
PROFILES_DIR = Path(__file__).with_name("profiles")


def _param(default: Any, unit: str, low: float, high: float, doc: str) -> Any:
    return field(default=default, metadata={"unit": unit, "range": (low, high), "doc": doc})


@dataclass(frozen=True)
class Params:
    """Tunable parameters of the pipeline, each with its unit and valid range."""

    name: str = "default"

    # Analysis resolution.
    analysis_long_side: int = _param(
        1200, "px", 256, 4096,
        "Long side of the reduced copy used to detect, crop and deskew. Larger finds "
        "fainter, thinner strokes; smaller is faster.",
    )

    # Background removal.
    background_kernel: int = _param(
        61, "px @ analysis", 5, 301,
        "Size of the maximum filter that estimates the paper. Must exceed the widest "
        "stroke; too large lets shadows through.",
    )
    background_blur: float = _param(
        4.0, "px @ analysis", 0.0, 50.0,
        "Gaussian sigma that smooths the paper estimate.",
    )

    # Ink thresholds, in normalised darkness: 1 - pixel / paper, 0 (paper) to 1 (black).
    ink_threshold: float = _param(
        0.22, "darkness", 0.02, 0.9,
        "Darkness a pixel needs to seed a stroke.",
    )
    ink_threshold_low: float = _param(
        0.16, "darkness", 0.01, 0.9,
        "Darkness a pixel connected to a seed needs to belong to the stroke "
        "(hysteresis), so faint parts of thin strokes stay attached.",
    )
    noise_factor: float = _param(
        6.0, "x noise", 0.0, 30.0,
        "The seed threshold is raised to this many times the paper's robust noise "
        "(median absolute deviation of darkness), so grain and texture stay paper.",
    )

    # Component filtering at analysis scale.
    min_component_area: int = _param(
        6, "px² @ analysis", 0, 1000,
        "Components smaller than this are specks unless they lie next to the signature.",
    )
    min_stroke_area: int = _param(
        60, "px² @ analysis", 1, 100000,
        "Components at least this large can anchor a signature.",
    )
    max_stroke_width: float = _param(
        0.035, "fraction of analysis long side", 0.002, 0.5,
        "Components thicker than this (twice the maximum distance to their edge) are "
        "blobs: shadows, desk, pens, frames, not strokes.",
    )
    line_length: float = _param(
        0.45, "fraction of analysis width or height", 0.1, 1.0,
        "Straight thin runs at least this long are ruled or margin lines or sheet edges.",
    )
    line_thickness: float = _param(
        5.0, "px @ analysis", 1.0, 30.0,
        "Maximum thickness of a ruled line.",
    )
    cluster_gap: float = _param(
        0.08, "fraction of analysis long side", 0.0, 1.0,
        "Components closer than this to the signature join it (detached initials, dots).",
    )
    cluster_gap_height: float = _param(
        1.2, "x tallest stroke height", 0.0, 10.0,
        "Components closer than this many times the tallest stroke's height join the "
        "signature too; the larger of the two gaps applies.",
    )
    border_margin: float = _param(
        0.01, "fraction of analysis long side", 0.0, 0.2,
        "Band along the photo's border in which ink counts as touching the edge.",
    )

    # Deskew.
    deskew_max_angle: float = _param(
        30.0, "degrees", 0.0, 45.0,
        "Largest baseline angle the deskew step searches and corrects.",
    )
    deskew_min_angle: float = _param(
        0.5, "degrees", 0.0, 10.0,
        "Smaller angles are left alone: resampling would blur more than it levels.",
    )
    deskew_min_confidence: float = _param(
        0.3, "ratio", 0.0, 1.0,
        "Below this confidence the measured angle is reported but not applied.",
    )

    # Quality gates.
    low_contrast: float = _param(
        0.25, "darkness", 0.0, 1.0,
        "Median ink darkness under this gives the low_contrast warning.",
    )
    blurry: float = _param(
        0.2, "darkness per px @ analysis", 0.0, 1.0,
        "Edge steepness of the strokes (90th percentile of the darkness gradient over "
        "the median ink darkness) under this gives the blurry warning.",
    )
    low_resolution: int = _param(
        60, "px @ full", 0, 2000,
        "Signature height under this gives the low_resolution warning.",
    )

    version: int = PARAMS_VERSION

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            if "range" not in spec.metadata:
                continue
            value = getattr(self, spec.name)
            low, high = spec.metadata["range"]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidParameter(value, name=spec.name, reason="expected a number", reason_fr="un nombre est attendu")
            if not math.isfinite(value) or not low <= value <= high:
                raise InvalidParameter(value, name=spec.name, reason=f"expected {low} to {high}",
                                       reason_fr=f"valeur attendue entre {low} et {high}")
            if spec.type == "int" and not float(value).is_integer():
                raise InvalidParameter(value, name=spec.name, reason="expected a whole number", reason_fr="un nombre entier est attendu")
        if self.ink_threshold_low > self.ink_threshold:
            raise InvalidParameter(
                self.ink_threshold_low, name="ink_threshold_low", reason="must not exceed ink_threshold",
                reason_fr="ne doit pas dépasser ink_threshold"
            )
        if self.version != PARAMS_VERSION:
            raise InvalidParameter(
                self.version, name="version", reason=f"this engine reads version {PARAMS_VERSION}",
                reason_fr=f"ce moteur lit la version {PARAMS_VERSION}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return every field as a plain dict, the form stored in result records."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Params:
        """Build a parameter set from ``values``; unknown keys raise :class:`InvalidParameter`."""
        known = {spec.name: spec for spec in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise InvalidParameter(unknown, name="profile", reason="unknown parameter names",
                                   reason_fr="noms de paramètres inconnus")
        coerced = {}
        for key, value in values.items():
            if known[key].type == "int" and isinstance(value, float) and value.is_integer():
                value = int(value)
            coerced[key] = value
        return cls(**coerced)

    @classmethod
    def load(cls, name_or_path: str | Path) -> Params:
        """Load a profile by name (``engine/profiles/NAME.toml``) or from a TOML file path."""
        path = Path(name_or_path)
        if not path.suffix and not path.exists():
            path = PROFILES_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            raise InvalidParameter(str(name_or_path), name="profile", reason="no such profile file",
                                   reason_fr="fichier de profil introuvable")
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise InvalidParameter(str(path), name="profile", reason=f"a profile is a TOML file, and this one is invalid: {error}",
                                   reason_fr=f"un profil est un fichier TOML, et celui-ci est invalide (détail : {error})") from error
        values.setdefault("name", path.stem)
        return cls.from_dict(values)

    def save(self, path: str | Path) -> None:
        """Write this parameter set as a TOML profile."""
        lines = [f"# signature-engine parameter profile, version {self.version}"]
        for key, value in self.to_dict().items():
            if isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            else:
                lines.append(f"{key} = {value!r}")
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def describe_params() -> list[dict[str, Any]]:
    """Return one row per tunable: name, default, unit, range and what it trades off."""
    rows = []
    for spec in dataclasses.fields(Params):
        if "range" in spec.metadata:
            rows.append(
                {
                    "name": spec.name,
                    "default": spec.default,
                    "unit": spec.metadata["unit"],
                    "range": list(spec.metadata["range"]),
                    "doc": spec.metadata["doc"],
                }
            )
    return rows


def resolve_params(params: Params | str | Path | dict | None) -> Params:
    """Turn what a caller passes as ``params`` into a :class:`Params`."""
    if params is None:
        return Params()
    if isinstance(params, Params):
        return params
    if isinstance(params, dict):
        return Params.from_dict(params)
    return Params.load(params)
