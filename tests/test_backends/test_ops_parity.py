"""Each backend operation against the OpenCV backend on random arrays, within stated tolerances.

Tolerances, per operation (grey levels for uint8, absolute values for float32
images in [0, 255]):

=======================  =========================================================
rgb_to_gray              exact
resize                   exact for uint8 nearest, linear and area; float32 within
                         1e-3; uint8 cubic within 1, because OpenCV rounds its
                         cubic weights to fixed point and the others do not
gaussian_blur            exact for uint8; float32 within 0.05
dilate, erode            exact, any dtype and channel count
connected_components     same partition, count and per-component statistics
distance_transform       within 1e-3 pixel
otsu_threshold           exact
rotate                   linear: uint8 within 1, float32 within 0.01 (OpenCV
                         snaps sample positions to 1/32 pixel); nearest: at least
                         98 % of pixels equal (samples exactly halfway between
                         pixels round either way, a whole column at 90 degrees
                         about a half-pixel centre); cubic: mean difference below 2 on smooth
                         images (the kernels differ, see each backend's docstring)
=======================  =========================================================
"""

from __future__ import annotations

import numpy as np
import pytest
from backend_testing import label_mapping, same_partition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backends import _numpy_ops

SEEDS = range(6)
SHAPES = [(1, 1), (2, 7), (37, 53), (64, 48), (37, 53, 3), (120, 90, 3)]
SIZES = [(1, 1), (20, 15), (53, 37), (106, 74), (160, 33), (7, 90), (200, 150)]


def _smooth(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A smooth random image in [0, 255]: bilinear blow-up of a coarse random grid."""
    coarse = rng.random((max(2, shape[0] // 6), max(2, shape[1] // 6)) + shape[2:])
    rows = np.linspace(0, coarse.shape[0] - 1, shape[0])
    cols = np.linspace(0, coarse.shape[1] - 1, shape[1])
    top = np.floor(rows).astype(int).clip(0, coarse.shape[0] - 2)
    left = np.floor(cols).astype(int).clip(0, coarse.shape[1] - 2)
    fy = (rows - top)[:, None]
    fx = (cols - left)[None, :]
    if len(shape) == 3:
        fy, fx = fy[..., None], fx[..., None]
    image = (
        coarse[top][:, left] * (1 - fy) * (1 - fx)
        + coarse[top][:, left + 1] * (1 - fy) * fx
        + coarse[top + 1][:, left] * fy * (1 - fx)
        + coarse[top + 1][:, left + 1] * fy * fx
    )
    return (image * 255).astype(dtype)


def _noise(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    return (rng.random(shape) * 255).astype(dtype)


def _difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.float64) - b.astype(np.float64))


def _random_mask(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Blobs, strokes and specks: a smoothed random field thresholded at a random level."""
    field = _smooth(rng, shape, np.float32) + rng.normal(0, 20, shape)
    return (field > rng.uniform(60, 200)).astype(np.uint8) * 255


# ----------------------------------------------------------------------- grey and resize


@pytest.mark.parametrize("seed", SEEDS)
def test_rgb_to_gray_exact(candidate, reference, seed):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (61, 83, 3), dtype=np.uint8)
    assert np.array_equal(candidate.rgb_to_gray(rgb), reference.rgb_to_gray(rgb))


