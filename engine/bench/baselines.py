"""What the engine's speed is compared with: the decode floor and a plain OpenCV recipe.

The decode floor is the fastest way to get the file's pixels at full
resolution in grey, with no other work. The candidates are:

- JPEG: ``simplejpeg`` decoding the luma channel only, or
  ``cv2.imdecode(..., IMREAD_GRAYSCALE)``;
- PNG: ``cv2.imdecode`` in grey, or Pillow;
- HEIF: pillow-heif, which decodes colour because libheif has no grey shortcut.
 No pipeline can be faster than reading its
input, so ``engine time / floor`` says how much the engine adds.

The OpenCV recipe is what small signature-extraction scripts do: adaptive
threshold on the full-resolution grey image, external contours, one
minimum-area rectangle around the large ones, rotate, crop and encode a PNG.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np

__all__ = ["decode_floor_candidates", "opencv_recipe"]

# Contours smaller than this fraction of the image area are noise to the recipe.
_RECIPE_MIN_AREA = 2e-5
# Adaptive threshold window (pixels) and offset (grey levels), typical script values.
_RECIPE_BLOCK = 31
_RECIPE_OFFSET = 15


def decode_floor_candidates(data: bytes, format_name: str) -> dict[str, Callable[[], np.ndarray]]:
    """Return the available full-resolution grey decoders of ``data``, by name.

    Each callable decodes ``data`` from scratch and returns the pixels. A
    decoder whose library is not installed is left out.
    """
    candidates: dict[str, Callable[[], np.ndarray]] = {}
    buffer = np.frombuffer(data, dtype=np.uint8)
    try:
        import cv2
    except ImportError:
        cv2 = None

    if format_name == "JPEG":
        try:
            import simplejpeg
        except ImportError:
            simplejpeg = None
        if simplejpeg is not None:
            candidates["simplejpeg gray"] = lambda: simplejpeg.decode_jpeg(data, colorspace="GRAY")
    if cv2 is not None and format_name in ("JPEG", "PNG"):
        candidates["cv2 gray"] = lambda: cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE)
    if format_name == "PNG":
        from PIL import Image

        candidates["pillow"] = lambda: np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    if format_name == "HEIF":
        import pillow_heif

        candidates["pillow-heif rgb"] = lambda: np.asarray(pillow_heif.open_heif(data, convert_hdr_to_8bit=True))
    return candidates


def opencv_recipe(data: bytes) -> tuple[bytes, tuple[int, int, int, int]]:
    """Extract a signature the way a plain OpenCV script does, from file bytes to PNG bytes.

    Returns
    -------
    png : bytes
        Black ink on white, cropped to the rotated rectangle around the ink.
    box : tuple of int
        ``(x, y, width, height)``: the axis-aligned box of the kept contours, in
        input pixels.

    Raises
    ------
    ValueError
        OpenCV cannot decode the bytes (it reads no HEIF) or finds no contour.
    """
    import cv2

    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("OpenCV cannot decode this file")
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    binary = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, _RECIPE_BLOCK, _RECIPE_OFFSET
    )
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    min_area = _RECIPE_MIN_AREA * gray.size
    kept = [contour for contour in contours if cv2.contourArea(contour) >= min_area]
    if not kept:
        raise ValueError("no contour large enough")
    points = np.concatenate(kept)
    x, y, width, height = cv2.boundingRect(points)

    (cx, cy), (rect_w, rect_h), angle = cv2.minAreaRect(points)
    # minAreaRect reports angles in [0, 90): bring the long side level.
    if rect_w < rect_h:
        angle -= 90.0
        rect_w, rect_h = rect_h, rect_w
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    level = cv2.warpAffine(binary, matrix, (binary.shape[1], binary.shape[0]), flags=cv2.INTER_LINEAR)
    crop = cv2.getRectSubPix(level, (max(1, int(rect_w)), max(1, int(rect_h))), (cx, cy))
    ok, png = cv2.imencode(".png", 255 - crop)
    if not ok:
        raise ValueError("PNG encoding failed")
    return png.tobytes(), (x, y, width, height)
