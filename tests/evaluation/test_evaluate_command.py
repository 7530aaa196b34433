"""``signature-engine evaluate`` end to end on a small generated set, with the real engine."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.evaluation.baselines import MethodSpec
from engine.evaluation.compare import compare_documents
from engine.evaluation.runner import evaluate_set
from samples.external import pairs_manifest


@pytest.fixture(scope="module")
def evaluation(smoke_path, tmp_path_factory):
    """Run evaluate once with both baselines and every output; return the output folder."""
    out = tmp_path_factory.mktemp("evaluate")
    code = main(
        [
            "evaluate", str(smoke_path), "--baseline", "otsu", "--baseline", "sauvola",
            "--json", str(out / "eval.json"), "--csv", str(out / "eval.csv"),
            "--report", str(out / "report"), "--no-progress",
        ]
    )
    return code, out


def test_evaluate_exit_ok(evaluation):
    code, _ = evaluation
    assert code == 0


def test_evaluate_json_runs(evaluation):
    _, out = evaluation
    document = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert [run["method"] for run in document["runs"]] == ["engine", "otsu", "sauvola"]
    overall = document["runs"][0]["summary"]["overall"]
    assert overall["n"] == 4
    assert overall["n_negative"] == 1
    assert 0.0 <= overall["gate_accuracy"] <= 1.0


def test_evaluate_json_positive_scores(evaluation):
    _, out = evaluation
    document = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    for record in document["runs"][0]["items"]:
        assert "error" not in record
        if record["expected"] == "accept":
            assert 0.0 <= record["fm"] <= 100.0
            assert record["iou"] is not None


def test_evaluate_csv_rows(evaluation):
    _, out = evaluation
    with open(out / "eval.csv", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 12  # 4 images x 3 methods
    assert {row["method"] for row in rows} == {"engine", "otsu", "sauvola"}


def test_evaluate_report_files(evaluation):
    _, out = evaluation
    page = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert "Worst cases" in page
    assert "missed ink" in page
    for name in ("fm.png", "skew_error.png", "iou.png"):
        assert (out / "report" / "plots" / name).is_file()
    pictures = list((out / "report" / "img").glob("*_engine_overlay.png"))
    assert len(pictures) >= 3


def test_evaluate_compare_same_passes(evaluation, smoke_path):
    _, out = evaluation
    code = main(["evaluate", str(smoke_path), "--compare", str(out / "eval.json"), "--no-progress"])
    assert code == 0


def test_evaluate_compare_flags_planted_regression(evaluation, smoke_path, tmp_path, capsys):
    _, out = evaluation
    document = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    # Plant a better past: the saved engine run claims 10 more F-measure points.
    engine_run = document["runs"][0]
    engine_run["summary"]["overall"]["fm"] += 10.0
    planted = tmp_path / "better.json"
    planted.write_text(json.dumps(document), encoding="utf-8")
    code = main(["evaluate", str(smoke_path), "--compare", str(planted), "--no-progress"])
    assert code == 4
    assert "REGRESSION: engine, overall: fm" in capsys.readouterr().out


def test_compare_flags_lost_signature(evaluation):
    _, out = evaluation
    before = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    after = json.loads(json.dumps(before))
    record = next(r for r in after["runs"][0]["items"] if r.get("kept_whole") is True)
    record["kept_whole"] = False
    findings = compare_documents(before, after)
    assert any(f.scope == f"image {record['id']}" and f.metric == "kept_whole" for f in findings)


def test_compare_ignores_small_change(evaluation):
    _, out = evaluation
    before = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    after = json.loads(json.dumps(before))
    after["runs"][0]["summary"]["overall"]["fm"] -= 0.5  # under the 1-point threshold
    assert [f for f in compare_documents(before, after) if f.level == "regression"] == []


def test_evaluate_unknown_set(capsys):
    assert main(["evaluate", "no-such-set", "--no-progress"]) == 1
    assert "set_not_found" in capsys.readouterr().err


def test_evaluate_reports_missing_files(smoke_path, tmp_path, capsys):
    copy = tmp_path / "partial"
    shutil.copytree(smoke_path, copy)
    first = sorted((copy / "images").iterdir())[0]
    first.unlink()
    assert main(["evaluate", str(copy), "--no-progress"]) == 0
    assert f"images/{first.name} not found" in capsys.readouterr().err


def test_evaluate_binarization_pairs(smoke_set, tmp_path):
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    for item in smoke_set.items:
        if item.is_negative:
            continue
        # Binarisation pairs are upright PNG images with their DIBCO-style mask.
        rgb = np.asarray(Image.open(item.image).convert("RGB"))
        if item.provenance["spec"]["orientation"] != 1:
            continue
        Image.fromarray(rgb).save(pairs / f"{item.id}.png")
        shutil.copy(item.mask, pairs / f"{item.id}_gt.png")
    sample_set = pairs_manifest(pairs, tmp_path / "set" / "manifest.json", name="pairs", relative_to="set")
    run = evaluate_set(sample_set, MethodSpec("engine"), progress=False)
    assert len(run.records) == len(sample_set.items)
    assert all(0.0 < record["fm"] <= 100.0 for record in run.records)
