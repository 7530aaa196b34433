"""Backend on Pillow and NumPy only, for hosts where OpenCV and scikit-image cannot be installed.

Pillow performs the affine warps (``Image.transform``). The rest is NumPy
(:mod:`backends._numpy_ops`): the grey conversion, resampling, Gaussian blur,
rectangle maximum and minimum filters, connected components, the Euclidean
distance transform and Otsu's threshold. The pipeline's thresholds react to a
single grey level, so on uint8 pixels those functions reproduce OpenCV's
fixed-point rounding, which Pillow's own filters do not. A comment in each
method names the Pillow function it does not use, and why.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from backends import _numpy_ops as ops
from backends.base import Backend, Components, Interpolation, rotation_matrix

__all__ = ["PillowBackend"]

# Warp filters; "area" has no meaning for a warp and means linear, as in OpenCV.
_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "linear": Image.Resampling.BILINEAR,
    "area": Image.Resampling.BILINEAR,
    "cubic": Image.Resampling.BICUBIC,
}

# Pillow modes that store a whole (H, W) or (H, W, 3) array of this dtype.
_MODES = {
    (np.dtype(np.uint8), 2): "L",
    (np.dtype(np.uint8), 3): "RGB",
    (np.dtype(np.float32), 2): "F",
}


def _planes(image: np.ndarray) -> tuple[list[Image.Image], str]:
    """Split an array into Pillow images: one for L, RGB or F arrays, one F image per channel otherwise."""
    mode = _MODES.get((image.dtype, image.ndim))
    if mode is not None:
        return [Image.fromarray(np.ascontiguousarray(image), mode)], "whole"
    values = image.astype(np.float32)
    if values.ndim == 2:
        return [Image.fromarray(values, "F")], "float"
    return [Image.fromarray(np.ascontiguousarray(values[..., c]), "F") for c in range(values.shape[2])], "float"


def _join(pictures: list[Image.Image], kind: str, like: np.ndarray) -> np.ndarray:
    if kind == "whole":
        return np.asarray(pictures[0]).copy()
    planes = [np.asarray(picture) for picture in pictures]
    values = planes[0] if like.ndim == 2 else np.stack(planes, axis=-1)
    if like.dtype.kind in "ui":
        info = np.iinfo(like.dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    return values.astype(like.dtype)


class PillowBackend(Backend):
    """Backend on ``Pillow`` and ``numpy``; needs no compiled image library beyond Pillow.

    Results match the OpenCV backend within the parity tolerances. The only
    known difference beyond rounding: with ``interpolation="cubic"``,
    :meth:`rotate` uses Pillow's bicubic kernel (``a = -0.5``) where OpenCV
    uses ``a = -0.75``; the pipeline never rotates with cubic interpolation.
    """

    name = "pillow"

    def rgb_to_gray(self, rgb: np.ndarray) -> np.ndarray:
        # Pillow's "L" conversion rounds the same BT.601 weights differently and
        # is one grey level off on a few pixels in a thousand.
        return ops.bt601_gray(rgb)

    def resize(
        self, image: np.ndarray, size: tuple[int, int], interpolation: Interpolation = "area"
    ) -> np.ndarray:
        # Pillow's box filter weighs whole pixels, not the fractions a
        # non-integer factor cuts; its nearest filter samples pixel centres,
        # not OpenCV's grid; its bilinear filter smooths when shrinking; and its
        # integer rounding differs from OpenCV's. Where it does match (enlarging
        # float images), one "F" image per channel still costs 2.5 times the
        # NumPy resampling: 154 ms against 62 ms for the pipeline's 3-channel
        # paper estimate of a 12 MP photo.
        return ops.resize(image, size, interpolation)

    def gaussian_blur(self, image: np.ndarray, sigma: float) -> np.ndarray:
        # ImageFilter.GaussianBlur approximates with box blurs (up to a few grey
        # levels off near edges) and replicates borders.
        return ops.gaussian_blur(image, sigma)

    def dilate(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        return ops.maximum_filter(image, size)

    def erode(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        return ops.minimum_filter(image, size)

    def connected_components(self, mask: np.ndarray) -> Components:
        count, labels, stats = ops.label_components(mask)
        return Components(count=count, labels=labels, stats=stats)

    def distance_transform(self, mask: np.ndarray) -> np.ndarray:
        return ops.distance_transform_edt(mask)

    def otsu_threshold(self, gray: np.ndarray) -> int:
        return ops.otsu_threshold(gray)

    def rotate(
        self,
        image: np.ndarray,
        angle: float,
        center: tuple[float, float],
        size: tuple[int, int],
        interpolation: Interpolation = "linear",
        border_value: float = 0.0,
    ) -> np.ndarray:
        width, height = int(size[0]), int(size[1])
        # Pillow samples the input only inside its bounds and does not blend
        # the edge pixels with the fill colour as OpenCV does. A one-pixel frame
        # of border_value makes both agree.
        framed = np.pad(
            image, [(1, 1), (1, 1)] + [(0, 0)] * (image.ndim - 2), constant_values=border_value
        )
        forward = np.vstack([rotation_matrix(angle, center, size), [0.0, 0.0, 1.0]])
        inverse = np.linalg.inv(forward)
        linear, shift = inverse[:2, :2], inverse[:2, 2]
        # Pillow's affine data maps output pixel corners to input corners; pixel
        # centres sit at +0.5, and the frame moves the input by one pixel.
        shift = shift + 0.5 + 1.0 - linear @ np.array([0.5, 0.5])
        data = (linear[0, 0], linear[0, 1], shift[0], linear[1, 0], linear[1, 1], shift[1])

        pictures, kind = _planes(framed)
        fill = border_value if kind == "float" or framed.dtype.kind == "f" else int(round(border_value))
        if kind == "whole" and framed.ndim == 3:
            fill = (fill,) * framed.shape[2]
        turned = [
            picture.transform(
                (width, height), Image.Transform.AFFINE, data, resample=_RESAMPLE[interpolation], fillcolor=fill
            )
            for picture in pictures
        ]
        return _join(turned, kind, image)
