"""Finding sample sets by name or path, and checking their files before a run."""

from __future__ import annotations

from pathlib import Path

from engine.errors import SignatureEngineError
from samples.manifest import MissingFile, SampleSet, SetItem

__all__ = ["SETS_DIR", "SetFilesMissing", "SetNotFound", "available_sets", "load_set", "present_items"]

SETS_DIR = Path(__file__).resolve().parents[2] / "samples" / "sets"


class SetNotFound(SignatureEngineError):
    """No set folder, manifest file or named set matches what the user gave."""

    code = "set_not_found"
    message_fr = "Jeu d'échantillons introuvable : {value!r}. Jeux connus : {known}."
    message_en = "Sample set not found: {value!r}. Known sets: {known}."

    def __init__(self, value: str, *, known: list[str]) -> None:
        super().__init__(value, known=", ".join(known) or "none")


class SetFilesMissing(SignatureEngineError):
    """Every file of a set is missing, so nothing can be evaluated."""

    code = "set_files_missing"
    message_fr = (
        "Aucun fichier du jeu {value!r} n'est présent ({count} manquants, par exemple {first}). "
        "Les chemins sont relatifs à {base}."
    )
    message_en = (
        "None of the files of set {value!r} is present ({count} missing, for example {first}). "
        "Paths are relative to {base}."
    )

    def __init__(self, value: str, *, missing: list[MissingFile], base: Path) -> None:
        super().__init__(value, count=len(missing), first=missing[0].path if missing else "-", base=base)


def available_sets() -> list[str]:
    """Return the names of the sets under ``samples/sets``, sorted."""
    if not SETS_DIR.is_dir():
        return []
    return sorted(path.parent.name for path in SETS_DIR.glob("*/manifest.json"))


def load_set(name_or_path: str | Path) -> SampleSet:
    """Load a set from a folder, a ``manifest.json`` path, or a name under ``samples/sets``.

    Raises
    ------
    SetNotFound
        If nothing matches.
    samples.manifest.InvalidManifest
        If the manifest exists but cannot be read.
    """
    path = Path(name_or_path)
    if path.is_dir() and (path / "manifest.json").is_file():
        return SampleSet.load(path)
    if path.is_file():
        return SampleSet.load(path)
    named = SETS_DIR / str(name_or_path) / "manifest.json"
    if named.is_file():
        return SampleSet.load(named)
    raise SetNotFound(str(name_or_path), known=available_sets())


def present_items(sample_set: SampleSet) -> tuple[list[SetItem], list[MissingFile]]:
    """Split a set's items into those whose files exist and the list of missing files.

    Raises
    ------
    SetFilesMissing
        If no item has all its files.
    """
    missing = sample_set.missing_files()
    incomplete = {entry.item_id for entry in missing}
    present = [item for item in sample_set.items if item.id not in incomplete]
    if not present and sample_set.items:
        raise SetFilesMissing(sample_set.name, missing=missing, base=sample_set.base)
    return present, missing