@pytest.mark.parametrize("interpolation", ["nearest", "linear", "area"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", SIZES)
def test_resize_uint8_exact(candidate, reference, interpolation, shape, size):
    rng = np.random.default_rng(hash((shape, size)) % 2**32)
    image = _noise(rng, shape, np.uint8)
    assert np.array_equal(candidate.resize(image, size, interpolation), reference.resize(image, size, interpolation))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", SIZES)
def test_resize_uint8_cubic_within_one(candidate, reference, shape, size):
    rng = np.random.default_rng(hash((shape, size)) % 2**32)
    image = _noise(rng, shape, np.uint8)
    assert _difference(candidate.resize(image, size, "cubic"), reference.resize(image, size, "cubic")).max() <= 1


@pytest.mark.parametrize("interpolation", ["nearest", "linear", "area", "cubic"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", SIZES)
def test_resize_float32_close(candidate, reference, interpolation, shape, size):
    rng = np.random.default_rng(hash((shape, size)) % 2**32)
    image = _noise(rng, shape, np.float32)
    found = candidate.resize(image, size, interpolation)
    expected = reference.resize(image, size, interpolation)
    assert _difference(found, expected).max() <= 1e-3


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_resize_keeps_dtype_and_channels(candidate, dtype):
    image = np.zeros((30, 40, 3), dtype=dtype)
    resized = candidate.resize(image, (17, 9), "area")
    assert (resized.shape, resized.dtype) == ((9, 17, 3), np.dtype(dtype))


def test_resize_same_size_unchanged(candidate):
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(candidate.resize(image, (4, 3), "linear"), image)


# ------------------------------------------------------------------------------- blur


@pytest.mark.parametrize("sigma", [0.3, 0.8, 1.5, 3.0, 6.5])
@pytest.mark.parametrize("shape", [(2, 2), (9, 5), (61, 83), (61, 83, 3)])
def test_gaussian_blur_uint8_exact(candidate, reference, sigma, shape):
    image = _noise(np.random.default_rng(7), shape, np.uint8)
    assert np.array_equal(candidate.gaussian_blur(image, sigma), reference.gaussian_blur(image, sigma))


@pytest.mark.parametrize("sigma", [0.5, 1.5, 4.0])
@pytest.mark.parametrize("shape", [(61, 83), (61, 83, 3)])
def test_gaussian_blur_float32_close(candidate, reference, sigma, shape):
    image = _noise(np.random.default_rng(8), shape, np.float32)
    assert _difference(candidate.gaussian_blur(image, sigma), reference.gaussian_blur(image, sigma)).max() <= 0.05


# ------------------------------------------------------------------------ morphology


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (3, 3), (4, 1), (1, 6), (7, 5), (15, 15), (31, 9)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("channels", [(), (3,)])
def test_dilate_erode_exact(candidate, reference, size, dtype, channels):
    image = _noise(np.random.default_rng(9), (47, 59) + channels, dtype)
    assert np.array_equal(candidate.dilate(image, size), reference.dilate(image, size))
    assert np.array_equal(candidate.erode(image, size), reference.erode(image, size))


@pytest.mark.parametrize("size", [(3, 3), (8, 8)])
def test_closing_opening_exact(candidate, reference, size):
    mask = _random_mask(np.random.default_rng(10), (80, 90))
    assert np.array_equal(candidate.closing(mask, size), reference.closing(mask, size))
    assert np.array_equal(candidate.opening(mask, size), reference.opening(mask, size))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    image=arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24))),
    width=st.integers(1, 9),
    height=st.integers(1, 9),
)
def test_dilate_erode_any_image(candidate, reference, image, width, height):
    assert np.array_equal(candidate.dilate(image, (width, height)), reference.dilate(image, (width, height)))
    assert np.array_equal(candidate.erode(image, (width, height)), reference.erode(image, (width, height)))


# ------------------------------------------------------------------ connected components


def _assert_same_components(found, expected) -> None:
    assert found.count == expected.count
    assert found.labels.dtype == np.int32
    assert same_partition(found.labels, expected.labels)
    mapping = label_mapping(expected.labels, found.labels, expected.count)
    assert np.array_equal(found.stats[mapping][1:], expected.stats[1:])
    if expected.stats[0, 4]:
        assert np.array_equal(found.stats[0], expected.stats[0])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 40), (40, 1), (90, 120), (300, 200)])
def test_connected_components_same(candidate, reference, seed, shape):
    mask = _random_mask(np.random.default_rng(seed), shape)
    _assert_same_components(candidate.connected_components(mask), reference.connected_components(mask))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mask=arrays(np.bool_, st.tuples(st.integers(1, 30), st.integers(1, 30))))
def test_connected_components_any_mask(candidate, reference, mask):
    mask = mask.view(np.uint8)
    _assert_same_components(candidate.connected_components(mask), reference.connected_components(mask))


def test_connected_components_spiral(candidate, reference):
    # One long path that turns back on itself: worst case for label merging.
    mask = np.zeros((41, 41), dtype=np.uint8)
    top, left, bottom, right = 0, 0, 40, 40
    while top <= bottom and left <= right:
        mask[top, left : right + 1] = 1
        mask[top : bottom + 1, right] = 1
        mask[bottom, left : right + 1] = 1
        mask[top + 2 : bottom + 1, left] = 1
        top, left, bottom, right = top + 2, left + 2, bottom - 2, right - 2
    _assert_same_components(candidate.connected_components(mask), reference.connected_components(mask))


def test_connected_components_counts_background(candidate):
    mask = np.zeros((5, 6), dtype=np.uint8)
    mask[1:3, 1:3] = 255
    components = candidate.connected_components(mask)
    assert components.stats[0].tolist() == [0, 0, 6, 5, 26]


def test_numpy_labels_in_raster_order():
    mask = _random_mask(np.random.default_rng(11), (120, 150))
    _, labels, _ = _numpy_ops.label_components(mask)
    flat = labels.ravel()
    first_pixel = np.full(flat.max() + 1, flat.size)
    np.minimum.at(first_pixel, flat, np.arange(flat.size))
    assert np.all(np.diff(first_pixel[1:]) > 0)


# -------------------------------------------------------------------- distance transform


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(1, 1), (3, 50), (90, 120), (200, 150)])
def test_distance_transform_close(candidate, reference, seed, shape):
    mask = _random_mask(np.random.default_rng(seed), shape)
    if mask.all():
        mask[0, 0] = 0
    found = candidate.distance_transform(mask)
    assert found.dtype == np.float32
    assert _difference(found, reference.distance_transform(mask)).max() <= 1e-3


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mask=arrays(np.bool_, st.tuples(st.integers(1, 30), st.integers(1, 30))))
def test_distance_transform_any_mask(candidate, reference, mask):
    if mask.all():
        return
    mask = mask.view(np.uint8)
    assert _difference(candidate.distance_transform(mask), reference.distance_transform(mask)).max() <= 1e-3


