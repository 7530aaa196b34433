"""Input layer: check an upload from its bytes and header, then decode it to upright sRGB pixels.

This package is the only code that turns untrusted upload bytes into pixels.
It accepts PNG, JPEG (progressive, CMYK and MPO camera files included) and
HEIF/HEIC, identified from the content. Every rejection is a typed
:class:`engine.errors.InputError`, decided in this order: empty file, file
too large, unsupported format, unreadable header, too many pixels, side too
small, animated PNG; a truncated or damaged image is found while decoding.

Decoding applies the orientation exactly once (EXIF 1-8 for JPEG and for a
PNG ``eXIf`` chunk, container transforms for HEIF), converts ICC-tagged
pixels to sRGB, scales 16-bit samples to 8 bits and composites transparency
over white paper. Only arrays leave this package, so no metadata survives.

Examples
--------
>>> from engine.decode import open_upload
>>> upload = open_upload(data)                      # doctest: +SKIP
>>> preview = upload.decode(max_side=1200, gray=True)  # doctest: +SKIP
>>> crop = upload.decode_region((100, 50, 400, 200))   # doctest: +SKIP
"""

from engine.decode._sniff import ACCEPTED_FORMATS, UnrecognizedFile, sniff_format
from engine.decode._upload import (
    DecodedImage,
    Limits,
    Upload,
    load_image,
    open_upload,
    read_upload_file,
)

__all__ = [
    "ACCEPTED_FORMATS",
    "DecodedImage",
    "Limits",
    "UnrecognizedFile",
    "Upload",
    "load_image",
    "open_upload",
    "read_upload_file",
    "sniff_format",
]
