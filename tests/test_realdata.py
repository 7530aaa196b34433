"""Real photos and scans: no crash, and outputs with the properties a person checked by eye."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import engine
from engine.errors import SignatureEngineError
from engine.evaluation.metrics import f_measure
from engine.pipeline import binarize_image

REALDATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata"
SIGNATURES = sorted((REALDATA / "signatures").glob("*")) if REALDATA.is_dir() else []
PAIRS = sorted((REALDATA / "binarization").glob("*_gt.png")) if REALDATA.is_dir() else []

# Mean F-measure of binarize_image over the binarisation pairs, measured at
# 0.770 with the default parameters (Otsu 0.769, Sauvola 0.766 in the same run);
# the floor leaves room for backend rounding only.
BINARIZATION_FLOOR = 0.75


@pytest.mark.skipif(not SIGNATURES, reason=f"real photos not found under {REALDATA}")
@pytest.mark.parametrize("path", SIGNATURES, ids=[p.name for p in SIGNATURES])
def test_real_photo_processed_with_sane_output(path):
    data = path.read_bytes()
    try:
        result = engine.process(data)
    except SignatureEngineError as error:
        # A typed rejection is a valid outcome (the BMP, a page with no ink found).
        assert error.code in {"unsupported_format", "no_ink_found", "not_a_signature"}
        return

    width, height = result.input_size
    box = result.crop_box
    assert result.ink_mask.any()
    assert 0 <= box.x and 0 <= box.y and box.x2 <= width and box.y2 <= height
    assert result.image[..., 3].max() == 255
    # The crop never keeps the whole frame: something was cut away or it is a tight scan.
    assert box.width * box.height <= width * height
    # Ink at the photo's edge is either reported as cut off or is not there at all.
    touches_edge = box.x == 0 or box.y == 0 or box.x2 == width or box.y2 == height
    if touches_edge:
        assert "signature_cut_off" in result.warning_codes


@pytest.mark.skipif(not SIGNATURES, reason=f"real photos not found under {REALDATA}")
def test_real_photo_sheet_edges_not_ink():
    # The page lies on a dark desk: no ink may touch the photo's border.
    result = engine.process(REALDATA / "signatures" / "ahmet_page_on_desk_huawei.jpg")
    mask = result.ink_mask_full()
    border = np.concatenate([mask[:20].ravel(), mask[-20:].ravel(), mask[:, :20].ravel(), mask[:, -20:].ravel()])
    assert not border.any()


@pytest.mark.skipif(not SIGNATURES, reason=f"real photos not found under {REALDATA}")
def test_real_photo_bmp_rejected_as_unsupported():
    with pytest.raises(SignatureEngineError) as caught:
        engine.process(REALDATA / "signatures" / "vzat_theboss_blue.bmp")
    assert caught.value.code == "unsupported_format"


@pytest.mark.skipif(not PAIRS, reason=f"binarisation pairs not found under {REALDATA}")
def test_binarization_f_measure_above_floor():
    scores = []
    for truth_path in PAIRS:
        image_path = truth_path.with_name(truth_path.name.replace("_gt", ""))
        rgb = np.asarray(Image.open(image_path).convert("RGB"))
        truth = np.asarray(Image.open(truth_path).convert("L")) < 128
        scores.append(f_measure(binarize_image(rgb), truth) / 100.0)
    assert float(np.mean(scores)) >= BINARIZATION_FLOOR
