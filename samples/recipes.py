"""Recipes: how the committed sample photo and the sample sets are generated.

A recipe turns a seed into a list of :class:`~samples.generator.SampleSpec`, one
per image, spread over the categories the data team tracks. ``generate --recipe
NAME --seed N`` renders them; the same recipe and seed give the same bytes.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from samples.generator import GENERATOR_VERSION, SampleSpec, render_sample
from samples.manifest import Expected, SampleSet, SetItem, sha256_file

__all__ = [
    "NEGATIVE_CODE",
    "PRIMARY_CATEGORIES",
    "README_PHOTO",
    "README_PHOTO_SPEC",
    "RECIPES",
    "categories_of",
    "draw_spec",
    "generate_set",
    "plan_recipe",
    "write_readme_photo",
]

# Error code a negative sample (a sheet with no ink) is expected to be rejected with.
NEGATIVE_CODE = "no_ink_found"

# The photo that the README's first command processes: ruled paper, blue ink, a
# cast shadow over the top of the sheet and the desk around it, 2.8 MP, JPEG q90.
README_PHOTO_SPEC = SampleSpec(
    seed=14,
    width=1920,
    height=1440,
    ink="blue",
    paper="ruled",
    desk="wood",
    shadow="hard",
    paper_coverage=0.8,
    paper_rotation=-4.0,
    perspective=0.04,
    signature_width=0.45,
    signature_rotation=2.0,
    pen_width=3.2,
    light_gradient=0.25,
    blur=0.7,
    noise=0.012,
    jpeg_quality=90,
)

README_PHOTO = Path(__file__).resolve().parent / "photo" / "signature_photo.jpg"


def write_readme_photo(path: Path = README_PHOTO) -> Path:
    """Render :data:`README_PHOTO_SPEC` to ``path`` (a JPEG) and return the path."""
    sample = render_sample(README_PHOTO_SPEC)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sample.jpeg)
    return path


# Images per primary category in each recipe. Every item also gets the tags its
# scene earns (shadow, lined, blue_ink, rotated, tiny ...), so category counts in
# a manifest are larger than these.
RECIPES: dict[str, dict[str, Any]] = {
    "default": {
        "counts": {
            "easy": 4, "medium": 4, "hard": 4, "shadow": 4, "lined": 4,
            "blue_ink": 3, "rotated": 4, "tiny": 2, "negative": 3,
        },
        "sizes": [(1280, 960), (960, 1280), (1200, 900), (1440, 1080)],
        "description": "Committed default set: 32 synthetic phone photos of about 1.2 MP.",
    },
    "large": {
        "counts": {
            "easy": 12, "medium": 12, "hard": 12, "shadow": 12, "lined": 12,
            "blue_ink": 12, "rotated": 12, "tiny": 12, "negative": 12,
        },
        "sizes": [(1600, 1200), (2016, 1512), (2560, 1920), (3024, 4032), (4000, 3000)],
        "description": "Large synthetic set: 108 phone photos from 1.9 to 12 MP.",
    },
    "smoke": {
        "counts": {"easy": 1, "rotated": 1, "lined": 1, "negative": 1},
        "sizes": [(480, 360)],
        "description": "Four small photos for fast end-to-end tests.",
    },
}

PRIMARY_CATEGORIES = ("easy", "medium", "hard", "shadow", "lined", "blue_ink", "rotated", "tiny", "negative")


def _uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return round(float(rng.uniform(low, high)), 3)


def draw_spec(
    rng: np.random.Generator, primary: str, size: tuple[int, int], seed: int
) -> SampleSpec:
    """Draw a random scene that belongs to ``primary`` category at ``size`` (width, height).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the scene choices (not of the pixels, which ``seed`` drives).
    primary : str
        One of :data:`PRIMARY_CATEGORIES`.
    size : tuple of int
        Upright ``(width, height)`` in pixels.
    seed : int
        Seed stored in the spec for the renderer.
    """
    if primary not in PRIMARY_CATEGORIES:
        raise ValueError(f"invalid category {primary!r}: expected one of {', '.join(PRIMARY_CATEGORIES)}")
    width, height = size
    pick = lambda options: str(rng.choice(options))  # noqa: E731

    # A medium scene, then each category moves the fields it is about.
    fields: dict[str, Any] = {
        "ink": pick(["black", "blue", "black", "green"]),
        "paper": pick(["plain", "plain", "ruled", "squared"]),
        "desk": pick(["wood", "dark", "fabric"]),
        "paper_coverage": _uniform(rng, 0.75, 1.15),
        "paper_rotation": _uniform(rng, -6, 6),
        "perspective": _uniform(rng, 0.02, 0.05),
        "signature_width": _uniform(rng, 0.3, 0.6),
        "signature_rotation": _uniform(rng, -5, 5),
        "pen_width": _uniform(rng, 2.2, 3.6) * max(width, height) / 1280,
        "ink_density": _uniform(rng, 0.78, 0.92),
        "light_gradient": _uniform(rng, 0.15, 0.3),
        "shadow": pick(["none", "soft"]),
        "blur": _uniform(rng, 0.5, 0.9),
        "noise": _uniform(rng, 0.008, 0.016),
        "jpeg_quality": int(rng.integers(80, 92)),
        "orientation": 1,
    }
    if primary in ("easy", "blue_ink"):
        fields.update(
            ink="blue" if primary == "blue_ink" else pick(["black", "blue"]),
            paper="plain",
            paper_rotation=_uniform(rng, -2, 2),
            perspective=_uniform(rng, 0.0, 0.025),
            signature_rotation=_uniform(rng, -2, 2),
            shadow="none",
            light_gradient=_uniform(rng, 0.05, 0.15),
            blur=_uniform(rng, 0.4, 0.6),
            noise=0.008,
            ink_density=_uniform(rng, 0.88, 0.95),
            jpeg_quality=int(rng.integers(86, 93)),
        )
    elif primary == "hard":
        fields.update(
            paper=pick(["ruled", "squared"]),
            shadow="hard",
            perspective=_uniform(rng, 0.05, 0.08),
            signature_rotation=_uniform(rng, -10, 10),
            pen_width=_uniform(rng, 1.6, 2.4) * max(width, height) / 1280,
            ink_density=_uniform(rng, 0.55, 0.72),
            light_gradient=_uniform(rng, 0.35, 0.5),
            blur=_uniform(rng, 1.0, 1.5),
            noise=_uniform(rng, 0.02, 0.03),
            jpeg_quality=int(rng.integers(68, 80)),
        )
    elif primary == "shadow":
        fields.update(shadow="hard", paper="plain")
    elif primary == "lined":
        fields.update(paper=pick(["ruled", "squared"]))
    elif primary == "rotated":
        if rng.random() < 0.5:
            fields.update(signature_rotation=_uniform(rng, 12, 35) * float(rng.choice([-1, 1])))
        else:
            fields.update(orientation=int(rng.choice([3, 6, 8])))
    elif primary == "tiny":
        fields.update(
            signature_width=_uniform(rng, 0.1, 0.16),
            pen_width=_uniform(rng, 1.5, 2.0),
        )
    elif primary == "negative":
        fields.update(shadow=pick(["none", "soft", "hard"]))

    if fields["orientation"] in (5, 6, 7, 8):
        # The stored file is turned a quarter: keep the upright frame landscape.
        width, height = max(width, height), min(width, height)
    return SampleSpec(seed=seed, width=width, height=height, signature=primary != "negative", **fields)


def categories_of(spec: SampleSpec, angle: float | None) -> list[str]:
    """Return the category tags a scene earns, difficulty first.

    The difficulty comes from a score that adds one point per hardship (two for a
    hard shadow or a tiny signature): 0-1 is ``easy``, 2-3 ``medium``, 4 or more
    ``hard``.
    """
    rotated = spec.orientation != 1 or (angle is not None and abs(angle) >= 8.0)
    tiny = spec.signature_width < 0.2 or min(spec.width, spec.height) < 600
    score = (
        {"none": 0, "soft": 1, "hard": 2}[spec.shadow]
        + (spec.paper != "plain")
        + (spec.blur > 0.9)
        + (spec.blur > 1.3)
        + (spec.noise > 0.02)
        + (spec.ink_density < 0.75)
        + rotated
        + 2 * (tiny and spec.signature)
        + (spec.jpeg_quality < 80)
        + (spec.perspective > 0.05)
    )
    tags = ["easy" if score <= 1 else "medium" if score <= 3 else "hard"]
    if spec.shadow != "none":
        tags.append("shadow")
    if spec.paper != "plain":
        tags.append("lined")
    if not spec.signature:
        tags.append("negative")
        return tags
    if spec.ink == "blue":
        tags.append("blue_ink")
    if rotated:
        tags.append("rotated")
    if spec.orientation != 1:
        tags.append("exif")
    if tiny:
        tags.append("tiny")
    return tags


def plan_recipe(recipe: str, seed: int) -> list[tuple[str, str, SampleSpec]]:
    """Return ``(item id, primary category, spec)`` for every image of ``recipe`` with ``seed``."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}: expected one of {', '.join(RECIPES)}")
    config = RECIPES[recipe]
    rng = np.random.default_rng([seed, GENERATOR_VERSION])
    plan = []
    index = 0
    for primary, count in config["counts"].items():
        for _ in range(count):
            index += 1
            size = config["sizes"][int(rng.integers(0, len(config["sizes"])))]
            item_seed = int(rng.integers(0, 2**31 - 1))
            spec = draw_spec(rng, primary, size, item_seed)
            if spec.signature:
                item_id = f"{index:03d}_{primary}_{spec.ink}_{spec.paper}"
            else:
                item_id = f"{index:03d}_{primary}_{spec.paper}"
            plan.append((item_id, primary, spec))
    return plan


