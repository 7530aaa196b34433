"""Sample-set manifests: the list of images, their ground truth and provenance.

A set is a folder with a ``manifest.json``. Each item names an image and its
ground-truth mask by path, with their SHA-256, the categories it counts in and
where it came from. Signature items also give the signature's box, its baseline
angle and the expected outcome (accept, or reject with an error code).

Paths are relative to the manifest's folder, or to the repository root when the
manifest sets ``"relative_to": "repo"``. The latter lets a set point at images
kept outside the repository without copying them.

Masks are PNG files with ink at ``mask_ink_value`` (0 by default, the DIBCO
convention: black ink on a white background). Ground truth is in the upright
frame, after the image's EXIF orientation is applied.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from engine.errors import SignatureEngineError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "REPO_ROOT",
    "Expected",
    "InvalidManifest",
    "MissingFile",
    "SampleSet",
    "SetItem",
    "sha256_file",
]

FORMAT = "signature-engine-sample-set"
FORMAT_VERSION = 1
REPO_ROOT = Path(__file__).resolve().parents[1]
TASKS = ("signature", "binarization")


class InvalidManifest(SignatureEngineError):
    """A set manifest cannot be read or breaks the format."""

    code = "invalid_manifest"
    message_fr = "Manifeste de jeu d'échantillons invalide ({value}) : {reason}."
    message_en = "Invalid sample-set manifest ({value}): {reason}."

    def __init__(self, value: Any, *, reason: str) -> None:
        super().__init__(value, reason=reason)


@dataclass(frozen=True)
class Expected:
    """Expected outcome of an image: ``accept``, or ``reject`` with the error ``code``."""

    outcome: str = "accept"
    code: str | None = None

    OUTCOMES: ClassVar[tuple[str, ...]] = ("accept", "reject")

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome} if self.code is None else {"outcome": self.outcome, "code": self.code}


@dataclass(frozen=True)
class MissingFile:
    """A file that a manifest names but that is not on disk."""

    item_id: str
    role: str
    path: Path

    def __str__(self) -> str:
        return f"{self.item_id}: {self.role} {self.path} not found"


@dataclass
class SetItem:
    """One image of a set with its ground truth.

    Attributes
    ----------
    id : str
        Unique name within the set.
    image, mask : pathlib.Path
        Resolved paths of the image and of its ground-truth mask PNG.
    image_sha256, mask_sha256 : str or None
        Expected SHA-256 of the files, hex; None skips the check.
    mask_ink_value : int
        Pixel value of ink in the mask PNG (0 or 255).
    box : tuple of int or None
        Signature bounding box ``(x, y, width, height)`` in upright pixels; None for a
        negative item or a binarisation item.
    angle : float or None
        Baseline angle in degrees, counter-clockwise positive, upright frame.
    expected : Expected
    categories : list of str
        Tags the item counts in (``easy``, ``shadow``, ``negative`` ...).
    provenance : dict
        Where the image comes from: ``{"source": "synthetic", "spec": {...}}`` or
        the original file and licence of a real image.
    """

    id: str
    image: Path
    mask: Path | None = None
    image_sha256: str | None = None
    mask_sha256: str | None = None
    mask_ink_value: int = 0
    box: tuple[int, int, int, int] | None = None
    angle: float | None = None
    expected: Expected = field(default_factory=Expected)
    categories: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def is_negative(self) -> bool:
        return self.expected.outcome == "reject"

    def read_image(self) -> bytes:
        """Return the image file's bytes."""
        return self.image.read_bytes()

    def read_mask(self) -> np.ndarray | None:
        """Return the ground-truth mask as a ``(H, W)`` bool array (True is ink), or None."""
        if self.mask is None:
            return None
        with Image.open(self.mask) as image:
            values = np.asarray(image.convert("L"))
        # Threshold at mid-grey, so anti-aliased or 1-bit masks both read cleanly.
        return values < 128 if self.mask_ink_value == 0 else values >= 128


