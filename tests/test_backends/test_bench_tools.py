"""The benchmark tooling (engine.bench) and the ``backends`` and ``bench`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.bench.baselines import decode_floor_candidates, opencv_recipe
from engine.bench.inputs import SYNTHETIC_INPUTS, synthetic_input
from engine.bench.runner import BenchRow, format_table, machine_info, measure_peak_memory, time_call
from engine.bench.steps import OP_NAMES, STEP_NAMES, record_ops, record_steps
from engine.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "photo" / "signature_photo.jpg"


@pytest.fixture(scope="module")
def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture(scope="module")
def recorded(sample_bytes):
    return record_steps(sample_bytes, "opencv")


def test_record_steps_returns_every_step(recorded):
    assert tuple(recorded.steps) == STEP_NAMES


def test_replayed_render_matches_pipeline(recorded):
    assert recorded.steps["render"]() == recorded.result.image_bytes


def test_replayed_deskew_matches_pipeline(recorded):
    assert round(recorded.steps["deskew"]().angle, 2) == round(recorded.result.angle_estimated, 2)


def test_replayed_detect_finds_ink(recorded):
    assert recorded.steps["detect"]().box is not None


def test_replayed_decode_is_analysis_size(recorded):
    assert max(recorded.steps["decode"]().shape[:2]) == recorded.result.params["analysis_long_side"]


def test_record_steps_restores_pipeline(sample_bytes):
    import engine.pipeline as pipeline

    before = pipeline.detect_ink
    record_steps(sample_bytes, "opencv")
    assert pipeline.detect_ink is before


def test_record_ops_counts_calls(sample_bytes):
    recorded = record_ops(sample_bytes, "pillow")
    assert set(recorded.calls) <= set(OP_NAMES)
    assert recorded.calls["connected_components"] >= 1


def test_record_ops_result_equals_plain_run(sample_bytes):
    # The timing proxy must not change what the pipeline computes.
    plain = engine.process(sample_bytes, backend="opencv")
    recorded = record_ops(sample_bytes, "opencv")
    assert recorded.result.image_bytes == plain.image_bytes


def test_decode_floor_candidates_decode_full_size(sample_bytes):
    candidates = decode_floor_candidates(sample_bytes, "JPEG")
    assert candidates
    for name, decode in candidates.items():
        assert decode().shape[:2] == (1440, 1920), name


def test_opencv_recipe_returns_png(sample_bytes):
    png, box = opencv_recipe(sample_bytes)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert box[2] > 0
    assert box[3] > 0


def test_opencv_recipe_rejects_undecodable():
    with pytest.raises(ValueError, match="cannot decode"):
        opencv_recipe(b"not an image")


def test_time_call_returns_one_time_per_repeat():
    times = time_call(lambda: sum(range(100)), repeat=3)
    assert len(times) == 3
    assert all(value >= 0 for value in times)


def test_machine_info_names_cpu_and_versions():
    info = machine_info()
    assert info["nproc"] >= 1
    assert "numpy" in info


def test_peak_memory_measured_in_fresh_process():
    memory = measure_peak_memory(SAMPLE, "opencv")
    assert memory["rss_peak_mib"] > 1.0
    assert memory["tracemalloc_peak_mib"] > 1.0


def test_format_table_shows_ratio_to_floor():
    row = BenchRow(input="x", format="JPEG", megapixels=12.0, method="engine opencv", median_ms=50.0,
                   times_ms=[50.0], floor_ms=25.0, floor_method="cv2 gray")
    assert "| 2.00 |" in format_table([row])


def test_synthetic_input_cached(tmp_path):
    recipe = SYNTHETIC_INPUTS[-1]
    small = type(recipe)(recipe.name, recipe.format, {**recipe.spec, "width": 320, "height": 240})
    first = synthetic_input(small, tmp_path)
    modified = first.path.stat().st_mtime_ns
    second = synthetic_input(small, tmp_path)
    assert second.path.stat().st_mtime_ns == modified
    assert second.truth_box == first.truth_box


def test_synthetic_png_is_accepted(tmp_path):
    recipe = SYNTHETIC_INPUTS[-1]
    small = type(recipe)(recipe.name, recipe.format, {**recipe.spec, "width": 320, "height": 240})
    item = synthetic_input(small, tmp_path)
    assert engine.process(item.read_bytes()).input_format == "PNG"


def test_backends_command_lists_builtins(capsys):
    assert main(["backends"]) == 0
    output = capsys.readouterr().out
    for name in ("opencv", "skimage", "pillow"):
        assert name in output


def test_backends_command_json_marks_selected(capsys, monkeypatch):
    monkeypatch.setenv("SIGNATURE_ENGINE_BACKEND", "pillow")
    assert main(["backends", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["selected"] == "pillow"


def test_bench_command_unknown_backend_is_usage_error(capsys):
    assert main(["bench", "--backend", "nonexistent"]) == 2
    assert "nonexistent" in capsys.readouterr().err


def test_bench_command_writes_json(tmp_path, capsys, monkeypatch):
    # Shrink the scan-like PNG so the command runs in a few seconds.
    import engine.bench.inputs as inputs

    recipe = inputs.SYNTHETIC_INPUTS[-1]
    small = type(recipe)(recipe.name, recipe.format, {**recipe.spec, "width": 480, "height": 360})
    monkeypatch.setattr(inputs, "SYNTHETIC_INPUTS", (small,))
    report = tmp_path / "bench.json"
    code = main(["bench", "--backend", "pillow", "--repeat", "1", "--no-memory", "--cache-dir", str(tmp_path),
                 "--json", str(report)])
    assert code == 0
    rows = json.loads(report.read_text())["rows"]
    assert [row["method"] for row in rows if row["method"].startswith("engine")] == ["engine pillow"]
    assert "engine pillow" in capsys.readouterr().out


def test_bench_command_times_are_positive(tmp_path, monkeypatch):
    import engine.bench.inputs as inputs

    recipe = inputs.SYNTHETIC_INPUTS[-1]
    small = type(recipe)(recipe.name, recipe.format, {**recipe.spec, "width": 480, "height": 360})
    monkeypatch.setattr(inputs, "SYNTHETIC_INPUTS", (small,))
    report = tmp_path / "bench.json"
    main(["bench", "--backend", "opencv", "--repeat", "1", "--no-memory", "--cache-dir", str(tmp_path),
          "--json", str(report)])
    rows = json.loads(report.read_text())["rows"]
    assert all(row["median_ms"] > 0 for row in rows if np.isfinite(row["median_ms"]))
