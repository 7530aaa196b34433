"""Benchmark inputs: synthetic phone photos made on demand, and a few real photos.

The synthetic inputs are rendered by :mod:`samples.generator` from fixed specs
(seed included), so every machine benchmarks the same scenes: paper texture,
uneven light, sensor noise, a handwritten signature, and the exact ink box.

===========  ========  ==========  ==================================================
name         format    pixels      scene
===========  ========  ==========  ==================================================
jpeg-3mp     JPEG q90  2000x1500   phone photo of a sheet on a desk, ruled paper
jpeg-8mp     JPEG q90  3264x2448   the same kind of scene, another seed
jpeg-12mp    JPEG q90  4000x3000   the same kind of scene, soft shadow
heic-12mp    HEIC q90  4000x3000   the 12 MP scene re-encoded as HEIC, as iPhones save
png-3mp      PNG       2000x1500   scan-like: the sheet fills the frame, little noise
===========  ========  ==========  ==================================================

Rendering takes a few seconds per image and encoding the HEIC about forty, so
the files are cached in a folder, keyed by the spec and the generator version.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "REAL_PHOTOS",
    "SYNTHETIC_INPUTS",
    "BenchInput",
    "SyntheticInput",
    "build_inputs",
    "default_cache_dir",
    "real_photo_inputs",
    "synthetic_input",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyntheticInput:
    """Recipe of one synthetic benchmark input.

    ``spec`` holds :class:`samples.generator.SampleSpec` fields; ``format`` is
    the container the rendered scene is stored in.
    """

    name: str
    format: str
    spec: dict


_PHONE_SCENE = {
    "ink": "blue",
    "paper": "ruled",
    "desk": "wood",
    "paper_coverage": 0.8,
    "perspective": 0.03,
    "signature_width": 0.4,
    "light_gradient": 0.2,
    "blur": 0.6,
    "noise": 0.012,
    "jpeg_quality": 90,
}

SYNTHETIC_INPUTS: tuple[SyntheticInput, ...] = (
    SyntheticInput("jpeg-3mp", "JPEG", {**_PHONE_SCENE, "seed": 31, "width": 2000, "height": 1500}),
    SyntheticInput("jpeg-8mp", "JPEG", {**_PHONE_SCENE, "seed": 32, "width": 3264, "height": 2448}),
    SyntheticInput(
        "jpeg-12mp", "JPEG", {**_PHONE_SCENE, "seed": 33, "width": 4000, "height": 3000, "shadow": "soft"}
    ),
    SyntheticInput(
        "heic-12mp", "HEIF", {**_PHONE_SCENE, "seed": 33, "width": 4000, "height": 3000, "shadow": "soft"}
    ),
    SyntheticInput(
        "png-3mp",
        "PNG",
        {
            **_PHONE_SCENE,
            "seed": 35,
            "width": 2000,
            "height": 1500,
            "paper": "plain",
            "paper_coverage": 1.25,
            "perspective": 0.0,
            "light_gradient": 0.05,
            "blur": 0.4,
            "noise": 0.004,
            "jpeg_quality": 95,
        },
    ),
)

# A few real photos from the shared data set, when it is present: a 8 MP page
# on a desk, a 5 MP lined notebook page, and a small pre-cropped signature.
REAL_PHOTOS: tuple[str, ...] = (
    "ahmet_page_on_desk_huawei.jpg",
    "janith_lined_blue_shah.jpg",
    "vote_easy3.jpg",
)

# HEIF and JPEG quality of the re-encoded synthetic inputs (Pillow's 1-100 scale).
_HEIF_QUALITY = 90


@dataclass(frozen=True)
class BenchInput:
    """One benchmark input file and what is known about it.

    Attributes
    ----------
    name : str
        Short identifier, such as ``"jpeg-12mp"`` or a real photo's file name.
    kind : {"synthetic", "real"}
    format : str
        ``"JPEG"``, ``"HEIF"`` or ``"PNG"``, as the engine detects it.
    path : Path
        The file; read it with :meth:`read_bytes`.
    width, height : int
        Upright size in pixels.
    truth_box : tuple of int or None
        ``(x, y, width, height)`` of the ink in upright pixels, for synthetic inputs.
    truth_angle : float or None
        Baseline angle of the signature in degrees, counter-clockwise positive.
    """

    name: str
    kind: str
    format: str
    path: Path
    width: int
    height: int
    truth_box: tuple[int, int, int, int] | None = None
    truth_angle: float | None = None

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def describe(self) -> dict:
        """Return the JSON-serialisable facts recorded with each benchmark result."""
        return {
            "input": self.name,
            "kind": self.kind,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "megapixels": round(self.megapixels, 2),
            "file_bytes": self.path.stat().st_size,
        }


def default_cache_dir() -> Path:
    """Return ``$XDG_CACHE_HOME/signature-engine/bench-inputs`` (``~/.cache`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "signature-engine" / "bench-inputs"


def _cache_key(recipe: SyntheticInput) -> str:
    from samples.generator import GENERATOR_VERSION

    payload = json.dumps(
        {"recipe": asdict(recipe), "generator": GENERATOR_VERSION, "heif_quality": _HEIF_QUALITY}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _encode(jpeg: bytes, target: str) -> bytes:
    """Re-encode the rendered JPEG's pixels as ``target`` (``"JPEG"`` returns the bytes unchanged)."""
    if target == "JPEG":
        return jpeg
    pixels = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    buffer = io.BytesIO()
    if target == "PNG":
        Image.fromarray(pixels).save(buffer, format="PNG")
    elif target == "HEIF":
        from engine.decode._heif import heif_image_class

        heif_image_class()  # registers pillow-heif's encoder with Pillow
        Image.fromarray(pixels).save(buffer, format="HEIF", quality=_HEIF_QUALITY)
    else:
        raise ValueError(f"invalid benchmark format {target!r}: expected JPEG, PNG or HEIF")
    return buffer.getvalue()


def synthetic_input(recipe: SyntheticInput, cache_dir: Path) -> BenchInput:
    """Return the input of ``recipe``, rendering and caching it in ``cache_dir`` when missing."""
    from samples.generator import SampleSpec, render_sample

    key = _cache_key(recipe)
    suffix = {"JPEG": "jpg", "PNG": "png", "HEIF": "heic"}[recipe.format]
    path = cache_dir / f"{recipe.name}-{key}.{suffix}"
    truth_path = path.with_suffix(".json")
    if not (path.is_file() and truth_path.is_file()):
        logger.info("Rendering benchmark input %s into %s", recipe.name, cache_dir)
        sample = render_sample(SampleSpec(**recipe.spec))
        cache_dir.mkdir(parents=True, exist_ok=True)
        data = _encode(sample.jpeg, recipe.format)
        temporary = path.with_suffix(".partial")
        temporary.write_bytes(data)
        temporary.replace(path)
        truth = {"box": list(sample.box) if sample.box else None, "angle": sample.angle}
        truth_path.write_text(json.dumps(truth), encoding="utf-8")

    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    return BenchInput(
        name=recipe.name,
        kind="synthetic",
        format=recipe.format,
        path=path,
        width=recipe.spec["width"],
        height=recipe.spec["height"],
        truth_box=tuple(truth["box"]) if truth["box"] else None,
        truth_angle=truth["angle"],
    )


def real_photo_inputs(folder: Path | None, names: tuple[str, ...] = REAL_PHOTOS) -> list[BenchInput]:
    """Return the real photos of ``names`` found in ``folder``; none when the folder is absent."""
    if folder is None or not folder.is_dir():
        return []
    from engine.decode import open_upload

    found = []
    for name in names:
        path = folder / name
        if not path.is_file():
            logger.warning("Real benchmark photo %s not found in %s", name, folder)
            continue
        upload = open_upload(path.read_bytes())
        width, height = upload.full_size
        found.append(BenchInput(name, "real", upload.format, path, width, height))
    return found


def build_inputs(
    cache_dir: Path | None = None,
    *,
    real_dir: Path | None = None,
    names: list[str] | None = None,
) -> list[BenchInput]:
    """Return the benchmark inputs, synthetic ones first, rendering missing ones into ``cache_dir``.

    Parameters
    ----------
    cache_dir : Path, optional
        Where synthetic inputs are cached; :func:`default_cache_dir` by default.
    real_dir : Path, optional
        Folder of real photos to add (:data:`REAL_PHOTOS`); skipped when None or absent.
    names : list of str, optional
        Keep only the inputs with these names.
    """
    cache_dir = cache_dir or default_cache_dir()
    inputs = [
        synthetic_input(recipe, cache_dir)
        for recipe in SYNTHETIC_INPUTS
        if names is None or recipe.name in names
    ]
    inputs += [item for item in real_photo_inputs(real_dir) if names is None or item.name in names]
    return inputs
