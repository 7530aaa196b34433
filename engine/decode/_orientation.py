"""EXIF orientation: read the tag once from the header, turn the raster upright once."""

from __future__ import annotations

import logging
import struct

from PIL import Image

__all__ = ["TRANSPOSE_FOR_ORIENTATION", "exif_orientation", "upright_size"]

logger = logging.getLogger(__name__)

_ORIENTATION_TAG = 0x0112

# EXIF orientation -> the Pillow transpose that turns the stored raster into the displayed one.
# 1 is upright; 2-4 mirror or turn by 180 degrees; 5-8 swap width and height.
TRANSPOSE_FOR_ORIENTATION: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def exif_orientation(exif_block: bytes | None) -> int:
    """Return the orientation (1-8) stored in an EXIF block, or 1 when there is none.

    Parameters
    ----------
    exif_block : bytes or None
        The EXIF payload as Pillow stores it in ``info["exif"]`` (JPEG APP1
        segment or PNG ``eXIf`` chunk), with or without the ``Exif\\0\\0`` prefix.

    Returns
    -------
    int
        The orientation tag of IFD0. A missing, damaged or out-of-range tag
        gives 1, as browsers show such files unrotated.

    Notes
    -----
    Only the EXIF block is read. Pillow's ``Image.getexif`` also takes an
    orientation from ImageMagick's ``Raw profile type exif`` PNG text chunk,
    which Chromium and Firefox do not apply (Safari does), so the image would
    turn away from what most users saw in the upload preview. Pillow also
    reads XMP orientation, ignored here because cameras and phones write
    orientation in EXIF.
    """
    if not exif_block:
        return 1
    exif = Image.Exif()
    try:
        exif.load(exif_block)
        value = exif.get(_ORIENTATION_TAG, 1)
    except (SyntaxError, ValueError, TypeError, KeyError, IndexError, OSError, struct.error) as error:
        logger.debug("Unreadable EXIF block (%s); orientation taken as 1", error)
        return 1
    if not isinstance(value, int) or not 1 <= value <= 8:
        logger.debug("EXIF orientation %r out of range 1-8; taken as 1", value)
        return 1
    return value


def upright_size(stored_size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Return the displayed (width, height) of a raster stored as ``stored_size``."""
    width, height = stored_size
    if orientation >= 5:
        return height, width
    return width, height
