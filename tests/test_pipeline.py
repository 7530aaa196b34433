"""Unit tests of the pipeline steps on images drawn in the test."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import engine
from backends import get_backend
from backends.base import rotation_matrix
from engine.deskew import estimate_angle
from engine.errors import InvalidAdjustment, InvalidParameter, NoInkFound
from engine.ink import compute_darkness, estimate_paper, hysteresis_threshold
from engine.params import Params
from engine.render import OutputOptions

BACKEND = get_backend("opencv")


def draw_signature(
    size=(1200, 600), angle=0.0, color=(20, 30, 120), shadow=False, rules=False, seed=0
) -> np.ndarray:
    """Draw a cursive-like signature on paper; returns ``(H, W, 3)`` uint8 RGB."""
    rng = np.random.default_rng(seed)
    width, height = size
    page = np.full((height, width, 3), (238, 236, 228), dtype=np.uint8)
    if rules:
        for y in range(40, height, 36):
            cv2.line(page, (0, y), (width - 1, y), (150, 180, 225), 2)
    ink = np.zeros((height, width), dtype=np.uint8)
    # OpenCV's Hershey script face: cursive letters on a clear baseline.
    scale = width / 420.0
    cv2.putText(ink, "Jeanne Morel", (int(0.12 * width), int(0.58 * height)),
                cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, scale, 255, max(2, int(scale * 1.6)), cv2.LINE_AA)
    cv2.circle(ink, (int(0.55 * width), int(0.3 * height)), 5, 255, -1)
    if angle:
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        ink = cv2.warpAffine(ink, matrix, (width, height))
    alpha = ink.astype(np.float32)[..., None] / 255.0
    page = (page * (1 - alpha) + np.array(color) * alpha).astype(np.float32)
    if shadow:
        ramp = np.linspace(0.45, 1.0, width, dtype=np.float32)[None, :, None]
        page *= ramp
    page += rng.normal(0, 2.0, page.shape)
    return np.clip(page, 0, 255).astype(np.uint8)


def to_jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def test_paper_estimate_removes_shadow():
    rgb = draw_signature(shadow=True)
    paper = estimate_paper(rgb, Params(), BACKEND)
    darkness = compute_darkness(rgb, paper)
    # Shadowed paper on the left is normalised to paper, not ink.
    assert np.percentile(darkness[:, :100], 99) < 0.1


def test_hysteresis_keeps_faint_tail_of_stroke():
    darkness = np.zeros((20, 40), dtype=np.float32)
    darkness[10, 5:20] = 0.5
    darkness[10, 20:35] = 0.15
    darkness[3, 30] = 0.15  # faint and isolated: noise
    mask = hysteresis_threshold(darkness, 0.3, 0.1, BACKEND)
    assert mask[10, 30] == 255
    assert mask[3, 30] == 0


def _estimate(angle: float):
    rgb = draw_signature(angle=angle)
    mask = (compute_darkness(rgb, estimate_paper(rgb, Params(), BACKEND)) > 0.3).astype(np.uint8) * 255
    return estimate_angle(mask, Params(), BACKEND)


@pytest.mark.parametrize("angle", [-12.0, -5.0, 4.0, 9.0])
def test_deskew_measures_rotation(angle):
    # The drawn signature's own baseline is not exactly level: compare turns.
    level = _estimate(0.0)
    estimate = _estimate(angle)
    assert abs((estimate.angle - level.angle) - angle) <= 1.0
    assert estimate.confidence >= Params().deskew_min_confidence


def test_deskew_blob_gives_low_confidence():
    mask = np.zeros((200, 200), dtype=np.uint8)
    cv2.circle(mask, (100, 100), 60, 255, 3)
    assert estimate_angle(mask, Params(), BACKEND).confidence < Params().deskew_min_confidence


def test_process_levels_skewed_signature():
    result = engine.process(to_jpeg(draw_signature(angle=7.0)))
    assert abs(result.angle + 7.0) <= 1.0


def test_process_finds_ink_on_ruled_paper_in_shadow():
    result = engine.process(to_jpeg(draw_signature(shadow=True, rules=True)))
    assert "lined_paper" in result.warning_codes
    assert result.crop_box.width < 0.75 * 1200
    assert result.crop_box.height < 0.6 * 600


def test_process_blank_page_rejected():
    blank = draw_signature()
    blank[:] = (238, 236, 228)
    with pytest.raises(NoInkFound):
        engine.process(to_jpeg(blank))


def test_process_output_transparent_png_with_dpi():
    result = engine.process(to_jpeg(draw_signature()), output=OutputOptions(dpi=200))
    picture = Image.open(io.BytesIO(result.image_bytes))
    assert picture.mode == "RGBA"
    assert round(picture.info["dpi"][0]) == 200
    alpha = np.asarray(picture)[..., 3]
    assert alpha[0, 0] == 0
    assert alpha.max() == 255
    # Anti-aliased: some partly transparent edge pixels.
    assert ((alpha > 0) & (alpha < 255)).any()


def test_process_bitonal_output_is_one_bit():
    result = engine.process(to_jpeg(draw_signature()), output=OutputOptions(mode="bitonal"))
    picture = Image.open(io.BytesIO(result.image_bytes))
    assert picture.mode == "1"


def test_process_original_ink_color_is_blue():
    result = engine.process(to_jpeg(draw_signature(color=(20, 40, 170))), output=OutputOptions(ink_color="original"))
    red, green, blue = result.ink_color
    assert blue > red + 40


def test_process_even_margins():
    result = engine.process(to_jpeg(draw_signature()), output=OutputOptions(padding_px=30))
    alpha = result.image[..., 3]
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    assert rows[0] == 30
    assert alpha.shape[0] - 1 - rows[-1] == 30
    assert abs(cols[0] - (alpha.shape[1] - 1 - cols[-1])) <= 1


def test_process_target_size_and_aspect():
    data = to_jpeg(draw_signature())
    assert engine.process(data, output=OutputOptions(target_size=(600, 200))).image.shape[:2] == (200, 600)
    shape = engine.process(data, output=OutputOptions(aspect_ratio=4.0)).image.shape
    assert abs(shape[1] / shape[0] - 4.0) < 0.05


def test_manual_crop_and_rotation_are_deterministic():
    data = to_jpeg(draw_signature())
    first = engine.process(data, crop=(100, 50, 1000, 500), rotation=90.0)
    second = engine.process(data, crop=(100, 50, 1000, 500), rotation=90.0)
    assert first.image_bytes == second.image_bytes
    assert first.angle == 90.0
    # A quarter turn makes the wide signature tall.
    assert first.image.shape[0] > first.image.shape[1]
    assert first.to_record()["manual"] == {"crop": [100, 50, 1000, 500], "rotation": 90.0}


def test_manual_crop_limits_the_ink():
    data = to_jpeg(draw_signature())
    result = engine.process(data, crop=(600, 0, 600, 600))
    assert result.crop_box.x >= 600


@pytest.mark.parametrize("crop", [(-1, 0, 100, 100), (0, 0, 5000, 100), (0, 0, 4, 4), ("a", 0, 1, 1)])
def test_manual_crop_out_of_image_rejected(crop):
    with pytest.raises(InvalidAdjustment, match="crop|rectangle"):
        engine.process(to_jpeg(draw_signature()), crop=crop)


def test_manual_rotation_not_finite_rejected():
    with pytest.raises(InvalidAdjustment) as caught:
        engine.process(to_jpeg(draw_signature()), rotation=float("nan"))
    assert "rotation" in caught.value.message("fr")


def test_params_out_of_range_rejected():
    with pytest.raises(InvalidParameter, match="ink_threshold"):
        Params(ink_threshold=5.0)


def test_params_profile_round_trip(tmp_path):
    params = Params(name="trial", ink_threshold=0.3)
    params.save(tmp_path / "trial.toml")
    assert Params.load(tmp_path / "trial.toml") == params


def test_params_unknown_key_rejected():
    with pytest.raises(InvalidParameter):
        Params.from_dict({"no_such_parameter": 1})


def test_result_record_is_json_serialisable():
    import json

    record = engine.process(to_jpeg(draw_signature())).to_record("en")
    text = json.dumps(record)
    assert "crop_box" in text
    for key in ("crop_box", "angle", "angle_confidence", "ink_color", "warnings", "timings_ms",
                "backend", "engine_version", "params"):
        assert key in record
    assert record["input"]["orientation_applied"] == 1


@settings(max_examples=40, deadline=None)
@given(
    angle=st.floats(-180, 180, allow_nan=False),
    cx=st.floats(0, 300), cy=st.floats(0, 200),
    width=st.integers(10, 400), height=st.integers(10, 400),
)
def test_rotation_matrix_round_trips(angle, cx, cy, width, height):
    forward = np.vstack([rotation_matrix(angle, (cx, cy), (width, height)), [0, 0, 1]])
    back_centre = ((width - 1) / 2.0, (height - 1) / 2.0)
    backward = np.vstack([rotation_matrix(-angle, back_centre, (width, height)), [0, 0, 1]])
    # Rotating about (cx, cy) into the output centre, then back about the output
    # centre, lands every point on its start shifted by the centre offset.
    point = np.array([cx + 17.0, cy - 5.0, 1.0])
    there_and_back = backward @ forward @ point
    offset = np.array([(width - 1) / 2.0 - cx, (height - 1) / 2.0 - cy])
    assert np.allclose(there_and_back[:2], point[:2] + offset, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(x=st.integers(0, 500), y=st.integers(0, 300), width=st.integers(1, 300), height=st.integers(1, 200))
def test_box_contains_itself_and_its_inside(x, y, width, height):
    box = engine.Box(x, y, width, height)
    assert box.contains(box)
    assert box.contains(engine.Box(x + width // 2, y + height // 2, width - width // 2, height - height // 2))
    assert not box.contains(engine.Box(x, y, width + 1, height))


def test_crop_box_maps_back_to_input_for_every_orientation(shared_dir):
    """Crop boxes are in upright input coordinates, whatever the stored orientation."""
    reference = engine.process(shared_dir / "cases" / "inputs" / "orient_1.jpg")
    for name in ("orient_3.jpg", "orient_6.jpg", "orient_8.jpg"):
        box = engine.process(shared_dir / "cases" / "inputs" / name).crop_box
        assert abs(box.x - reference.crop_box.x) <= 3
        assert abs(box.y - reference.crop_box.y) <= 3
        assert abs(box.width - reference.crop_box.width) <= 3


def test_quarter_turned_photo_warned_not_turned():
    upright = draw_signature(size=(1200, 600))
    turned = np.ascontiguousarray(np.rot90(upright))
    result = engine.process(to_jpeg(turned))
    assert "rotated_photo" in result.warning_codes
    assert result.angle == 0.0 or abs(result.angle) <= 30.0


def test_upright_photo_not_warned_rotated():
    assert "rotated_photo" not in engine.process(to_jpeg(draw_signature())).warning_codes


def test_defocused_photo_warned_blurry():
    sharp = draw_signature()
    blurred = cv2.GaussianBlur(sharp, (0, 0), 4.0)
    assert "blurry" not in engine.process(to_jpeg(sharp)).warning_codes
    assert "blurry" in engine.process(to_jpeg(blurred)).warning_codes


def test_params_default_profile_matches_defaults():
    assert Params.load("default") == Params()


def test_printed_page_rejected_not_a_signature():
    from engine.errors import NotASignature

    page = np.full((1200, 900, 3), 240, dtype=np.uint8)
    for row in range(60, 1150, 28):
        cv2.putText(page, "Lorem ipsum dolor sit amet, consectetur", (40, row),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.7, (20, 20, 20), 2, cv2.LINE_AA)
    with pytest.raises(NotASignature) as caught:
        engine.process(to_jpeg(page))
    assert "imprimé" in caught.value.message("fr")
    assert "printed" in caught.value.message("en")
