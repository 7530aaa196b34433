"""Identification of an upload's format from its first bytes (magic numbers).

The file name and the client's MIME type are never consulted: phones and browsers
get them wrong, and a renamed file must be judged by what it contains.
"""

from __future__ import annotations

from engine.errors import UnsupportedFormat

__all__ = ["ACCEPTED_FORMATS", "UnrecognizedFile", "sniff_format"]

# Formats the engine decodes. Every other format name that sniff_format returns is rejected.
ACCEPTED_FORMATS = ("JPEG", "PNG", "HEIF")

# ISO base media (ftyp) brands of HEVC-coded HEIF stills and sequences.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
# Generic HEIF brands mark an image file without naming the codec inside.
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_VIDEO_BRANDS = {
    b"qt  ": "QuickTime",
    b"isom": "MP4",
    b"iso2": "MP4",
    b"mp41": "MP4",
    b"mp42": "MP4",
    b"M4V ": "MP4",
    b"3gp4": "3GP",
    b"3gp5": "3GP",
    b"crx ": "CR3",
    b"jxl ": "JPEG XL",
}

# DIB header sizes that a real BMP carries after its 14-byte file header.
_BMP_DIB_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


class UnrecognizedFile(UnsupportedFormat):
    """The upload is not an image format the engine can name (text, archive, random bytes...).

    It keeps the ``unsupported_format`` code, so the portal treats it like any
    rejected format, but its message does not pretend to know the format.
    """

    message_fr = (
        "Ce fichier n'est pas une image reconnue. Envoyez une image PNG, JPEG ou HEIC."
    )
    message_en = "This file is not a recognised image. Please send a PNG, JPEG or HEIC image."


def _iso_brands(head: bytes) -> tuple[bytes, list[bytes]]:
    """Return the major brand and the compatible brands of an ISO BMFF ``ftyp`` box."""
    box_size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    end = min(box_size, len(head)) if box_size >= 16 else 16
    compatible = [head[i : i + 4] for i in range(16, end - 3, 4)]
    return major, compatible


def _sniff_iso_media(head: bytes) -> str:
    major, compatible = _iso_brands(head)
    brands = {major, *compatible}

    if major in _HEIF_BRANDS:
        return "HEIF"
    if major in _AVIF_BRANDS:
        return "AVIF"
    if major in _GENERIC_HEIF_BRANDS:
        # A generic major brand: the compatible brands name the codec.
        if brands & _HEIF_BRANDS:
            return "HEIF"
        if brands & _AVIF_BRANDS:
            return "AVIF"
        return "HEIF"
    if major in _VIDEO_BRANDS:
        return _VIDEO_BRANDS[major]
    if brands & _HEIF_BRANDS:
        return "HEIF"
    if brands & _AVIF_BRANDS:
        return "AVIF"
    return "ISO media"


def sniff_format(head: bytes) -> str | None:
    """Name the format of a file from its first bytes.

    Parameters
    ----------
    head : bytes
        The start of the file; 64 bytes are enough for every format checked here.

    Returns
    -------
    str or None
        ``"JPEG"``, ``"PNG"`` or ``"HEIF"`` for an accepted format, MPO camera
        files being JPEG. The usual name of a recognised but rejected format,
        such as ``"GIF"``, ``"WebP"``, ``"AVIF"`` or ``"BMP"``. ``None`` when
        the bytes match no known image signature.

    Notes
    -----
    AVIF is a HEIF-family container but carries AV1 instead of HEVC. The
    portal's policy lists HEIF/HEIC only, so AVIF is named separately and
    rejected, even though Pillow 11.3+ can decode it.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _sniff_iso_media(head)
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES:
        return "BMP"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return "JPEG 2000"
    if head.startswith((b"\x00\x00\x00\x0cJXL \r\n\x87\n", b"\xff\x0a")):
        return "JPEG XL"
    if head.startswith(b"%PDF-"):
        return "PDF"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"qoif"):
        return "QOI"
    if head.startswith((b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")) and len(head) > 5 and head[4] > 0:
        return "ICO"
    if len(head) > 2 and head[0:1] == b"P" and head[1:2] in b"1234567" and head[2:3] in b" \t\r\n":
        return "PNM"
    if b"<svg" in head.lower():
        return "SVG"
    return None
