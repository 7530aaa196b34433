"""Pure-NumPy image operations shared by the backends that do not wrap OpenCV.

Each function follows the contract of the matching :class:`backends.base.Backend`
method, and reproduces OpenCV's conventions where the contract leaves a choice
(resampling grids, kernel sizes, border rules). The Pillow backend uses most of
them; the scikit-image backend uses those that scikit-image has no exact
equivalent for. Nothing here imports anything but NumPy.

Conventions: images are ``(H, W)`` or ``(H, W, C)``; sizes are
``(width, height)``; rows are axis 0 and columns axis 1.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "bt601_gray",
    "distance_transform_edt",
    "gaussian_blur",
    "gaussian_kernel",
    "label_components",
    "maximum_filter",
    "minimum_filter",
    "otsu_threshold",
    "resize",
]

# BT.601 weights 0.299, 0.587, 0.114 in 15-bit fixed point, summing to 2**15 so
# that white stays 255. OpenCV 5 rounds them this way; OpenCV 4 used 14 bits,
# which differs by one grey level on a few pixels.
_GRAY_WEIGHTS = (9798, 19235, 3735)
_GRAY_SHIFT = 15

# Keys' cubic convolution parameter that OpenCV's INTER_CUBIC uses.
_CUBIC_A = -0.75


def bt601_gray(rgb: np.ndarray) -> np.ndarray:
    """Convert ``(H, W, 3)`` uint8 RGB to ``(H, W)`` uint8 BT.601 luma.

    The weighted sum is computed in 32-bit integers and rounded half up, as
    ``cv2.cvtColor(..., COLOR_RGB2GRAY)`` does in OpenCV 5.
    """
    red, green, blue = (rgb[..., channel].astype(np.uint32) for channel in range(3))
    red *= _GRAY_WEIGHTS[0]
    green *= _GRAY_WEIGHTS[1]
    blue *= _GRAY_WEIGHTS[2]
    red += green
    red += blue
    red += 1 << (_GRAY_SHIFT - 1)
    red >>= _GRAY_SHIFT
    return red.astype(np.uint8)


# --------------------------------------------------------------------------- resize


def _scale(n_in: int, n_out: int) -> float:
    # OpenCV divides one by the output-to-input ratio. Computing n_in / n_out
    # directly can land just below an integer where OpenCV lands on it, so
    # floor() would pick the previous pixel.
    return 1.0 / (n_out / n_in)


def _linear_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    # Pixel centres aligned: source x = (x_out + 0.5) * scale - 0.5, edges replicated.
    scale = _scale(n_in, n_out)
    source = (np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5
    left = np.floor(source)
    fraction = source - left
    left = left.astype(np.int64)
    fraction[left < 0] = 0.0
    left[left < 0] = 0
    at_end = left >= n_in - 1
    fraction[at_end] = 0.0
    left[at_end] = n_in - 1
    index = np.stack([left, np.minimum(left + 1, n_in - 1)], axis=1)
    weight = np.stack([1.0 - fraction, fraction], axis=1)
    return index, weight


# OpenCV's INTER_LINEAR on uint8 images works in fixed point: weights scaled by
# 2**11, a horizontal pass in integers, then a vertical pass that keeps the high
# bits of each product. Emulating it gives the same pixels, not just close ones.
_LINEAR_BITS = 11


def _linear_fixed_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    # Unlike _linear_taps, the fraction is not reset at the edges: OpenCV
    # clamps the two source indices and keeps both rounded weights, whose sum
    # is not always exactly 2**11.
    scale = _scale(n_in, n_out)
    source = ((np.arange(n_out) + 0.5) * scale - 0.5).astype(np.float32)
    left = np.floor(source).astype(np.int64)
    fraction = (source - left).astype(np.float32)
    unit = 1 << _LINEAR_BITS
    weight = np.stack(
        [
            np.rint((np.float32(1.0) - fraction).astype(np.float64) * unit),
            np.rint(fraction.astype(np.float64) * unit),
        ],
        axis=1,
    ).astype(np.int32)
    index = np.clip(np.stack([left, left + 1], axis=1), 0, n_in - 1)
    return index, weight


def _area_enlarge_fixed_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    index, weight = _area_enlarge_taps(n_in, n_out)
    return index, np.rint(weight.astype(np.float32).astype(np.float64) * (1 << _LINEAR_BITS)).astype(np.int32)


def _resize_linear_uint8(image: np.ndarray, width: int, height: int, taps=None) -> np.ndarray:
    """Resize a uint8 image with OpenCV's fixed-point two-tap arithmetic, bit for bit.

    ``taps`` builds the fixed-point taps per axis: INTER_LINEAR's by default,
    or those of INTER_AREA when the image grows, which runs the same code.
    """
    taps = taps or _linear_fixed_taps
    in_height, in_width = image.shape[:2]
    cols, col_weight = taps(in_width, width)
    rows, row_weight = taps(in_height, height)
    across = (1, -1) + (1,) * (image.ndim - 2)
    down = (-1, 1) + (1,) * (image.ndim - 2)

    # Horizontal pass: exact integer sums with 11 fraction bits.
    horizontal = _take_columns(image, cols[:, 0]).astype(np.int32)
    horizontal *= col_weight[:, 0].reshape(across)
    right = _take_columns(image, cols[:, 1]).astype(np.int32)
    right *= col_weight[:, 1].reshape(across)
    horizontal += right

    # Vertical pass, as OpenCV's SIMD code: (w * (h >> 4)) >> 16 per tap, then round off 2 bits.
    horizontal >>= 4
    upper = horizontal[rows[:, 0]] * row_weight[:, 0].reshape(down)
    upper >>= 16
    lower = horizontal[rows[:, 1]] * row_weight[:, 1].reshape(down)
    lower >>= 16
    upper += lower
    upper += 2
    upper >>= 2
    np.clip(upper, 0, 255, out=upper)
    return upper.astype(np.uint8)


def _cubic_weight(distance: np.ndarray) -> np.ndarray:
    t = np.abs(distance)
    a = _CUBIC_A
    near = (a + 2.0) * t**3 - (a + 3.0) * t**2 + 1.0
    far = a * t**3 - 5.0 * a * t**2 + 8.0 * a * t - 4.0 * a
    return np.where(t <= 1.0, near, np.where(t < 2.0, far, 0.0))


def _cubic_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    scale = _scale(n_in, n_out)
    source = (np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5
    left = np.floor(source)
    offsets = np.arange(-1, 3)
    index = left.astype(np.int64)[:, None] + offsets
    weight = _cubic_weight((source - left)[:, None] - offsets)
    return np.clip(index, 0, n_in - 1), weight


def _area_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Return OpenCV's pixel-area table: which input pixels each output pixel averages, and their float32 weights.

    Output pixel j covers the input interval ``[j * scale, (j + 1) * scale)``;
    each input pixel counts by the length of its overlap with it. Overlaps
    shorter than 1/1000 of a pixel are dropped, as OpenCV drops them, and the
    taps come in increasing input order so float sums round the same way.
    """
    scale = _scale(n_in, n_out)
    rows: list[list[tuple[int, float]]] = []
    for j in range(n_out):
        start = j * scale
        end = start + scale
        cell = min(scale, n_in - start)
        first = min(math.ceil(start), n_in - 1)
        last = min(math.floor(end), n_in - 1)
        first = min(first, last)
        taps = []
        if first - start > 1e-3:
            taps.append((first - 1, (first - start) / cell))
        taps.extend((i, 1.0 / cell) for i in range(first, last))
        if end - last > 1e-3:
            taps.append((last, min(min(end - last, 1.0), cell) / cell))
        rows.append(taps)

    width = max(len(taps) for taps in rows)
    index = np.zeros((n_out, width), dtype=np.int64)
    weight = np.zeros((n_out, width), dtype=np.float32)
    for j, taps in enumerate(rows):
        for k, (i, w) in enumerate(taps):
            index[j, k] = i
            weight[j, k] = w
    return index, weight


