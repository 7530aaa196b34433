"""Upload checks and decoding: the only code that turns untrusted bytes into pixels."""

from __future__ import annotations

import io
import logging
import math
import os
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simplejpeg
from PIL import Image, ImageFile, JpegImagePlugin, PngImagePlugin

from engine.decode._colour import srgb_transform, to_display
from engine.decode._heif import heif_image_class
from engine.decode._orientation import TRANSPOSE_FOR_ORIENTATION, exif_orientation, upright_size
from engine.decode._sniff import ACCEPTED_FORMATS, UnrecognizedFile, sniff_format
from engine.errors import (
    AnimatedNotSupported,
    CorruptImage,
    EmptyFile,
    FileTooLarge,
    ImageTooLarge,
    ImageTooSmall,
    InvalidParameter,
    UnsupportedFormat,
)

__all__ = ["DecodedImage", "Limits", "Upload", "load_image", "open_upload", "read_upload_file"]

logger = logging.getLogger(__name__)

# Exceptions Pillow and pillow-heif raise on damaged or truncated data. Image.open
# itself treats the first four as "not this format".
_DECODER_ERRORS = (
    SyntaxError,
    IndexError,
    TypeError,
    struct.error,
    OSError,
    ValueError,
    EOFError,
    KeyError,
    RuntimeError,
    zlib.error,
)

# JPEG DCT scaling factors that libjpeg applies while decoding (Pillow's draft).
_JPEG_REDUCTIONS = (8, 4, 2)

_SNIFF_BYTES = 256


@dataclass(frozen=True)
class Limits:
    """Size limits that an upload must meet before any pixel is decoded.

    Attributes
    ----------
    max_file_bytes : int
        Largest accepted upload, in bytes (5 MiB by default).
    max_pixels : int
        Largest accepted width × height at full resolution, in pixels. The
        portal's 100 MP admits 50 MP phone sensors. A full RGB decode at that
        size needs about 0.7 GB: Pillow keeps 4 bytes a pixel, the array 3.
    min_side : int
        Smallest accepted width or height, in pixels; a signature needs at
        least this much to be legible.
    """

    max_file_bytes: int = 5 * 1024 * 1024
    max_pixels: int = 100_000_000
    min_side: int = 32

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "max_pixels", "min_side"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidParameter(value, name=name, reason="must be a positive integer",
                                       reason_fr="un entier positif est attendu")


@dataclass(eq=False)
class DecodedImage:
    """Pixels of an upload, upright, in sRGB, composited over white, with no metadata.

    Attributes
    ----------
    pixels : numpy.ndarray
        ``(H, W, 3)`` uint8 sRGB, or ``(H, W)`` uint8 luminance when grey was
        requested. Rows run top to bottom and columns left to right as the
        image is displayed. The array is read-only because the upload may
        share it with later calls; copy it before modifying it.
    format : str
        ``"JPEG"`` (MPO camera files included), ``"PNG"`` or ``"HEIF"``.
    orientation : int
        EXIF orientation (1-8) that was applied; 1 when the file had none and
        always 1 for HEIF, whose decoder applies the container transforms.
    full_size : tuple of int
        Upright ``(width, height)`` at full resolution, in pixels.
    scale : float
        ``pixels`` width divided by the full-resolution width: 1.0, or about
        1/2, 1/4 or 1/8 after a reduced JPEG decode.
    had_alpha : bool
        True when the file had an alpha band or tRNS transparency, which was
        composited over white.
    """

    pixels: np.ndarray
    format: str
    orientation: int
    full_size: tuple[int, int]
    scale: float
    had_alpha: bool


def _open_header(data: bytes, format_name: str) -> ImageFile.ImageFile:
    """Parse the header of ``data`` with the plugin for ``format_name``; no pixel is decoded.

    The plugin classes are called directly instead of ``Image.open``, so that
    Pillow's process-wide ``MAX_IMAGE_PIXELS`` check (and its warning) never
    runs: the engine applies its own ``Limits.max_pixels`` right after this.
    JPEG files with an MPO index are opened as plain JPEG, whose decoder stops
    at the end of the first (primary) image.
    """
    stream = io.BytesIO(data)
    try:
        if format_name == "PNG":
            return PngImagePlugin.PngImageFile(stream)
        if format_name == "JPEG":
            return JpegImagePlugin.JpegImageFile(stream)
        return heif_image_class()(stream)
    except _DECODER_ERRORS as error:
        logger.debug("%s header rejected: %s", format_name, error)
        raise CorruptImage(format_name) from error