def _render_item(task: tuple[str, str, SampleSpec, str]) -> dict[str, Any]:
    item_id, primary, spec, out = task
    sample = render_sample(spec)
    folder = Path(out)
    image_path = folder / "images" / f"{item_id}.jpg"
    mask_path = folder / "truth" / f"{item_id}_gt.png"
    image_path.write_bytes(sample.jpeg)
    # DIBCO convention: a 1-bit PNG with ink black (0) on white (255).
    Image.fromarray(~sample.mask).convert("1").save(mask_path, optimize=True)
    return {
        "id": item_id,
        "image": image_path,
        "image_sha256": sha256_file(image_path),
        "mask": mask_path,
        "mask_sha256": sha256_file(mask_path),
        "box": sample.box,
        "angle": sample.angle,
        "primary": primary,
        "categories": categories_of(spec, sample.angle),
        "spec": spec.to_dict(),
    }


def generate_set(
    recipe: str,
    out: str | Path,
    seed: int = 0,
    *,
    name: str | None = None,
    jobs: int = 1,
    progress: bool = False,
) -> SampleSet:
    """Render every image of ``recipe`` into the folder ``out`` and write its manifest.

    The folder gets ``images/*.jpg``, ``truth/*_gt.png`` and ``manifest.json``.

    Parameters
    ----------
    recipe : str
        A key of :data:`RECIPES`.
    out : str or Path
        Output folder; created if needed. Existing files of the same names are
        overwritten.
    seed : int
        Seed of the whole set: the same recipe and seed give the same bytes.
    name : str, optional
        Set name written in the manifest; the folder name by default.
    jobs : int
        Number of worker processes (1 renders in this process).
    progress : bool
        Show a tqdm progress bar on stderr.

    Returns
    -------
    SampleSet
        The manifest as written.
    """
    folder = Path(out)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "truth").mkdir(parents=True, exist_ok=True)
    tasks = [(item_id, primary, spec, str(folder)) for item_id, primary, spec in plan_recipe(recipe, seed)]

    bar = tqdm(total=len(tasks), desc=f"generate {recipe}", unit="image", disable=not progress, file=sys.stderr)
    rendered: list[dict[str, Any]] = []
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for row in pool.map(_render_item, tasks):
                rendered.append(row)
                bar.update()
    else:
        for task in tasks:
            rendered.append(_render_item(task))
            bar.update()
    bar.close()

    items = []
    for row in rendered:
        negative = row["primary"] == "negative"
        items.append(
            SetItem(
                id=row["id"],
                image=row["image"],
                mask=row["mask"],
                image_sha256=row["image_sha256"],
                mask_sha256=row["mask_sha256"],
                mask_ink_value=0,
                box=row["box"],
                angle=row["angle"],
                expected=Expected("reject", NEGATIVE_CODE) if negative else Expected("accept"),
                categories=row["categories"],
                provenance={
                    "source": "synthetic",
                    "generator": "samples.generator",
                    "generator_version": GENERATOR_VERSION,
                    "primary_category": row["primary"],
                    "spec": row["spec"],
                },
            )
        )
    sample_set = SampleSet(
        name=name or folder.resolve().name,
        path=(folder / "manifest.json").resolve(),
        task="signature",
        items=items,
        description=RECIPES[recipe]["description"],
        provenance={
            "source": "synthetic",
            "recipe": recipe,
            "seed": seed,
            "generator_version": GENERATOR_VERSION,
            "command": f"signature-engine generate --recipe {recipe} --seed {seed} --out DIR",
        },
    )
    sample_set.save()
    return sample_set