def _area_enlarge_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    # OpenCV's INTER_AREA when the image grows: nearest source pixel, blended
    # linearly with the next one only across the output pixel that straddles
    # their boundary.
    scale = _scale(n_in, n_out)
    destination = np.arange(n_out, dtype=np.float64)
    left = np.floor(destination * scale).astype(np.int64)
    # OpenCV rounds the fraction to float32 before taking its fractional part.
    fraction = ((destination + 1.0) - (left + 1.0) * (n_out / n_in)).astype(np.float32)
    fraction = np.where(fraction <= 0.0, 0.0, fraction - np.floor(fraction)).astype(np.float64)
    at_end = left >= n_in - 1
    fraction[at_end] = 0.0
    left[at_end] = n_in - 1
    index = np.stack([left, np.minimum(left + 1, n_in - 1)], axis=1)
    weight = np.stack([1.0 - fraction, fraction], axis=1)
    return index, weight


def _take_columns(image: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Return ``image[:, columns]``, faster for channel images by gathering from a 2-D view."""
    if image.ndim == 2 or not image.flags.c_contiguous:
        return np.take(image, columns, axis=1)
    height, width = image.shape[:2]
    depth = int(np.prod(image.shape[2:]))
    flat_columns = (columns[:, None] * depth + np.arange(depth)).ravel()
    gathered = np.take(image.reshape(height, width * depth), flat_columns, axis=1)
    return gathered.reshape((height, columns.size) + image.shape[2:])


def _take(image: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
    return _take_columns(image, index) if axis == 1 else np.take(image, index, axis=0)


def _resample_axis(image: np.ndarray, axis: int, index: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Return ``sum_k weight[:, k] * image.take(index[:, k], axis)`` as float32, summed in tap order."""
    shape = [1] * image.ndim
    shape[axis] = -1
    result = None
    for tap in range(index.shape[1]):
        column = weight[:, tap]
        if not column.any():
            continue
        part = _take(image, index[:, tap], axis).astype(np.float32, copy=False)
        part *= column.astype(np.float32).reshape(shape)
        if result is None:
            result = part
        else:
            result += part
    if result is None:
        out_shape = list(image.shape)
        out_shape[axis] = index.shape[0]
        result = np.zeros(out_shape, dtype=np.float32)
    return result


def _block_mean(image: np.ndarray, factor_y: int, factor_x: int) -> np.ndarray:
    """Average ``factor_y`` x ``factor_x`` blocks; uint8 results rounded as OpenCV's INTER_AREA rounds them.

    The block sums add strided slices, which NumPy does much faster than a
    reduction over a reshaped axis.
    """
    height, width = image.shape[:2]
    rows, cols = height // factor_y, width // factor_x
    count = factor_y * factor_x
    if image.dtype == np.uint8:
        accumulator = np.uint16 if count <= 257 else np.uint32
    else:
        accumulator = np.float32
    grouped = image.reshape((rows, factor_y, width) + image.shape[2:])
    total = grouped[:, 0].astype(accumulator)
    for offset in range(1, factor_y):
        total += grouped[:, offset]
    grouped = total.reshape((rows, cols, factor_x) + image.shape[2:])
    total = grouped[:, :, 0].copy()
    for offset in range(1, factor_x):
        total += grouped[:, :, offset]

    if image.dtype == np.uint8 and (factor_y, factor_x) == (2, 2):
        # OpenCV's 2 x 2 path adds the four pixels and rounds halves up.
        return ((total + 2) >> 2).astype(np.uint8)
    # Elsewhere OpenCV multiplies the sum by the float32 reciprocal of the count.
    values = total.astype(np.float32) * np.float32(1.0 / count)
    return _finish(values, image.dtype)


def _finish(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round and saturate float results into ``dtype`` as OpenCV does for integer images."""
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        values = np.rint(values, out=values)
        np.clip(values, info.min, info.max, out=values)
        return values.astype(dtype)
    return values.astype(dtype, copy=False)


def resize(image: np.ndarray, size: tuple[int, int], interpolation: str = "area") -> np.ndarray:
    """Resize ``image`` to ``size = (width, height)`` with OpenCV's sampling grids.

    ``"nearest"`` takes the source pixel ``floor(x_out * scale)`` (OpenCV's
    INTER_NEAREST, not the centre-aligned variant). ``"linear"`` and ``"cubic"``
    align pixel centres and replicate the edges; the cubic kernel is Keys' with
    ``a = -0.75``. ``"area"`` averages the exact pixel area when both sides
    shrink and otherwise blends neighbours only across pixel boundaries, like
    OpenCV's INTER_AREA.

    uint8 images resized with ``"linear"`` follow OpenCV's fixed-point
    arithmetic, and ``"area"`` its float32 sums, so both give OpenCV's pixels
    exactly. Other integer results are rounded half to even and saturated;
    float images keep float32 precision.
    """
    width, height = int(size[0]), int(size[1])
    in_height, in_width = image.shape[:2]
    if (in_width, in_height) == (width, height):
        return image
    if width < 1 or height < 1:
        raise ValueError(f"invalid output size {size}: both sides must be at least 1 pixel")
    source = image.view(np.uint8) if image.dtype == bool else image

    if interpolation == "nearest":
        rows = np.floor(np.arange(height) * _scale(in_height, height)).astype(np.intp)
        cols = np.floor(np.arange(width) * _scale(in_width, width)).astype(np.intp)
        rows = np.minimum(rows, in_height - 1)
        cols = np.minimum(cols, in_width - 1)
        result = source[rows][:, cols]
        return result.view(bool) if image.dtype == bool else result

    if interpolation == "linear" and in_width == 2 * width and in_height == 2 * height:
        # OpenCV halves an image with pixel-area averaging even when asked for linear.
        interpolation = "area"
    if interpolation == "linear" and source.dtype == np.uint8:
        result = _resize_linear_uint8(source, width, height)
        return result.astype(bool) if image.dtype == bool else result

    if interpolation == "area" and in_width >= width and in_height >= height:
        if in_width % width == 0 and in_height % height == 0:
            result = _block_mean(source, in_height // height, in_width // width)
            return result.astype(bool) if image.dtype == bool else result
        taps = _area_taps
    elif interpolation == "area" and source.dtype == np.uint8:
        result = _resize_linear_uint8(source, width, height, _area_enlarge_fixed_taps)
        return result.astype(bool) if image.dtype == bool else result
    elif interpolation == "area":
        taps = _area_enlarge_taps
    elif interpolation == "linear":
        taps = _linear_taps
    elif interpolation == "cubic":
        taps = _cubic_taps
    else:
        raise ValueError(f"invalid interpolation {interpolation!r}: expected nearest, linear, area or cubic")

    # Rows first, as OpenCV sums them, so float32 rounding matches.
    axes = [(1, in_width, width), (0, in_height, height)]
    values = source
    for axis, n_in, n_out in axes:
        if n_in == n_out:
            continue
        index, weight = taps(n_in, n_out)
        values = _resample_axis(values, axis, index, weight)
    if values is source:
        return image.copy()
    result = _finish(values, source.dtype)
    if image.dtype == bool:
        return result.astype(bool)
    return result


# -------------------------------------------------------------------------- filters


def gaussian_kernel(sigma: float, dtype: np.dtype) -> np.ndarray:
    """Return OpenCV's 1-D Gaussian kernel for ``sigma`` and an image of ``dtype``.

    The kernel has ``round(sigma * 6 + 1) | 1`` taps for uint8 images and
    ``round(sigma * 8 + 1) | 1`` otherwise (3 and 4 standard deviations each
    side), and sums to 1.
    """
    reach = 3.0 if np.dtype(dtype) == np.uint8 else 4.0
    taps = int(round(sigma * reach * 2 + 1)) | 1
    x = np.arange(taps, dtype=np.float64) - (taps - 1) / 2.0
    kernel = np.exp(-(x**2) / (2.0 * sigma * sigma))
    return kernel / kernel.sum()


def _convolve_axis(image: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    radius = len(kernel) // 2
    pad = [(0, 0)] * image.ndim
    pad[axis] = (radius, radius)
    # NumPy's "reflect" mirrors about the edge pixel without repeating it (OpenCV's REFLECT_101).
    padded = np.pad(image, pad, mode="reflect")
    length = image.shape[axis]
    result = np.zeros(image.shape, dtype=np.float32)
    for offset, coefficient in enumerate(kernel.astype(np.float32)):
        window = [slice(None)] * image.ndim
        window[axis] = slice(offset, offset + length)
        result += coefficient * padded[tuple(window)]
    return result


# OpenCV blurs uint8 images with a kernel in 8-bit fixed point.
_GAUSSIAN_BITS = 8


def _fixed_point_kernel(kernel: np.ndarray) -> np.ndarray:
    """Round a symmetric kernel to integers summing to ``2**_GAUSSIAN_BITS``, carrying each rounding error to the next tap.

    The outer taps are rounded from the edge inwards with the error carried
    along, and the centre tap takes whatever makes the sum exact: the same
    integers as OpenCV's bit-exact Gaussian kernel.
    """
    unit = 1 << _GAUSSIAN_BITS
    taps = len(kernel)
    fixed = np.zeros(taps, dtype=np.int64)
    carried = 0.0
    for i in range(taps // 2):
        wanted = kernel[i] * unit + carried
        fixed[i] = fixed[taps - 1 - i] = int(np.rint(wanted))
        carried = wanted - fixed[i]
    fixed[taps // 2] = unit - 2 * int(fixed[: taps // 2].sum())
    return fixed


def _gaussian_blur_uint8(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Blur uint8 pixels with OpenCV's fixed-point arithmetic: exact integer passes, one rounding at the end."""
    fixed = _fixed_point_kernel(kernel).astype(np.int32)
    radius = len(fixed) // 2
    height, width = image.shape[:2]
    pad = [(radius, radius), (radius, radius)] + [(0, 0)] * (image.ndim - 2)
    # NumPy's "reflect" mirrors about the edge pixel without repeating it (OpenCV's REFLECT_101).
    padded = np.pad(image, pad, mode="reflect").astype(np.int32)

    horizontal = np.zeros((padded.shape[0], width) + image.shape[2:], dtype=np.int32)
    for offset, weight in enumerate(fixed):
        horizontal += weight * padded[:, offset : offset + width]
    total = np.zeros(image.shape, dtype=np.int32)
    for offset, weight in enumerate(fixed):
        total += weight * horizontal[offset : offset + height]
    total += 1 << (2 * _GAUSSIAN_BITS - 1)
    total >>= 2 * _GAUSSIAN_BITS
    np.clip(total, 0, 255, out=total)
    return total.astype(np.uint8)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Blur with OpenCV's Gaussian kernel for ``sigma``; borders reflected without repeating the edge.

    uint8 images follow OpenCV's fixed-point arithmetic exactly; other dtypes
    are filtered in float32.
    """
    if sigma <= 0:
        raise ValueError(f"invalid sigma {sigma}: must be positive")
    kernel = gaussian_kernel(sigma, image.dtype)
    if image.dtype == np.uint8 and min(image.shape[:2]) > 1:
        return _gaussian_blur_uint8(image, kernel)
    values = image.astype(np.float32)
    for axis in (0, 1):
        if image.shape[axis] > 1:
            values = _convolve_axis(values, kernel, axis)
    return _finish(values, image.dtype)


def _window_extreme(values: np.ndarray, size: int, axis: int, pick, fill) -> np.ndarray:
    """Apply a running max or min of length ``size`` along ``axis``, centred like OpenCV.

    The window covers offsets ``-(size // 2)`` to ``size - 1 - size // 2``.
    Pixels outside the image count as ``fill`` (the dtype's lowest value for a
    max, highest for a min), so they never win. The extreme is built by
    doubling: after ``k`` rounds each position contains the extreme of the
    ``2**k`` values starting there, and two overlapping power-of-two windows
    cover any length.
    """
    if size <= 1:
        return values
    before = size // 2
    after = size - 1 - before
    pad = [(0, 0)] * values.ndim
    pad[axis] = (before, after)
    current = np.pad(values, pad, mode="constant", constant_values=fill)
    moved = np.moveaxis(current, axis, 0)
    span = 1
    while span * 2 <= size:
        moved = pick(moved[:-span], moved[span:])
        span *= 2
    if span < size:
        moved = pick(moved[: moved.shape[0] - (size - span)], moved[size - span :])
    return np.moveaxis(moved, 0, axis)


def _extreme_filter(image: np.ndarray, size: tuple[int, int], pick, fill) -> np.ndarray:
    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise ValueError(f"invalid filter size {size}: both sides must be at least 1 pixel")
    values = image.view(np.uint8) if image.dtype == bool else image
    result = _window_extreme(values, height, 0, pick, fill)
    result = _window_extreme(result, width, 1, pick, fill)
    if result is values:
        result = values.copy()
    return result.view(bool) if image.dtype == bool else np.ascontiguousarray(result)


def _lowest(dtype: np.dtype):
    return np.iinfo(dtype).min if dtype.kind in "ui" else -np.inf


def _highest(dtype: np.dtype):
    return np.iinfo(dtype).max if dtype.kind in "ui" else np.inf


def maximum_filter(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Apply a grey-level maximum over a ``(width, height)`` rectangle; pixels outside are ignored."""
    dtype = np.dtype(np.uint8) if image.dtype == bool else image.dtype
    return _extreme_filter(image, size, np.maximum, _lowest(dtype))


def minimum_filter(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Apply a grey-level minimum over a ``(width, height)`` rectangle; pixels outside are ignored."""
    dtype = np.dtype(np.uint8) if image.dtype == bool else image.dtype
    return _extreme_filter(image, size, np.minimum, _highest(dtype))


# ---------------------------------------------------------------- connected components


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the row, start column and end column (exclusive) of each horizontal run of set pixels.

    Runs come in raster order: by row, then by start column.
    """
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded, axis=1)
    rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)
    return rows, starts, ends


def _touching_runs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int):
    """Return index pairs ``(a, b)`` of runs in consecutive rows that touch with 8-connectivity.

    Run ``a`` in row ``r`` touches run ``b`` in row ``r + 1`` when
    ``start_b <= end_a`` and ``start_a <= end_b`` (ends exclusive, so diagonal
    neighbours count). With keys ``row * stride + column``, the runs of row
    ``r + 1`` touching ``a`` are one contiguous slice of the raster order,
    found by two binary searches.
    """
    stride = width + 2
    start_keys = rows * stride + starts
    end_keys = rows * stride + ends
    next_row = (rows + 1) * stride
    low = np.searchsorted(end_keys, next_row + starts, side="left")
    high = np.searchsorted(start_keys, next_row + ends, side="right")
    counts = np.maximum(high - low, 0)
    total = int(counts.sum())
    first = np.repeat(np.arange(rows.size), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    second = np.repeat(low, counts) + offsets
    return first, second


def _union_roots(count: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Return, for each of ``count`` nodes, the smallest node index of its connected component.

    Vectorised union-find: every round hooks the larger root of each edge under
    the smaller one, then pointer jumping flattens the trees. A parent index is
    never larger than its child's, so the trees stay acyclic and each root ends
    as the component's minimum.
    """
    parent = np.arange(count)
    while first.size:
        root_a = parent[first]
        root_b = parent[second]
        pending = root_a != root_b
        if not pending.any():
            break
        first, second = first[pending], second[pending]
        root_a, root_b = root_a[pending], root_b[pending]
        np.minimum.at(parent, np.maximum(root_a, root_b), np.minimum(root_a, root_b))
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


def label_components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Label the 8-connected components of the nonzero pixels of a 2-D ``mask``.

    Works on horizontal runs: runs touching across consecutive rows are merged
    with a vectorised union-find, then the label image is painted from the runs.

    Returns
    -------
    count : int
        Number of labels, background (label 0) included.
    labels : ndarray
        ``(H, W)`` int32; components are numbered 1 to ``count - 1`` in the
        raster order of their first pixel.
    stats : ndarray
        ``(count, 5)`` int64 rows ``[x, y, width, height, area]``. Row 0 is the
        background's box and area (all zero when no pixel is unset).
    """
    set_pixels = mask != 0
    height, width = set_pixels.shape
    rows, starts, ends = _runs(set_pixels)
    first, second = _touching_runs(rows, starts, ends, width)
    roots = _union_roots(rows.size, first, second)

    is_root = roots == np.arange(rows.size)
    label_of_root = np.cumsum(is_root, dtype=np.int64)
    run_labels = label_of_root[roots].astype(np.int32)
    count = int(is_root.sum()) + 1

    # Paint: +label where a run starts, -label where it ends, then a running sum.
    paint = np.zeros(height * width + 1, dtype=np.int32)
    paint[rows * width + starts] += run_labels
    paint[rows * width + ends] -= run_labels
    labels = np.cumsum(paint[:-1], dtype=np.int32).reshape(height, width)

    lengths = (ends - starts).astype(np.int64)
    stats = np.zeros((count, 5), dtype=np.int64)
    big = np.iinfo(np.int64).max
    x_min = np.full(count, big, dtype=np.int64)
    x_end = np.zeros(count, dtype=np.int64)
    y_min = np.full(count, big, dtype=np.int64)
    y_max = np.zeros(count, dtype=np.int64)
    np.minimum.at(x_min, run_labels, starts)
    np.maximum.at(x_end, run_labels, ends)
    np.minimum.at(y_min, run_labels, rows)
    np.maximum.at(y_max, run_labels, rows)
    areas = np.bincount(run_labels, weights=lengths, minlength=count).astype(np.int64)
    stats[1:, 0] = x_min[1:]
    stats[1:, 1] = y_min[1:]
    stats[1:, 2] = x_end[1:] - x_min[1:]
    stats[1:, 3] = y_max[1:] - y_min[1:] + 1
    stats[1:, 4] = areas[1:]

    background = height * width - int(lengths.sum())
    if background:
        covered = np.bincount(rows, weights=lengths, minlength=height)
        open_rows = np.flatnonzero(covered < width)
        open_cols = np.flatnonzero(~set_pixels.all(axis=0))
        stats[0] = [
            open_cols[0],
            open_rows[0],
            open_cols[-1] - open_cols[0] + 1,
            open_rows[-1] - open_rows[0] + 1,
            background,
        ]
    return count, labels, stats


# ------------------------------------------------------------------ distance transform


def _line_distances(set_pixels: np.ndarray, axis: int) -> np.ndarray:
    """Return the distance along ``axis`` from every pixel to the nearest unset pixel of its line.

    ``(H, W)`` integers; on lines without an unset pixel the value exceeds any
    real distance (it is at least the sum of both sides). int16 arithmetic,
    twice as fast as int32, is used whenever it cannot overflow.
    """
    length = set_pixels.shape[axis]
    # Stands for "no unset pixel on this line" and exceeds any real distance.
    far = int(sum(set_pixels.shape)) + 1
    dtype = np.int16 if 3 * far < np.iinfo(np.int16).max else np.int32
    shape = [1, 1]
    shape[axis] = length
    index = np.arange(length, dtype=dtype).reshape(shape)
    flip = (slice(None, None, -1), slice(None)) if axis == 0 else (slice(None), slice(None, None, -1))
    previous = np.maximum.accumulate(np.where(set_pixels, dtype(-far), index), axis=axis)
    following = np.minimum.accumulate(np.where(set_pixels, dtype(2 * far), index)[flip], axis=axis)[flip]
    return np.minimum(index - previous, following - index)


def _lower_envelope(costs: np.ndarray) -> np.ndarray:
    """Return ``min over q of (x - q)**2 + costs[:, q]`` for every x of every row.

    This is the 1-D squared distance transform of Felzenszwalb and
    Huttenlocher, "Distance Transforms of Sampled Functions", Theory of
    Computing 8, 2012: the lower envelope of the parabolas rooted at each
    ``q``. The classic algorithm scans one row with a stack of parabolas. Here
    every row is scanned at once, each with its own stack depth, so the Python
    loop runs once per column rather than once per pixel. ``costs`` must be
    finite, which keeps every crossing above the stack's ``-inf`` floor.
    """
    rows, length = costs.shape
    row_index = np.arange(rows)
    # Parabola roots on each stack, and the boundaries between them: the parabola
    # at stack position k is the lowest on [bounds[k], bounds[k + 1]).
    roots = np.zeros((rows, length), dtype=np.int64)
    bounds = np.full((rows, length + 1), np.inf)
    bounds[:, 0] = -np.inf
    top = np.zeros(rows, dtype=np.int64)
    lifted = costs + np.arange(length, dtype=np.float64) ** 2

    for q in range(1, length):
        active = row_index
        while active.size:
            depth = top[active]
            root = roots[active, depth]
            crossing = (lifted[active, q] - lifted[active, root]) / (2.0 * (q - root))
            popped = crossing <= bounds[active, depth]
            pushed = active[~popped]
            position = top[pushed] + 1
            top[pushed] = position
            roots[pushed, position] = q
            bounds[pushed, position] = crossing[~popped]
            bounds[pushed, position + 1] = np.inf
            active = active[popped]
            top[active] -= 1

    # Each x takes the parabola whose interval contains it. Entries above a stack's
    # top are stale, so they become inf; clipping to [-1, length] keeps every
    # comparison with x in [0, length - 1], and a per-row offset lets one
    # sorted search serve all rows.
    stale = np.arange(1, length + 1)[None, :] > top[:, None] + 1
    upper = np.where(stale, np.inf, bounds[:, 1:])
    span = length + 2
    limits = np.clip(upper, -1.0, float(length)) + 1.0 + (row_index * span)[:, None]
    positions = np.arange(length, dtype=np.float64)[None, :] + 1.0 + (row_index * span)[:, None]
    chosen = np.searchsorted(limits.ravel(), positions.ravel(), side="left").reshape(rows, length)
    chosen -= (row_index * length)[:, None]
    root = np.take_along_axis(roots, chosen, axis=1)
    x = np.arange(length)[None, :]
    return (x - root) ** 2 + np.take_along_axis(costs, root, axis=1)


def _nearest_by_search(
    squared: np.ndarray, bound: np.ndarray, rows: np.ndarray, cols: np.ndarray, reach: int
) -> np.ndarray:
    """Return ``min over |d| <= reach of d**2 + squared[row, col + d]`` for the given pixels.

    ``bound`` is an upper bound on each pixel's distance, so offsets with
    ``d**2`` at or above the best value found so far are never needed: a pixel
    leaves the search as soon as no further offset can improve it. For thin
    strokes that happens after a few offsets.
    """
    width = squared.shape[1]
    flat = squared.ravel()
    start = rows * width + cols
    best = bound[rows, cols].astype(np.float64) ** 2
    active = np.arange(rows.size)
    for offset in range(1, reach + 1):
        active = active[offset * offset < best[active]]
        if not active.size:
            break
        column = cols[active]
        candidate = np.full(active.size, np.inf)
        left = column >= offset
        candidate[left] = flat[start[active[left]] - offset]
        right = column + offset < width
        candidate[right] = np.minimum(candidate[right], flat[start[active[right]] + offset])
        best[active] = np.minimum(best[active], candidate + offset * offset)
    return best


# Pixels whose distance may exceed this many pixels are left to the envelope
# algorithm, whose cost does not grow with the distance but whose Python loop
# runs once per column. 48 keeps stroke-like masks (distances of a few pixels,
# some tens at crossings) entirely in the short search.
_SEARCH_REACH = 48


def distance_transform_edt(mask: np.ndarray) -> np.ndarray:
    """Return the exact Euclidean distance of each nonzero pixel to the nearest zero pixel.

    Separable method: exact distances along columns first, then, along rows,
    the minimum over columns ``q`` of ``(x - q)**2 + column_distance[q]**2``.
    For pixels near an unset pixel, that minimum comes from a short search
    over nearby columns (:func:`_nearest_by_search`); rows that hold a pixel
    farther than ``_SEARCH_REACH`` from every unset pixel take the lower
    envelope of parabolas instead (:func:`_lower_envelope`). Both are exact.
    The work is limited to the box of the set pixels grown by one pixel, which
    is exact too: every pixel just outside that box is unset.

    Returns
    -------
    ndarray
        ``(H, W)`` float32; 0 on unset pixels, ``inf`` everywhere when the mask
        has no unset pixel.
    """
    set_pixels = mask != 0
    distances = np.zeros(set_pixels.shape, dtype=np.float32)
    if not set_pixels.any():
        return distances
    if set_pixels.all():
        distances[:] = np.inf
        return distances

    rows = np.flatnonzero(set_pixels.any(axis=1))
    cols = np.flatnonzero(set_pixels.any(axis=0))
    top, bottom = max(rows[0] - 1, 0), min(rows[-1] + 2, set_pixels.shape[0])
    left, right = max(cols[0] - 1, 0), min(cols[-1] + 2, set_pixels.shape[1])
    window = set_pixels[top:bottom, left:right]

    # The envelope loop runs once per column: make the rows the short side.
    transpose = window.shape[1] > window.shape[0]
    if transpose:
        window = window.T
    window = np.ascontiguousarray(window)
    vertical = _line_distances(window, axis=0)
    # The nearest unset pixel of the same column or row bounds the distance.
    # Running extremes along rows are several times slower in NumPy than down
    # columns, so the row distances come from the transposed window.
    bound = np.minimum(vertical, _line_distances(np.ascontiguousarray(window.T), axis=0).T)
    # A column with no unset pixel gets a large finite cost instead of an
    # infinite one, which keeps the envelope arithmetic free of inf - inf. It
    # never wins: some column of the window has an unset pixel, so every row
    # has a cost below it.
    ceiling = sum(window.shape)
    squared = np.minimum(vertical, ceiling).astype(np.float64) ** 2

    result = np.zeros(window.shape, dtype=np.float64)
    far_rows = (bound > _SEARCH_REACH).any(axis=1)
    if far_rows.any():
        result[far_rows] = _lower_envelope(squared[far_rows])
    near_rows, near_cols = np.nonzero(window & ~far_rows[:, None])
    result[near_rows, near_cols] = _nearest_by_search(squared, bound, near_rows, near_cols, _SEARCH_REACH)
    result[~window] = 0.0

    result = np.sqrt(result).astype(np.float32)
    if transpose:
        result = result.T
    distances[top:bottom, left:right] = result
    return distances


# ----------------------------------------------------------------------------- Otsu


def otsu_threshold(gray: np.ndarray) -> int:
    """Return Otsu's threshold of a uint8 image, chosen as OpenCV does.

    The threshold ``t`` maximises the between-class variance of the classes
    ``<= t`` and ``> t``; the first maximum wins, and ``t`` values that leave a
    class nearly empty are skipped. A uniform image gives 0.

    Reference: N. Otsu, "A threshold selection method from gray-level
    histograms", IEEE Trans. SMC 9(1), 1979.
    """
    histogram = np.bincount(gray.ravel(), minlength=256)[:256].astype(np.float64)
    probability = histogram / max(gray.size, 1)
    levels = np.arange(256, dtype=np.float64)
    weight_low = np.cumsum(probability)
    weight_high = 1.0 - weight_low
    mean_total = float((levels * probability).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_low = np.cumsum(levels * probability) / weight_low
        mean_high = (mean_total - weight_low * mean_low) / weight_high
        variance = weight_low * weight_high * (mean_low - mean_high) ** 2
    epsilon = float(np.finfo(np.float32).eps)
    valid = (np.minimum(weight_low, weight_high) >= epsilon) & (np.maximum(weight_low, weight_high) <= 1.0 - epsilon)
    if not valid.any():
        return 0
    variance = np.where(valid, variance, -1.0)
    return int(np.argmax(variance))
