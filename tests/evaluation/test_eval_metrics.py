"""The DIBCO scores and the box and angle helpers, on examples computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.evaluation.metrics import (
    angle_difference,
    box_inside,
    box_iou,
    drd,
    drd_weights,
    f_measure,
    mask_box,
    percentile,
    psnr,
)

# Unnormalised reciprocal distances of the 5 x 5 DRD window: 4 cells at 1, 4 at
# sqrt(2), 4 at 2, 8 at sqrt(5) and 4 at sqrt(8) from the centre.
W_SUM = 4 * 1 + 4 / math.sqrt(2) + 4 / 2 + 8 / math.sqrt(5) + 4 / math.sqrt(8)


def _mask(shape: tuple[int, int], cells: list[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for row, col in cells:
        mask[row, col] = True
    return mask


def test_f_measure_counts():
    truth = _mask((4, 4), [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)])
    prediction = _mask((4, 4), [(0, 0), (0, 1), (0, 2), (3, 3)])
    # TP 3, FP 1, FN 2: precision 3/4, recall 3/5, F = 2 * 0.45 / 1.35.
    assert f_measure(prediction, truth) == pytest.approx(100 * 2 * 0.75 * 0.6 / 1.35)


def test_f_measure_both_empty():
    empty = np.zeros((3, 3), dtype=bool)
    assert f_measure(empty, empty) == 100.0


def test_f_measure_no_overlap():
    assert f_measure(_mask((3, 3), [(0, 0)]), _mask((3, 3), [(2, 2)])) == 0.0


def test_psnr_one_wrong_pixel_in_hundred():
    truth = np.zeros((10, 10), dtype=bool)
    prediction = _mask((10, 10), [(4, 4)])
    # MSE = 1/100, so PSNR = 10 log10(100) = 20 dB.
    assert psnr(prediction, truth) == pytest.approx(20.0)


def test_psnr_identical_is_infinite():
    truth = _mask((5, 5), [(1, 1)])
    assert math.isinf(psnr(truth, truth))


def test_drd_weights_values():
    weights = drd_weights()
    assert weights[2, 2] == 0.0
    assert weights[2, 3] == pytest.approx(1.0 / W_SUM)
    assert weights[0, 0] == pytest.approx(1.0 / math.sqrt(8) / W_SUM)
    assert weights.sum() == pytest.approx(1.0)


def test_drd_isolated_false_pixel():
    truth = np.zeros((16, 16), dtype=bool)
    truth[0:4, 0:4] = True  # one non-uniform 8 x 8 block (top-left)
    prediction = truth.copy()
    prediction[11, 11] = True
    # Every neighbour in the window is background and inside the image: DRD_k = 1.
    assert drd(prediction, truth) == pytest.approx(1.0)


def test_drd_pixel_inside_solid_ink():
    truth = np.zeros((16, 16), dtype=bool)
    truth[2:9, 2:9] = True  # touches blocks (0,0), (0,1), (1,0), (1,1): NUBN = 4
    prediction = truth.copy()
    prediction[5, 5] = False
    # The 5 x 5 window around (5, 5) is all ink: DRD_k = 1, DRD = 1 / 4.
    assert drd(prediction, truth) == pytest.approx(0.25)


def test_drd_mixed_neighbourhood():
    truth = np.zeros((16, 16), dtype=bool)
    truth[4:8, 4:10] = True  # blocks (0,0) and (0,1) are mixed: NUBN = 2
    prediction = truth.copy()
    prediction[0, 0] = True  # false ink at the corner
    prediction[5, 5] = False  # missed ink near the top-left of the bar

    # (0, 0): only the 8 window cells inside the image count, all background.
    corner = (2 * 1 + 1 / math.sqrt(2) + 2 * (1 / 2) + 2 / math.sqrt(5) + 1 / math.sqrt(8)) / W_SUM
    # (5, 5): window rows 3-7, cols 3-7. Row 3 and column 3 are background, the rest ink.
    row3 = 2 / math.sqrt(8) + 2 / math.sqrt(5) + 1 / 2
    col3 = 2 / math.sqrt(5) + 1 / 2 + 1 / math.sqrt(8)
    inner = 1 - (row3 + col3) / W_SUM
    assert drd(prediction, truth) == pytest.approx((corner + inner) / 2)


def test_drd_counts_partial_edge_blocks():
    truth = _mask((10, 10), [(9, 9)])  # only the 2 x 2 corner block is mixed: NUBN = 1
    prediction = truth.copy()
    prediction[0, 0] = True
    corner = (2 * 1 + 1 / math.sqrt(2) + 2 * (1 / 2) + 2 / math.sqrt(5) + 1 / math.sqrt(8)) / W_SUM
    assert drd(prediction, truth) == pytest.approx(corner)


def test_drd_perfect_is_zero():
    truth = _mask((8, 8), [(3, 3), (3, 4)])
    assert drd(truth, truth) == 0.0


def test_drd_uniform_truth_is_nan():
    truth = np.zeros((8, 8), dtype=bool)
    assert math.isnan(drd(_mask((8, 8), [(1, 1)]), truth))


def test_metrics_reject_shape_mismatch():
    with pytest.raises(ValueError, match="equal shape"):
        f_measure(np.zeros((2, 3), bool), np.zeros((3, 2), bool))


def test_box_iou_half_overlap():
    # Two 10 x 10 boxes sharing a 5 x 10 strip: 50 / 150.
    assert box_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(1 / 3)


def test_box_iou_disjoint():
    assert box_iou((0, 0, 5, 5), (10, 10, 5, 5)) == 0.0


def test_box_inside_with_tolerance():
    assert box_inside((10, 10, 20, 20), (12, 10, 18, 20), tolerance=2)
    assert not box_inside((10, 10, 20, 20), (12, 10, 18, 20), tolerance=1)


def test_mask_box_tight():
    assert mask_box(_mask((6, 8), [(1, 2), (4, 6)])) == (2, 1, 5, 4)


def test_mask_box_empty():
    assert mask_box(np.zeros((3, 3), bool)) is None


@pytest.mark.parametrize(
    ("measured", "truth", "expected"),
    [(3.0, 1.0, 2.0), (-179.0, 179.0, 2.0), (10.0, -10.0, 20.0), (0.0, 0.0, 0.0)],
)
def test_angle_difference_wraps(measured, truth, expected):
    assert angle_difference(measured, truth) == pytest.approx(expected)


def test_percentile_skips_nan():
    assert percentile([1.0, float("nan"), 3.0, None], 50) == pytest.approx(2.0)