# EXIF orientation -> the NumPy view that turns the stored raster upright, the
# same turn as TRANSPOSE_FOR_ORIENTATION applies to a Pillow image.
_UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


def _luma_is_luminance(format_name: str, header: ImageFile.ImageFile) -> bool:
    """Tell whether a JPEG's luma channel is the BT.601 luminance of its sRGB pixels.

    It is for a YCbCr JPEG with no ICC profile or an sRGB one. With another
    profile the luminance must be computed after conversion to sRGB.
    """
    if format_name != "JPEG" or header.mode != "RGB":
        return False
    icc_profile = header.info.get("icc_profile")
    return not icc_profile or srgb_transform(bytes(icc_profile), "RGB") is None


def open_upload(data: bytes | bytearray | memoryview, limits: Limits = Limits()) -> Upload:
    """Check an upload from its bytes and header, without decoding pixels.

    Parameters
    ----------
    data : bytes, bytearray or memoryview
        The uploaded file, exactly as received.
    limits : Limits, optional
        Size limits to enforce.

    Returns
    -------
    Upload
        An upload whose pixels are decoded on demand.

    Raises
    ------
    EmptyFile
        ``data`` is empty.
    FileTooLarge
        ``data`` is longer than ``limits.max_file_bytes``.
    UnsupportedFormat
        The content is not PNG, JPEG or HEIF (the file name is never used).
        ``UnrecognizedFile``, a subclass, when no image format is recognised.
    CorruptImage
        The header of an accepted format cannot be parsed.
    ImageTooLarge
        The declared width × height exceeds ``limits.max_pixels``.
    ImageTooSmall
        The declared width or height is below ``limits.min_side``.
    AnimatedNotSupported
        The PNG is an animated PNG with more than one frame.
    """
    nbytes = memoryview(data).nbytes
    if nbytes == 0:
        raise EmptyFile(0)
    if nbytes > limits.max_file_bytes:
        raise FileTooLarge(nbytes, limit=limits.max_file_bytes)
    content = data if isinstance(data, bytes) else bytes(data)

    format_name = sniff_format(content[:_SNIFF_BYTES])
    if format_name is None:
        raise UnrecognizedFile("unknown")
    if format_name not in ACCEPTED_FORMATS:
        raise UnsupportedFormat(format_name)

    header = _open_header(content, format_name)
    if format_name == "HEIF":
        orientation = 1
    else:
        # PNG: only an eXIf chunk placed before the image data is parsed at this point, so
        # one after the data is ignored and the upright size never changes after decoding.
        orientation = exif_orientation(header.info.get("exif"))
    full_size = upright_size(header.size, orientation)
    width, height = full_size

    if width * height > limits.max_pixels:
        raise ImageTooLarge(full_size, limit=limits.max_pixels)
    if min(width, height) < limits.min_side:
        raise ImageTooSmall(full_size, limit=limits.min_side)
    frame_count = getattr(header, "n_frames", 1)
    if format_name == "PNG" and frame_count > 1:
        raise AnimatedNotSupported(frame_count)

    logger.debug(
        "Upload accepted: %s, %d bytes, stored %dx%d, orientation %d",
        format_name,
        nbytes,
        *header.size,
        orientation,
    )
    return Upload(content, format_name, header, orientation)


def load_image(
    data: bytes | bytearray | memoryview,
    limits: Limits = Limits(),
    *,
    max_side: int | None = None,
    gray: bool = False,
) -> DecodedImage:
    """Check and decode an upload in one call: ``open_upload(data, limits).decode(...)``."""
    return open_upload(data, limits).decode(max_side=max_side, gray=gray)


