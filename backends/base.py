"""The image operations that every backend implements.

The pipeline in ``engine/`` is written once against this interface. Arrays cross
it as NumPy arrays: images are ``(H, W)`` grey or ``(H, W, 3)`` RGB, never BGR;
masks are ``(H, W)`` uint8 with 0 for "not set" and 255 for "set". Sizes are
``(width, height)`` and points ``(x, y)``, in pixels. Backends never decode files:
the input layer (``engine.decode``) hands them pixels.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Backend", "Components", "Interpolation"]

Interpolation = Literal["nearest", "linear", "area", "cubic"]


@dataclass(frozen=True)
class Components:
    """Connected components of a mask (8-connectivity).

    Attributes
    ----------
    count : int
        Number of labels, background (label 0) included.
    labels : ndarray
        ``(H, W)`` int32 label image, 0 for the background.
    stats : ndarray
        ``(count, 5)`` int64 rows ``[x, y, width, height, area]`` per label, in pixels.
    """

    count: int
    labels: np.ndarray
    stats: np.ndarray

    # NOTE: the numbering of the components is not part of the contract. OpenCV
    # numbers them in its own scan order; the NumPy and scikit-image backends
    # in raster order of each component's first pixel. Row 0 of ``stats``
    # describes the background; its box is meaningless when its area is 0.


class Backend(ABC):
    """Interface of an image-processing backend.

    Each method documents its contract; a backend may differ from another only
    within the tolerances the parity tests state (interpolation rounding, the
    exact Otsu bin), never in array shapes, dtypes or conventions.
    """

    name: str = "abstract"

    @abstractmethod
    def rgb_to_gray(self, rgb: np.ndarray) -> np.ndarray:
        """Convert ``(H, W, 3)`` uint8 sRGB to ``(H, W)`` uint8 luma (ITU-R BT.601 weights).

        The weights are 0.299, 0.587 and 0.114 for R, G and B, rounded to the
        nearest grey level.
        """

    @abstractmethod
    def resize(
        self, image: np.ndarray, size: tuple[int, int], interpolation: Interpolation = "area"
    ) -> np.ndarray:
        """Resize ``image`` to ``size = (width, height)``, keeping its dtype and channels.

        The sampling grids are OpenCV's. ``"nearest"`` takes input pixel
        ``floor(x_out * in_width / out_width)`` (likewise for rows).
        ``"linear"`` and ``"cubic"`` (Keys' kernel, ``a = -0.75``) align pixel
        centres, ``x_in = (x_out + 0.5) * scale - 0.5``, and replicate the edge
        pixels. ``"area"`` averages the exact input area under each output pixel
        when both sides shrink, and otherwise acts like ``"linear"`` but blends
        two input pixels only across their boundary. Integer results are
        rounded and saturated. May return ``image`` itself when the size does
        not change.
        """

    @abstractmethod
    def gaussian_blur(self, image: np.ndarray, sigma: float) -> np.ndarray:
        """Blur with a Gaussian of standard deviation ``sigma`` pixels; borders are reflected.

        The kernel has ``round(6 * sigma + 1) | 1`` taps for uint8 images and
        ``round(8 * sigma + 1) | 1`` for float ones. The reflection does not
        repeat the edge pixel (``dcb|abcd|cba``). Channels are blurred
        independently.
        """

    @abstractmethod
    def dilate(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Apply a grey-level maximum filter over a ``size = (width, height)`` rectangle.

        The rectangle is centred on each pixel (for even sizes the extra row and
        column lie before it). Pixels outside the image are ignored.
        """

    @abstractmethod
    def erode(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Apply a grey-level minimum filter over a ``size = (width, height)`` rectangle.

        Same window and border rule as :meth:`dilate`: pixels outside the image
        are ignored, on every channel.
        """

    @abstractmethod
    def connected_components(self, mask: np.ndarray) -> Components:
        """Label the 8-connected components of the set (nonzero) pixels of a 2-D ``mask``."""

    @abstractmethod
    def distance_transform(self, mask: np.ndarray) -> np.ndarray:
        """Return the exact Euclidean distance of each set pixel to the nearest unset one.

        ``(H, W)`` float32, in pixels; 0 on unset pixels. Pixels outside the
        image do not count as unset. When no pixel is unset the distances are
        undefined: ``inf`` or a very large value (OpenCV returns about 1.8e19).
        """

    @abstractmethod
    def otsu_threshold(self, gray: np.ndarray) -> int:
        """Return Otsu's threshold of a uint8 image: pixels ``> t`` form the bright class.

        Reference: N. Otsu, "A threshold selection method from gray-level
        histograms", IEEE Trans. SMC 9(1), 1979.
        """

    @abstractmethod
    def rotate(
        self,
        image: np.ndarray,
        angle: float,
        center: tuple[float, float],
        size: tuple[int, int],
        interpolation: Interpolation = "linear",
        border_value: float = 0.0,
    ) -> np.ndarray:
        """Rotate ``image`` by ``angle`` degrees counter-clockwise about ``center = (x, y)``.

        The output has ``size = (width, height)`` and its centre receives ``center``.
        Pixel centres sit at integer coordinates (see :func:`rotation_matrix`).
        Pixels that come from outside the input take ``border_value`` on every
        channel, and samples that straddle the input's edge blend the edge
        pixels with it. ``"area"`` means ``"linear"`` here.
        """

    # Derived operations, shared by every backend unless one has a faster path.

    def opening(self, mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Erode then dilate with a ``(width, height)`` rectangle: keeps shapes the rectangle fits in."""
        return self.dilate(self.erode(mask, size), size)

    def closing(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Dilate then erode with a ``(width, height)`` rectangle: fills gaps smaller than it."""
        return self.erode(self.dilate(image, size), size)


def rotation_matrix(angle: float, center: tuple[float, float], size: tuple[int, int]) -> np.ndarray:
    """Return the 2x3 affine matrix mapping input (x, y) to output (x, y) for :meth:`Backend.rotate`.

    The rotation is counter-clockwise by ``angle`` degrees as seen on screen
    (y pointing down), about ``center``, which lands on the centre of an output
    of ``size = (width, height)``.
    """
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    cx, cy = center
    out_cx, out_cy = (size[0] - 1) / 2.0, (size[1] - 1) / 2.0
    # With y down, a counter-clockwise turn on screen is x' = cos*x + sin*y, y' = -sin*x + cos*y.
    matrix = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]])
    matrix[0, 2] = out_cx - (cos * cx + sin * cy)
    matrix[1, 2] = out_cy - (-sin * cx + cos * cy)
    return matrix
