"""OpenCV implementation of the backend interface, the default."""

from __future__ import annotations

import cv2
import numpy as np

from backends.base import Backend, Components, Interpolation, rotation_matrix

__all__ = ["OpenCVBackend"]

_INTERPOLATION = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "area": cv2.INTER_AREA,
    "cubic": cv2.INTER_CUBIC,
}


class OpenCVBackend(Backend):
    """Backend on ``opencv-python-headless``.

    Images enter and leave as RGB or grey; OpenCV's BGR order never crosses this
    class, because no method here needs a channel order at all except
    :meth:`rgb_to_gray`, which says RGB explicitly.
    """

    name = "opencv"

    def rgb_to_gray(self, rgb: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)

    def resize(
        self, image: np.ndarray, size: tuple[int, int], interpolation: Interpolation = "area"
    ) -> np.ndarray:
        if (image.shape[1], image.shape[0]) == tuple(size):
            return image
        return cv2.resize(image, tuple(size), interpolation=_INTERPOLATION[interpolation])

    def gaussian_blur(self, image: np.ndarray, sigma: float) -> np.ndarray:
        return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT_101)

    def dilate(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, tuple(size))
        # OpenCV's default border for morphology never wins the max (or the min
        # in erode) on any channel. A scalar borderValue would cover channel 0
        # only and pull zeros into the other channels near the edges.
        return cv2.dilate(image, kernel)

    def erode(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, tuple(size))
        return cv2.erode(image, kernel)

    def connected_components(self, mask: np.ndarray) -> Components:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            _as_mask(mask), connectivity=8, ltype=cv2.CV_32S
        )
        return Components(count=int(count), labels=labels, stats=stats.astype(np.int64))

    def distance_transform(self, mask: np.ndarray) -> np.ndarray:
        return cv2.distanceTransform(_as_mask(mask), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)

    def otsu_threshold(self, gray: np.ndarray) -> int:
        threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return int(threshold)

    def rotate(
        self,
        image: np.ndarray,
        angle: float,
        center: tuple[float, float],
        size: tuple[int, int],
        interpolation: Interpolation = "linear",
        border_value: float = 0.0,
    ) -> np.ndarray:
        matrix = rotation_matrix(angle, center, size)
        return cv2.warpAffine(
            image,
            matrix,
            tuple(size),
            flags=_INTERPOLATION[interpolation],
            borderMode=cv2.BORDER_CONSTANT,
            # A bare number would fill channel 0 only; OpenCV takes a 4-channel scalar.
            borderValue=(float(border_value),) * 4,
        )


def _as_mask(mask: np.ndarray) -> np.ndarray:
    if mask.dtype == np.uint8:
        return mask
    return mask.astype(np.uint8)

