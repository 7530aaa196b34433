"""The synthetic photo generator: determinism, ground truth, orientation and recipes."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from samples.generator import SampleSpec, render_sample
from samples.manifest import REPO_ROOT, SampleSet, sha256_file
from samples.recipes import README_PHOTO, README_PHOTO_SPEC, categories_of, generate_set, plan_recipe

SMALL = dict(width=320, height=240, signature_width=0.6, pen_width=2.5)


def _upright_grey(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("L"), dtype=np.float64)


def test_render_same_seed_same_bytes():
    first = render_sample(SampleSpec(seed=11, paper="ruled", shadow="soft", **SMALL))
    second = render_sample(SampleSpec(seed=11, paper="ruled", shadow="soft", **SMALL))
    assert first.jpeg == second.jpeg
    assert np.array_equal(first.mask, second.mask)


def test_render_other_seed_other_bytes():
    first = render_sample(SampleSpec(seed=11, **SMALL))
    second = render_sample(SampleSpec(seed=12, **SMALL))
    assert first.jpeg != second.jpeg


def test_generate_set_same_seed_same_files(smoke_set, tmp_path):
    again = generate_set("smoke", tmp_path / "again", seed=3, name="smoke")
    assert [item.image_sha256 for item in again.items] == [item.image_sha256 for item in smoke_set.items]
    assert [item.mask_sha256 for item in again.items] == [item.mask_sha256 for item in smoke_set.items]


def test_truth_box_is_mask_box():
    sample = render_sample(SampleSpec(seed=5, **SMALL))
    rows = np.flatnonzero(sample.mask.any(axis=1))
    cols = np.flatnonzero(sample.mask.any(axis=0))
    assert sample.box == (cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1)


def test_truth_mask_marks_dark_pixels():
    sample = render_sample(SampleSpec(seed=5, ink="black", **SMALL))
    grey = _upright_grey(sample.jpeg)
    # The mask's pixels are at least 60 grey levels darker than the paper in the box.
    x, y, w, h = sample.box
    near = np.zeros_like(sample.mask)
    near[y : y + h, x : x + w] = True
    assert grey[sample.mask].mean() < grey[near & ~sample.mask].mean() - 60


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_truth_is_upright_after_exif(orientation):
    plain = render_sample(SampleSpec(seed=9, **SMALL))
    turned = render_sample(SampleSpec(seed=9, orientation=orientation, **SMALL))
    with Image.open(io.BytesIO(turned.jpeg)) as image:
        assert image.getexif().get(0x0112) == orientation
    # Same scene, so the upright pixels match the unturned photo up to JPEG noise.
    difference = np.abs(_upright_grey(turned.jpeg) - _upright_grey(plain.jpeg)).mean()
    assert difference < 3.0
    assert np.array_equal(turned.mask, plain.mask)


def test_rotation_gives_baseline_angle():
    sample = render_sample(
        SampleSpec(seed=4, signature_rotation=20.0, paper_rotation=0.0, perspective=0.0, **SMALL)
    )
    assert sample.angle == pytest.approx(20.0, abs=0.5)


def test_negative_has_no_truth():
    sample = render_sample(SampleSpec(seed=4, signature=False, **SMALL))
    assert not sample.mask.any()
    assert sample.box is None
    assert sample.angle is None


def test_render_rejects_unknown_ink():
    with pytest.raises(ValueError, match="invalid ink 'red'"):
        render_sample(SampleSpec(seed=1, ink="red", **SMALL))


def test_categories_tag_scene():
    spec = SampleSpec(seed=1, paper="squared", shadow="hard", ink="blue", orientation=6)
    tags = categories_of(spec, angle=2.0)
    for tag in ("shadow", "lined", "blue_ink", "rotated", "exif"):
        assert tag in tags


def test_default_recipe_covers_categories():
    tags = {tag for _, _, spec in plan_recipe("default", 0) for tag in categories_of(spec, 0.0)}
    for category in ("easy", "medium", "hard", "shadow", "lined", "blue_ink", "rotated", "tiny", "negative"):
        assert category in tags


def test_committed_default_set_matches_recipe():
    committed = SampleSet.load(REPO_ROOT / "samples" / "sets" / "default")
    planned = plan_recipe(committed.provenance["recipe"], committed.provenance["seed"])
    assert [item.id for item in committed.items] == [item_id for item_id, _, _ in planned]
    assert committed.missing_files() == []
    assert committed.checksum_mismatches() == []


def test_readme_photo_matches_spec():
    rendered = hashlib.sha256(render_sample(README_PHOTO_SPEC).jpeg).hexdigest()
    assert sha256_file(README_PHOTO) == rendered