def read_upload_file(path: str | os.PathLike[str], limits: Limits = Limits()) -> bytes:
    """Read an upload from disk, reading no more than ``limits.max_file_bytes + 1`` bytes.

    Raises
    ------
    FileTooLarge
        The file is longer than ``limits.max_file_bytes``; a regular file is
        rejected from its size before any byte is read.
    EmptyFile
        The file is empty.
    OSError
        The file cannot be opened or read.
    """
    limit = limits.max_file_bytes
    with Path(path).open("rb") as file:
        status = os.fstat(file.fileno())
        is_regular = stat.S_ISREG(status.st_mode)
        if is_regular and status.st_size > limit:
            raise FileTooLarge(status.st_size, limit=limit)
        data = file.read(limit + 1)

    if not data:
        raise EmptyFile(0)
    if len(data) > limit:
        # A regular file grew while being read, or a pipe: its full size is unknown.
        raise FileTooLarge(max(len(data), status.st_size if is_regular else 0), limit=limit)
    return data


class Upload:
    """Bytes that passed format sniffing and the header checks; pixels are decoded lazily.

    Attributes
    ----------
    format : str
        ``"JPEG"``, ``"PNG"`` or ``"HEIF"``, from the content.
    stored_size : tuple of int
        ``(width, height)`` of the raster as stored in the file, in pixels.
    full_size : tuple of int
        Upright ``(width, height)`` after the EXIF orientation, in pixels.
    orientation : int
        EXIF orientation (1-8) that decoding applies; 1 for HEIF.
    nbytes : int
        Size of the upload, in bytes.

    Notes
    -----
    Full-resolution decodes are cached, so ``decode()`` and ``decode_region()``
    share one decode per colour kind. An ``Upload`` is meant for one request
    and is not safe to share between threads.
    """

    def __init__(
        self, data: bytes, format_name: str, header: ImageFile.ImageFile, orientation: int
    ) -> None:
        self.format = format_name
        self.stored_size: tuple[int, int] = header.size
        self.full_size = upright_size(header.size, orientation)
        self.orientation = orientation
        self.nbytes = len(data)
        self._data = data
        self._unused_header: ImageFile.ImageFile | None = header
        self._luma_is_luminance = _luma_is_luminance(format_name, header)
        self._full_pixels: dict[bool, np.ndarray] = {}
        self._had_alpha = False

    def __repr__(self) -> str:
        width, height = self.full_size
        return (
            f"<Upload {self.format} {width}x{height} orientation={self.orientation} "
            f"{self.nbytes} bytes>"
        )

    def decode(self, *, max_side: int | None = None, gray: bool = False) -> DecodedImage:
        """Decode the upload to upright sRGB or grey pixels.

        Parameters
        ----------
        max_side : int, optional
            The long side, in pixels, that the caller needs at least. A JPEG is
            then decoded at the strongest DCT reduction (1/2, 1/4 or 1/8) that
            keeps its long side ``>= max_side``, and is not resized further.
            Other formats are always decoded at full resolution.
        gray : bool, optional
            Return ITU-R BT.601 luminance instead of RGB. For a JPEG without a
            non-sRGB ICC profile, libjpeg then decodes the luma channel only.

        Returns
        -------
        DecodedImage
            Read-only pixels with their format, orientation, full size and scale.

        Raises
        ------
        CorruptImage
            The data is truncated or damaged.
        """
        if max_side is not None and max_side < 1:
            raise InvalidParameter(max_side, name="max_side", reason="must be a positive integer",
                                       reason_fr="un entier positif est attendu")

        reduction = self._jpeg_reduction(max_side)
        if reduction == 1:
            pixels = self._full_resolution(gray)
        else:
            pixels = self._decode_pixels(gray, reduction)

        return DecodedImage(
            pixels=pixels,
            format=self.format,
            orientation=self.orientation,
            full_size=self.full_size,
            scale=pixels.shape[1] / self.full_size[0],
            had_alpha=self._had_alpha,
        )

    def decode_region(
        self, box: tuple[int, int, int, int], *, gray: bool = False
    ) -> np.ndarray:
        """Return full-resolution pixels of an upright region.

        Parameters
        ----------
        box : tuple of int
            ``(x, y, width, height)`` in upright full-resolution pixels, x to
            the right and y down from the top-left corner. The box is clamped to
            the image, so the result may be smaller than requested, or empty.
        gray : bool, optional
            Return luminance instead of RGB.

        Returns
        -------
        numpy.ndarray
            Read-only ``(h, w, 3)`` or ``(h, w)`` uint8 view into the cached
            full-resolution decode.

        Raises
        ------
        InvalidParameter
            ``width`` or ``height`` is negative.
        CorruptImage
            The data is truncated or damaged.
        """
        x, y, width, height = (int(value) for value in box)
        if width < 0 or height < 0:
            raise InvalidParameter(box, name="box", reason="width and height must be >= 0",
                                   reason_fr="largeur et hauteur doivent être positives ou nulles")

        pixels = self._full_resolution(gray)
        rows, columns = pixels.shape[:2]
        left, right = min(max(x, 0), columns), min(max(x + width, 0), columns)
        top, bottom = min(max(y, 0), rows), min(max(y + height, 0), rows)
        return pixels[top:bottom, left:right]

    def _jpeg_reduction(self, max_side: int | None) -> int:
        """Return the strongest DCT reduction factor that keeps the long side ``>= max_side``."""
        if self.format != "JPEG" or max_side is None:
            return 1
        long_side = max(self.stored_size)
        for reduction in _JPEG_REDUCTIONS:
            if math.ceil(long_side / reduction) >= max_side:
                return reduction
        return 1

    def _full_resolution(self, gray: bool) -> np.ndarray:
        cached = self._full_pixels.get(gray)
        if cached is not None:
            return cached

        colour = self._full_pixels.get(False)
        if gray and colour is not None and not self._luma_is_luminance:
            # Same BT.601 conversion as a direct grey decode, without decoding again.
            pixels = np.asarray(Image.fromarray(colour).convert("L"))
        else:
            pixels = self._decode_pixels(gray, 1)
        self._full_pixels[gray] = pixels
        return pixels

    def _decode_jpeg_fast(self, gray: bool, reduction: int) -> np.ndarray:
        """Decode an sRGB YCbCr JPEG with libjpeg-turbo through simplejpeg.

        It gives the pixels Pillow gives in about a third of the time on a
        12 MP photo. Only JPEGs whose pixels need no colour conversion take
        this path, so the ICC, CMYK and greyscale cases stay with Pillow.
        """
        width, height = self.stored_size
        size = {}
        if reduction > 1:
            # simplejpeg picks the largest DCT reduction that keeps at least this size.
            size = {"min_width": max(1, width // reduction), "min_height": max(1, height // reduction)}
        try:
            pixels = simplejpeg.decode_jpeg(
                bytes(self._data), colorspace="GRAY" if gray else "RGB", strict=True, **size
            )
        except ValueError as error:
            logger.debug("JPEG pixel data rejected: %s", error)
            raise CorruptImage(self.format) from error
        if gray:
            pixels = pixels[..., 0]
        pixels = np.ascontiguousarray(_UPRIGHT[self.orientation](pixels))
        pixels.setflags(write=False)
        self._had_alpha = False
        return pixels

    def _header(self) -> ImageFile.ImageFile:
        """Return an opened, not yet loaded image: the one from the checks, then fresh ones."""
        header = self._unused_header
        if header is not None:
            return header
        return _open_header(self._data, self.format)

    def _decode_pixels(self, gray: bool, reduction: int) -> np.ndarray:
        if self._luma_is_luminance:
            return self._decode_jpeg_fast(gray, reduction)

        image = self._header()
        self._unused_header = None

        if self.format == "JPEG":
            luma_only = gray and self._luma_is_luminance
            if luma_only or reduction > 1:
                width, height = image.size
                # Pillow picks the largest reduction that keeps the image at least this size.
                size = (max(1, width // reduction), max(1, height // reduction))
                image.draft("L" if luma_only else None, size if reduction > 1 else None)
                logger.debug("JPEG draft: luma only %s, decoded size %dx%d", luma_only, *image.size)

        try:
            image.load()
        except _DECODER_ERRORS as error:
            logger.debug("%s pixel data rejected: %s", self.format, error)
            raise CorruptImage(self.format) from error

        try:
            display, self._had_alpha = to_display(image, gray=gray)
            transpose = TRANSPOSE_FOR_ORIENTATION.get(self.orientation)
            if transpose is not None:
                display = display.transpose(transpose)
            # np.asarray copies Pillow's buffer once into a new read-only array.
            return np.asarray(display)
        finally:
            image.close()
