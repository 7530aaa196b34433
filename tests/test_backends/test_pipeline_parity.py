"""The whole pipeline gives the same result on every backend as on the OpenCV backend.

Tolerances against the OpenCV result:

- ink-mask F-measure at least 0.98 over the whole input;
- every edge of the crop box within 2 pixels (full-resolution input pixels,
  the output's scale);
- angle within 0.3 degree;
- the same warning codes in the same order;
- for a rejected input, the same error code.

Inputs: every file of the shared hostile cases, and real photos. By default
only the real photos in :data:`REALDATA_SAMPLE` run, to keep this file near a
minute on two cores; set ``SIGNATURE_ENGINE_PARITY_ALL=1`` to run all of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from backend_testing import f_measure

import engine
from engine.errors import SignatureEngineError
from engine.result import Result

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CASES = sorted((SHARED / "cases" / "inputs").glob("*")) if (SHARED / "cases").is_dir() else []
REALDATA = sorted((SHARED / "realdata" / "signatures").glob("*")) if (SHARED / "realdata").is_dir() else []

# Real photos checked by default: those whose result once hung on a single grey
# level (lined paper, shadows, pencil, flourishes), plus one of each kind of
# input (page on a desk, sideways photo, RGBA PNG, misnamed file, BMP, tiny).
REALDATA_SAMPLE = {
    "ahmet_page_on_desk_huawei.jpg",
    "carbo_blue_squared_paper.jpg",
    "carbo_blue_textured.jpg",
    "janith_hubbard_crop.png",
    "janith_lined_blue_shah.jpg",
    "kenzy_grey_shadow_misnamed.png",
    "vote_easy16.jpg",
    "vote_easy3.jpg",
    "vote_hard1.jpg",
    "vote_hard13.jpg",
    "vote_hard5.jpg",
    "vote_med11.jpg",
    "vzat_cristian_red_rot90.jpg",
    "vzat_theboss_blue.bmp",
}
RUN_ALL = os.environ.get("SIGNATURE_ENGINE_PARITY_ALL", "") not in ("", "0")
REALDATA_RUN = REALDATA if RUN_ALL else [path for path in REALDATA if path.name in REALDATA_SAMPLE]

MIN_F_MEASURE = 0.98
MAX_BOX_SHIFT = 2
MAX_ANGLE_DIFFERENCE = 0.3


@dataclass
class Outcome:
    """A pipeline run: the result, or the code of the typed error it raised."""

    result: Result | None
    error_code: str | None


def _run(path: Path, backend: str) -> Outcome:
    try:
        return Outcome(engine.process(path, backend=backend), None)
    except SignatureEngineError as error:
        return Outcome(None, error.code)


@pytest.fixture(scope="session")
def reference_outcomes():
    """OpenCV outcomes by path, computed once per session and shared by every candidate."""
    cache: dict[Path, Outcome] = {}

    def outcome(path: Path) -> Outcome:
        if path not in cache:
            cache[path] = _run(path, "opencv")
        return cache[path]

    return outcome


def _box_shift(found: Result, expected: Result) -> int:
    a, b = found.crop_box, expected.crop_box
    return max(abs(a.x - b.x), abs(a.y - b.y), abs(a.x2 - b.x2), abs(a.y2 - b.y2))


def _check_parity(candidate, reference_outcomes, path: Path) -> None:
    expected = reference_outcomes(path)
    found = _run(path, candidate.name)
    assert found.error_code == expected.error_code
    if expected.result is None:
        return
    assert f_measure(expected.result.ink_mask_full(), found.result.ink_mask_full()) >= MIN_F_MEASURE
    assert _box_shift(found.result, expected.result) <= MAX_BOX_SHIFT
    assert abs(found.result.angle - expected.result.angle) <= MAX_ANGLE_DIFFERENCE
    assert found.result.warning_codes == expected.result.warning_codes


@pytest.mark.skipif(not CASES, reason=f"shared cases not found under {SHARED / 'cases'}")
@pytest.mark.parametrize("path", CASES, ids=[path.name for path in CASES])
def test_case_same_as_opencv(candidate, reference_outcomes, path):
    _check_parity(candidate, reference_outcomes, path)


@pytest.mark.skipif(not REALDATA_RUN, reason=f"real photos not found under {SHARED / 'realdata'}")
@pytest.mark.parametrize("path", REALDATA_RUN, ids=[path.name for path in REALDATA_RUN])
def test_real_photo_same_as_opencv(candidate, reference_outcomes, path):
    _check_parity(candidate, reference_outcomes, path)


def test_realdata_sample_files_exist():
    if not REALDATA:
        pytest.skip(f"real photos not found under {SHARED / 'realdata'}")
    assert REALDATA_SAMPLE <= {path.name for path in REALDATA}
