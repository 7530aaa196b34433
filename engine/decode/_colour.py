"""Conversion of a decoded Pillow image to 8-bit sRGB (or its luminance) over white paper.

The steps run in this order. Every band is brought to 8 bits and the alpha band
is split off. The colour bands are converted to sRGB with the embedded ICC
profile, then composited over white. Last, they are reduced to one grey band
when the caller requests it.
"""

from __future__ import annotations

import functools
import io
import logging

import numpy as np
from PIL import Image, ImageCms

__all__ = ["srgb_transform", "to_display"]

logger = logging.getLogger(__name__)

_SRGB_PROFILE = ImageCms.createProfile("sRGB")

# ICC colour space signature -> the Pillow mode whose pixels that profile describes.
_MODE_FOR_COLOUR_SPACE = {"RGB": "RGB", "GRAY": "L", "CMYK": "CMYK"}

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})


@functools.lru_cache(maxsize=16)
def srgb_transform(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """Return the transform from ``icc_profile`` to sRGB for pixels of ``mode``, or None.

    Parameters
    ----------
    icc_profile : bytes
        The embedded ICC profile, as Pillow stores it in ``info["icc_profile"]``.
    mode : {"RGB", "L", "CMYK"}
        The Pillow mode of the pixels the profile describes.

    Returns
    -------
    ImageCms.ImageCmsTransform or None
        A transform whose output mode is ``"RGB"``. None when no conversion is
        needed or possible: the profile is sRGB already, cannot be parsed, or
        describes another colour space than ``mode``. Browsers also display such
        images with the profile ignored.
    """
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        description = ImageCms.getProfileDescription(profile)
        colour_space = profile.profile.xcolor_space.strip()
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as error:
        logger.debug("Unreadable ICC profile ignored: %s", error)
        return None

    if _MODE_FOR_COLOUR_SPACE.get(colour_space) != mode:
        logger.debug("ICC profile for %s ignored on %s pixels", colour_space, mode)
        return None
    if mode == "RGB" and "sRGB" in description:
        return None

    try:
        transform = ImageCms.buildTransform(profile, _SRGB_PROFILE, mode, "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError) as error:
        logger.debug("ICC profile %r cannot be converted to sRGB: %s", description.strip(), error)
        return None
    logger.debug("Converting %s pixels from ICC profile %r to sRGB", mode, description.strip())
    return transform


def _sixteen_bit_to_eight(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Scale a 16-bit greyscale image to 8 bits by rounding ``value / 257``.

    Pillow's own ``convert("L")`` clips every value above 255 to white, which
    turns a 16-bit scan into a blank page.
    """
    values = np.asarray(image)
    if values.dtype.kind == "i":
        values = np.clip(values, 0, 65535)
    wide = values.astype(np.uint32)
    grey = ((wide + 128) // 257).astype(np.uint8)

    alpha = None
    transparent_value = image.info.get("transparency")
    if isinstance(transparent_value, int):
        # tRNS on a 16-bit greyscale PNG names one exact 16-bit value as fully transparent.
        alpha = Image.fromarray(np.where(wide == transparent_value, 0, 255).astype(np.uint8))
    return Image.fromarray(grey), alpha


def _split_alpha(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Return the colour bands (mode L, RGB or CMYK, 8 bits) and the alpha band or None."""
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        return _sixteen_bit_to_eight(image)

    has_transparency = image.info.get("transparency") is not None
    if mode in ("P", "PA"):
        image = image.convert("RGBA" if has_transparency or mode == "PA" else "RGB")
    elif mode in ("1", "L") and has_transparency:
        image = image.convert("LA")
    elif mode == "1":
        image = image.convert("L")
    elif mode == "RGB" and has_transparency:
        image = image.convert("RGBA")
    elif mode in ("La", "RGBa"):
        image = image.convert("LA" if mode == "La" else "RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        # YCbCr, LAB, HSV: not produced by the accepted decoders, but cheap to support.
        image = image.convert("RGB")

    if image.mode in ("LA", "RGBA"):
        alpha = image.getchannel("A")
        colour = image.convert(image.mode[:-1])
        return colour, alpha
    return image, None


def _apply_transform(colour: Image.Image, transform: ImageCms.ImageCmsTransform) -> Image.Image:
    try:
        if colour.mode == "RGB":
            ImageCms.applyTransform(colour, transform, inPlace=True)
            return colour
        return ImageCms.applyTransform(colour, transform)
    except ImageCms.PyCMSError as error:
        logger.debug("ICC conversion failed, profile ignored: %s", error)
        return colour


def _over_white(colour: Image.Image, alpha: Image.Image) -> Image.Image:
    """Composite ``colour`` over white paper: transparent areas become paper, not ink."""
    white = 255 if colour.mode == "L" else (255, 255, 255)
    paper = Image.new(colour.mode, colour.size, white)
    paper.paste(colour, (0, 0), alpha)
    return paper


def to_display(image: Image.Image, *, gray: bool) -> tuple[Image.Image, bool]:
    """Convert a loaded image to the pixels a browser would show on white paper.

    Parameters
    ----------
    image : PIL.Image.Image
        A loaded image in any mode the PNG, JPEG or HEIF decoders produce
        (``1``, ``L``, ``LA``, ``P``, ``RGB``, ``RGBA``, ``CMYK``, ``I;16``...).
    gray : bool
        Return one luminance band instead of three colour bands.

    Returns
    -------
    image : PIL.Image.Image
        Mode ``"L"`` when ``gray`` is true, else ``"RGB"``; 8 bits per band, sRGB.
        Luminance uses the ITU-R BT.601 weights of Pillow's ``convert("L")``.
    had_alpha : bool
        True when the input carried an alpha band or a tRNS transparency entry.

    Notes
    -----
    16-bit colour PNGs arrive here already reduced to 8 bits by Pillow, which
    keeps the high byte (truncation, at most 1 level below rounding).

    NOTE: only ICC profiles are honoured. PNG ``gAMA``/``cHRM`` chunks and
    HEIF ``nclx`` colour primaries other than BT.709 are ignored, so such rare
    files keep their stored values instead of the colours a browser shows.
    """
    icc_profile = image.info.get("icc_profile")
    colour, alpha = _split_alpha(image)

    if icc_profile:
        transform = srgb_transform(bytes(icc_profile), colour.mode)
        if transform is not None:
            colour = _apply_transform(colour, transform)
    if colour.mode == "CMYK":
        # No usable CMYK profile: Pillow's formula (R = 255 - C - K ...) gives a plausible preview.
        colour = colour.convert("RGB")

    if alpha is not None:
        colour = _over_white(colour, alpha)

    target = "L" if gray else "RGB"
    if colour.mode != target:
        colour = colour.convert(target)
    return colour, alpha is not None
