"""Set definitions that point at image and ground-truth pairs kept elsewhere.

A folder of binarisation pairs contains ``NAME.png`` with ``NAME_gt.png`` beside it
(ink 0, background 255). :func:`pairs_manifest` writes a manifest that references
those files by relative path without copying them, so a set can describe data
that must not enter the repository.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from samples.manifest import REPO_ROOT, InvalidManifest, SampleSet, SetItem, sha256_file

__all__ = ["pairs_manifest", "read_provenance_table"]

_GT_SUFFIX = "_gt"


def read_provenance_table(manifest_md: Path) -> dict[str, dict[str, str]]:
    """Read the rows of the Markdown tables in ``manifest_md``, keyed by their first cell.

    Each row becomes a dict from the table's header cells to the row's cells, with
    backquotes removed. Rows of tables whose first header is not ``File`` are ignored.
    """
    rows: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in manifest_md.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip().strip("`").strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = cells if cells and cells[0] == "File" else []
            continue
        if not header or re.fullmatch(r":?-+:?", cells[0]):
            continue
        rows[cells[0]] = dict(zip(header, cells, strict=False))
    return rows


def pairs_manifest(
    folder: str | Path,
    manifest: str | Path,
    *,
    name: str,
    relative_to: str = "repo",
    description: str = "",
) -> SampleSet:
    """Write a binarisation manifest referencing the image/ground-truth pairs in ``folder``.

    Parameters
    ----------
    folder : str or Path
        Folder with ``NAME.ext`` images and ``NAME_gt.png`` masks (ink 0).
    manifest : str or Path
        Path of the ``manifest.json`` to write; its folder is created.
    name : str
        Set name.
    relative_to : {"repo", "set"}
        Write paths relative to the repository root or to the manifest's folder.
    description : str
        Free text stored in the manifest.

    Returns
    -------
    SampleSet
        The manifest as written. Categories are the image name's prefix before the
        first underscore (``dibco2010``, ``cuper`` ...).

    Raises
    ------
    InvalidManifest
        If ``folder`` contains no pair.
    """
    folder = Path(folder).resolve()
    manifest = Path(manifest).resolve()
    images = sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
        and not path.stem.endswith(_GT_SUFFIX)
    )
    table_path = next((p / "MANIFEST.md" for p in (folder, folder.parent) if (p / "MANIFEST.md").is_file()), None)
    table = read_provenance_table(table_path) if table_path else {}

    items = []
    for image in images:
        mask = image.with_name(f"{image.stem}{_GT_SUFFIX}.png")
        if not mask.is_file():
            continue
        key = f"{folder.name}/{image.name}"
        provenance: dict[str, Any] = {"source": "external"}
        row = table.get(key)
        if row:
            provenance.update(
                {
                    "repository": row.get("Source repository", ""),
                    "path": row.get("Path in repository", ""),
                    "commit": row.get("Commit", ""),
                    "licence": row.get("Licence", ""),
                    "description": row.get("What it shows / what makes it hard", ""),
                }
            )
        items.append(
            SetItem(
                id=image.stem,
                image=image,
                mask=mask,
                image_sha256=sha256_file(image),
                mask_sha256=sha256_file(mask),
                mask_ink_value=0,
                categories=[image.stem.split("_")[0]],
                provenance=provenance,
            )
        )
    if not items:
        raise InvalidManifest(str(folder), reason=f"no NAME.png with NAME{_GT_SUFFIX}.png pair in the folder")

    manifest.parent.mkdir(parents=True, exist_ok=True)
    source = Path(os.path.relpath(folder, REPO_ROOT if relative_to == "repo" else manifest.parent))
    sample_set = SampleSet(
        name=name,
        path=manifest,
        task="binarization",
        items=items,
        description=description,
        relative_to=relative_to,
        provenance={"source": "external", "folder": source.as_posix(), "copied": False},
    )
    sample_set.save()
    return sample_set
