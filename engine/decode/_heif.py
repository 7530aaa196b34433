"""Lazy access to pillow-heif, the HEIF/HEIC reader."""

from __future__ import annotations

import logging
import threading

from PIL import ImageFile

__all__ = ["heif_image_class"]

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_image_class: type[ImageFile.ImageFile] | None = None


def heif_image_class() -> type[ImageFile.ImageFile]:
    """Return pillow-heif's Pillow image class, importing and registering it on first use.

    pillow-heif loads libheif and its codecs, so it is imported only when the
    first HEIF upload arrives. Its Pillow opener is registered once, with the
    library's default options, so that ``PIL.Image.open`` elsewhere in the
    process reads HEIF the same way.

    The returned class opens the container's primary image and applies the
    HEIF transforms (``irot``, ``imir``, ``clap``) while decoding. It also
    resets the EXIF orientation it reports to 1, so nothing rotates twice.
    """
    global _image_class
    if _image_class is None:
        with _lock:
            if _image_class is None:
                import pillow_heif

                pillow_heif.register_heif_opener()
                logger.debug("pillow-heif %s registered with Pillow", pillow_heif.__version__)
                _image_class = pillow_heif.HeifImageFile
    return _image_class