@pytest.mark.parametrize("reach", [0, 2, 1000])
def test_numpy_distance_both_methods_exact(reference, reach, monkeypatch):
    # reach 0 sends every row to the parabola envelope, 1000 every pixel to the short search.
    monkeypatch.setattr(_numpy_ops, "_SEARCH_REACH", reach)
    rng = np.random.default_rng(12)
    for shape in [(60, 80), (80, 60), (1, 30), (30, 1)]:
        mask = _random_mask(rng, shape)
        mask[0, 0] = 0
        found = _numpy_ops.distance_transform_edt(mask)
        assert _difference(found, reference.distance_transform(mask)).max() <= 1e-3


def test_distance_transform_long_mask(candidate, reference):
    # Sides adding up past 10 000 pixels take the int32 path of the NumPy code.
    mask = np.ones((3, 12000), dtype=np.uint8)
    mask[1, ::997] = 0
    assert _difference(candidate.distance_transform(mask), reference.distance_transform(mask)).max() <= 1e-3


def test_distance_transform_without_unset_pixel_is_huge(candidate):
    assert candidate.distance_transform(np.ones((4, 5), dtype=np.uint8)).min() >= 1e6


def test_distance_transform_empty_mask_is_zero(candidate):
    assert not candidate.distance_transform(np.zeros((4, 5), dtype=np.uint8)).any()


# -------------------------------------------------------------------------------- Otsu


@pytest.mark.parametrize("seed", SEEDS)
def test_otsu_threshold_exact(candidate, reference, seed):
    rng = np.random.default_rng(seed)
    dark = rng.normal(rng.uniform(20, 100), 15, 4000)
    bright = rng.normal(rng.uniform(140, 230), 15, 50 * int(rng.integers(10, 160)))
    gray = np.clip(np.concatenate([dark, bright]), 0, 255).astype(np.uint8).reshape(-1, 50)
    assert candidate.otsu_threshold(gray) == reference.otsu_threshold(gray)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gray=arrays(np.uint8, st.tuples(st.integers(1, 20), st.integers(1, 20))))
def test_otsu_threshold_any_image(candidate, reference, gray):
    assert candidate.otsu_threshold(gray) == reference.otsu_threshold(gray)


# ----------------------------------------------------------------------------- rotate

ROTATIONS = [(0.0, (30.0, 20.0)), (2.4, (44.5, 29.5)), (-7.5, (10.0, 50.0)), (33.0, (60.0, 40.0)), (90.0, (44.5, 29.5))]


def _rotated_pair(candidate, reference, image, angle, center, interpolation, border=7.0):
    size = (101, 83)
    return (
        candidate.rotate(image, angle, center, size, interpolation, border),
        reference.rotate(image, angle, center, size, interpolation, border),
    )


@pytest.mark.parametrize(("angle", "center"), ROTATIONS)
@pytest.mark.parametrize("channels", [(), (3,)])
def test_rotate_linear_uint8_within_one(candidate, reference, angle, center, channels):
    image = _noise(np.random.default_rng(13), (60, 90) + channels, np.uint8)
    found, expected = _rotated_pair(candidate, reference, image, angle, center, "linear")
    assert _difference(found, expected).max() <= 1


@pytest.mark.parametrize(("angle", "center"), ROTATIONS)
def test_rotate_linear_float32_close(candidate, reference, angle, center):
    image = _smooth(np.random.default_rng(14), (60, 90), np.float32)
    found, expected = _rotated_pair(candidate, reference, image, angle, center, "linear")
    assert _difference(found, expected).max() <= 0.01


@pytest.mark.parametrize(("angle", "center"), ROTATIONS)
def test_rotate_nearest_mostly_equal(candidate, reference, angle, center):
    image = _noise(np.random.default_rng(15), (60, 90), np.uint8)
    found, expected = _rotated_pair(candidate, reference, image, angle, center, "nearest")
    assert np.mean(found == expected) >= 0.98


@pytest.mark.parametrize(("angle", "center"), ROTATIONS)
def test_rotate_cubic_close_on_smooth_image(candidate, reference, angle, center):
    image = _smooth(np.random.default_rng(16), (60, 90), np.uint8)
    found, expected = _rotated_pair(candidate, reference, image, angle, center, "cubic")
    assert _difference(found, expected).mean() < 2.0


def test_rotate_fills_every_channel_with_border(candidate):
    image = np.full((10, 10, 3), 200, dtype=np.uint8)
    turned = candidate.rotate(image, 0.0, (4.5, 4.5), (30, 30), "linear", 9.0)
    assert turned[0, 0].tolist() == [9, 9, 9]


def test_rotate_keeps_dtype(candidate):
    image = np.zeros((10, 12), dtype=np.float32)
    assert candidate.rotate(image, 5.0, (5.5, 4.5), (14, 12)).dtype == np.float32
