"""Set manifests: loading, saving, missing files and the set over external pairs."""

from __future__ import annotations

import json
import shutil

import pytest

from engine.evaluation.sets import SetFilesMissing, SetNotFound, available_sets, load_set, present_items
from samples.external import pairs_manifest
from samples.manifest import REPO_ROOT, InvalidManifest, SampleSet

BINARIZATION_MANIFEST = REPO_ROOT / "samples" / "sets" / "binarization" / "manifest.json"


def test_manifest_round_trip(smoke_set):
    loaded = SampleSet.load(smoke_set.path)
    assert loaded.to_dict() == smoke_set.to_dict()


def test_manifest_truth_fields(smoke_set):
    negatives = [item for item in smoke_set.items if item.is_negative]
    positives = [item for item in smoke_set.items if not item.is_negative]
    assert len(negatives) == 1
    assert negatives[0].expected.code == "no_ink_found"
    assert all(item.box is not None and item.angle is not None for item in positives)


def test_read_mask_matches_box(smoke_set):
    item = next(item for item in smoke_set.items if not item.is_negative)
    mask = item.read_mask()
    x, y, w, h = item.box
    assert mask[y : y + h, x : x + w].sum() == mask.sum()


def test_load_set_by_name():
    assert "default" in available_sets()
    assert load_set("default").name == "default"


def test_load_set_unknown_name():
    with pytest.raises(SetNotFound, match="no-such-set"):
        load_set("no-such-set")


def test_manifest_wrong_format(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}), encoding="utf-8")
    with pytest.raises(InvalidManifest, match="format"):
        SampleSet.load(tmp_path)


def test_missing_files_reported(smoke_set, tmp_path):
    copy = tmp_path / "partial"
    shutil.copytree(smoke_set.path.parent, copy)
    removed = smoke_set.items[0]
    (copy / "images" / removed.image.name).unlink()
    items, missing = present_items(SampleSet.load(copy))
    assert [entry.item_id for entry in missing] == [removed.id]
    assert "not found" in str(missing[0])
    assert removed.id not in [item.id for item in items]


def test_all_files_missing_raises(smoke_set, tmp_path):
    copy = tmp_path / "empty"
    copy.mkdir()
    shutil.copy(smoke_set.path, copy / "manifest.json")
    with pytest.raises(SetFilesMissing, match="Paths are relative to"):
        present_items(SampleSet.load(copy))


def test_binarization_set_points_outside_repo():
    sample_set = SampleSet.load(BINARIZATION_MANIFEST)
    assert sample_set.task == "binarization"
    assert sample_set.relative_to == "repo"
    assert all(item.image.resolve().parent.name == "binarization" for item in sample_set.items)
    assert not any(REPO_ROOT in item.image.resolve().parents for item in sample_set.items)


def test_binarization_set_files_present(shared_dir):
    sample_set = SampleSet.load(BINARIZATION_MANIFEST)
    assert sample_set.missing_files() == []
    assert sample_set.checksum_mismatches() == []


def test_pairs_manifest_references_files(smoke_set, tmp_path):
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    for item in smoke_set.items[:2]:
        shutil.copy(item.image, pairs / f"{item.id}.jpg")
        shutil.copy(item.mask, pairs / f"{item.id}_gt.png")
    written = pairs_manifest(pairs, tmp_path / "set" / "manifest.json", name="pairs", relative_to="set")
    loaded = SampleSet.load(tmp_path / "set")
    assert [item.id for item in loaded.items] == [item.id for item in smoke_set.items[:2]]
    assert loaded.items[0].image == pairs / f"{smoke_set.items[0].id}.jpg"
    assert written.to_dict()["items"][0]["image"].startswith("../pairs/")