@dataclass
class SampleSet:
    """A loaded manifest: set metadata and its items with resolved paths."""

    name: str
    path: Path
    task: str
    items: list[SetItem]
    description: str = ""
    relative_to: str = "set"
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> Path:
        """Folder that the item paths are relative to."""
        return REPO_ROOT if self.relative_to == "repo" else self.path.parent

    @classmethod
    def load(cls, manifest: str | Path) -> SampleSet:
        """Read ``manifest`` (a ``manifest.json`` file or the folder that contains it).

        Raises
        ------
        InvalidManifest
            If the file is missing, is not JSON or breaks the format.
        """
        path = Path(manifest)
        if path.is_dir():
            path = path / "manifest.json"
        if not path.is_file():
            raise InvalidManifest(str(path), reason="file not found")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InvalidManifest(str(path), reason=f"not valid JSON: {error}") from error
        return cls.from_dict(data, path=path.resolve())

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, path: Path) -> SampleSet:
        if data.get("format") != FORMAT:
            raise InvalidManifest(str(path), reason=f'"format" must be "{FORMAT}"')
        if data.get("format_version") != FORMAT_VERSION:
            raise InvalidManifest(
                str(path), reason=f"format_version {data.get('format_version')!r}, expected {FORMAT_VERSION}"
            )
        task = data.get("task", "signature")
        if task not in TASKS:
            raise InvalidManifest(str(path), reason=f"task {task!r}, expected one of {', '.join(TASKS)}")
        relative_to = data.get("relative_to", "set")
        if relative_to not in ("set", "repo"):
            raise InvalidManifest(str(path), reason=f'relative_to {relative_to!r}, expected "set" or "repo"')

        sample_set = cls(
            name=str(data.get("name", path.parent.name)),
            path=path,
            task=task,
            items=[],
            description=str(data.get("description", "")),
            relative_to=relative_to,
            provenance=dict(data.get("provenance", {})),
        )
        seen: set[str] = set()
        for index, raw in enumerate(data.get("items", [])):
            item = sample_set._item_from_dict(raw, index)
            if item.id in seen:
                raise InvalidManifest(str(path), reason=f"duplicate item id {item.id!r}")
            seen.add(item.id)
            sample_set.items.append(item)
        return sample_set

    def _resolve(self, relative: str) -> Path:
        # Normalise "set/../images" so paths read well in messages; symlinks are kept.
        return Path(os.path.normpath(self.base / relative))

    def _item_from_dict(self, raw: dict[str, Any], index: int) -> SetItem:
        try:
            item_id = str(raw["id"])
            image = self._resolve(raw["image"])
        except (KeyError, TypeError) as error:
            raise InvalidManifest(str(self.path), reason=f"item {index} lacks {error}") from error
        expected_raw = raw.get("expected", {"outcome": "accept"})
        expected = Expected(expected_raw.get("outcome", "accept"), expected_raw.get("code"))
        if expected.outcome not in Expected.OUTCOMES:
            raise InvalidManifest(str(self.path), reason=f"item {item_id}: outcome {expected.outcome!r}")
        box = raw.get("box")
        return SetItem(
            id=item_id,
            image=image,
            mask=self._resolve(raw["mask"]) if raw.get("mask") else None,
            image_sha256=raw.get("image_sha256"),
            mask_sha256=raw.get("mask_sha256"),
            mask_ink_value=int(raw.get("mask_ink_value", 0)),
            box=tuple(int(v) for v in box) if box is not None else None,  # type: ignore[arg-type]
            angle=float(raw["angle"]) if raw.get("angle") is not None else None,
            expected=expected,
            categories=[str(category) for category in raw.get("categories", [])],
            provenance=dict(raw.get("provenance", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form, with paths written relative to :attr:`base`."""
        items = []
        for item in self.items:
            entry: dict[str, Any] = {"id": item.id, "image": _relative(item.image, self.base)}
            if item.image_sha256:
                entry["image_sha256"] = item.image_sha256
            if item.mask is not None:
                entry["mask"] = _relative(item.mask, self.base)
                entry["mask_sha256"] = item.mask_sha256
                entry["mask_ink_value"] = item.mask_ink_value
            if self.task == "signature":
                entry["box"] = list(item.box) if item.box is not None else None
                entry["angle"] = round(item.angle, 4) if item.angle is not None else None
                entry["expected"] = item.expected.to_dict()
            entry["categories"] = item.categories
            entry["provenance"] = item.provenance
            items.append(entry)
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "description": self.description,
            "task": self.task,
            "relative_to": self.relative_to,
            "provenance": self.provenance,
            "categories": self.categories(),
            "items": items,
        }

    def save(self) -> None:
        """Write the manifest to :attr:`path`."""
        text = json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n"
        self.path.write_text(text, encoding="utf-8")

    def categories(self) -> dict[str, int]:
        """Return the number of items in each category, sorted by name."""
        counts: dict[str, int] = {}
        for item in self.items:
            for category in item.categories:
                counts[category] = counts.get(category, 0) + 1
        return dict(sorted(counts.items()))

    def missing_files(self) -> list[MissingFile]:
        """List the images and masks that the manifest names but that are not on disk."""
        missing = []
        for item in self.items:
            if not item.image.is_file():
                missing.append(MissingFile(item.id, "image", item.image))
            if item.mask is not None and not item.mask.is_file():
                missing.append(MissingFile(item.id, "mask", item.mask))
        return missing

    def checksum_mismatches(self, items: Iterable[SetItem] | None = None) -> list[str]:
        """Return one line per present file whose SHA-256 differs from the manifest's."""
        problems = []
        for item in self.items if items is None else items:
            for role, file, digest in (
                ("image", item.image, item.image_sha256),
                ("mask", item.mask, item.mask_sha256),
            ):
                if file is None or digest is None or not file.is_file():
                    continue
                actual = sha256_file(file)
                if actual != digest:
                    problems.append(f"{item.id}: {role} {file} has SHA-256 {actual[:12]}…, manifest says {digest[:12]}…")
        return problems


def sha256_file(path: Path) -> str:
    """Return the SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        # Outside the base (an external set): walk up with "..".
        return Path(os.path.relpath(path, base)).as_posix()
