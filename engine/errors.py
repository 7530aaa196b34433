"""Typed errors of the signature engine.

Every error that a user can cause has a stable ``code`` (a snake_case string that
the portal and scripts match on), the ``value`` that failed the rule, and a message
in French (the default) or English that tells the user what to do next.

Developers read ``str(error)``, which is the English message prefixed by the code.
Users read ``error.message(lang)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "SUPPORTED_LANGUAGES",
    "AnimatedNotSupported",
    "BackendNotAvailable",
    "CorruptImage",
    "EmptyFile",
    "FileNotReadable",
    "FileTooLarge",
    "ImageTooLarge",
    "ImageTooSmall",
    "InputError",
    "InvalidAdjustment",
    "InvalidParameter",
    "NoInkFound",
    "NotASignature",
    "ProcessingError",
    "SignatureEngineError",
    "UnknownBackend",
    "UnsupportedFormat",
    "normalize_language",
]

SUPPORTED_LANGUAGES = ("fr", "en")


def normalize_language(lang: str | None) -> str:
    """Map a language tag such as ``"en-GB"`` or an Accept-Language value to ``"fr"`` or ``"en"``.

    French is the default: anything that does not start with a supported language
    falls back to it.
    """
    if not lang:
        return "fr"
    for part in lang.split(","):
        tag = part.split(";")[0].strip().lower()
        primary = tag.split("-")[0]
        if primary in SUPPORTED_LANGUAGES:
            return primary
    return "fr"


class SignatureEngineError(Exception):
    """Base class of every error the engine raises on purpose.

    Parameters
    ----------
    value : object, optional
        The value that failed the rule (a size in bytes, a format name, ...).
        It is echoed in the message and in ``to_dict()``.
    **context
        Extra named values used by the message templates, such as ``limit``.
    """

    code: ClassVar[str] = "engine_error"
    http_status: ClassVar[int] = 400
    message_fr: ClassVar[str] = "Le traitement de l'image a échoué."
    message_en: ClassVar[str] = "Processing the image failed."

    def __init__(self, value: Any = None, **context: Any) -> None:
        self.value = value
        self.context = context
        super().__init__(f"[{self.code}] {self.message('en')}")

    def message(self, lang: str | None = "fr") -> str:
        """Return the user-facing message in ``lang`` (French unless English is requested)."""
        template = self.message_en if normalize_language(lang) == "en" else self.message_fr
        try:
            return template.format(value=self.value, **self.context)
        except (KeyError, IndexError, ValueError):
            # A missing context value must never hide the error itself.
            return template

    def to_dict(self, lang: str | None = "fr") -> dict[str, Any]:
        """Return the JSON form ``{"code", "message"}`` that scripts and the API emit."""
        return {"code": self.code, "message": self.message(lang)}


class InputError(SignatureEngineError):
    """The upload cannot be turned into an image: wrong format, size or content."""


class EmptyFile(InputError):
    code = "empty_file"
    message_fr = "Le fichier envoyé est vide. Choisissez de nouveau la photo de votre signature."
    message_en = "The uploaded file is empty. Please choose the photo of your signature again."


class FileTooLarge(InputError):
    code = "file_too_large"
    http_status = 413
    message_fr = (
        "Le fichier pèse {size_fr}, au-delà de la limite de {limit_fr}. "
        "Envoyez une photo plus légère, par exemple au format JPEG."
    )
    message_en = (
        "The file is {size_en}, over the {limit_en} limit. "
        "Please send a smaller photo, for example as a JPEG."
    )

    def __init__(self, value: int, *, limit: int, at_least: bool = False) -> None:
        size_en = _format_mib(value, "en")
        size_fr = _format_mib(value, "fr")
        if at_least:
            # A streamed upload is cut off at the limit: its full size is unknown.
            size_en, size_fr = f"more than {size_en}", f"plus de {size_fr}"
        super().__init__(
            value, limit=limit, size_en=size_en, size_fr=size_fr,
            limit_en=_format_mib(limit, "en"), limit_fr=_format_mib(limit, "fr"),
        )


def _format_mib(size: int, lang: str) -> str:
    """Format a byte count in binary megabytes: "5.5 MiB", or "5,5 Mio" in French.

    A size within 0.005 MiB of a whole number, but not equal to it, is given in
    bytes, because "5 MiB" would read as the limit itself.
    """
    value = size / 2**20
    rounded = f"{value:.2f}"
    if size % 2**20 and rounded.endswith(".00"):
        grouped = f"{size:,}"
        return grouped.replace(",", "\u202f") + " octets" if lang == "fr" else grouped + " bytes"
    text = rounded.rstrip("0").rstrip(".")
    return text.replace(".", ",") + " Mio" if lang == "fr" else text + " MiB"


class ImageTooLarge(InputError):
    code = "image_too_large"
    http_status = 413
    message_fr = (
        "L'image mesure {width} × {height} pixels, au-delà de la limite de {limit_mp:.0f} mégapixels. "
        "Réduisez sa définition ou reprenez la photo avec un réglage standard."
    )
    message_en = (
        "The image is {width} × {height} pixels, over the {limit_mp:.0f} megapixel limit. "
        "Please reduce its resolution or take the photo again with a standard setting."
    )

    def __init__(self, value: tuple[int, int], *, limit: int) -> None:
        width, height = value
        super().__init__(value, limit=limit, width=width, height=height, limit_mp=limit / 1e6)


class ImageTooSmall(InputError):
    code = "image_too_small"
    message_fr = (
        "L'image mesure {width} × {height} pixels : elle est trop petite pour une signature lisible "
        "(au moins {limit} pixels de côté). Envoyez une photo plus grande."
    )
    message_en = (
        "The image is {width} × {height} pixels, too small for a legible signature "
        "(at least {limit} pixels a side). Please send a larger photo."
    )

    def __init__(self, value: tuple[int, int], *, limit: int) -> None:
        width, height = value
        super().__init__(value, limit=limit, width=width, height=height)


class UnsupportedFormat(InputError):
    code = "unsupported_format"
    http_status = 415
    message_fr = (
        "Le format de ce fichier ({value}) n'est pas accepté. "
        "Envoyez une image PNG, JPEG ou HEIC."
    )
    message_en = (
        "This file's format ({value}) is not accepted. Please send a PNG, JPEG or HEIC image."
    )


class AnimatedNotSupported(InputError):
    code = "animated_not_supported"
    message_fr = (
        "Cette image est animée ({value} images). Envoyez une image fixe de votre signature."
    )
    message_en = (
        "This image is animated ({value} frames). Please send a still image of your signature."
    )


class CorruptImage(InputError):
    code = "corrupt_image"
    message_fr = (
        "Le fichier est endommagé ou incomplet et ne peut pas être lu. "
        "Envoyez-le de nouveau ou reprenez la photo."
    )
    message_en = (
        "The file is damaged or incomplete and cannot be read. "
        "Please upload it again or take the photo again."
    )


class ProcessingError(SignatureEngineError):
    """The image was read, but no usable signature could be made from it."""

    http_status = 422


class NoInkFound(ProcessingError):
    code = "no_ink_found"
    message_fr = (
        "Aucune écriture n'a été trouvée sur l'image. Vérifiez que la signature est bien visible, "
        "à l'encre foncée, puis reprenez la photo."
    )
    message_en = (
        "No ink was found in the image. Check that the signature is clearly visible and written "
        "in dark ink, then take the photo again."
    )


class NotASignature(ProcessingError):
    code = "not_a_signature"
    message_fr = (
        "L'image ne semble pas contenir de signature manuscrite ({reason_fr}). "
        "Photographiez votre signature sur une feuille blanche."
    )
    message_en = (
        "The image does not seem to contain a handwritten signature ({reason}). "
        "Please photograph your signature on a white sheet."
    )

    def __init__(self, value: str, *, reason: str, reason_fr: str) -> None:
        super().__init__(value, reason=reason, reason_fr=reason_fr)


class InvalidAdjustment(SignatureEngineError):
    """The manual crop or rotation sent by the edit step is out of range."""

    code = "invalid_adjustment"
    message_fr = "Le recadrage ou la rotation demandés ne sont pas valides : {reason}."
    message_en = "The requested crop or rotation is invalid: {reason}."

    def __init__(self, value: Any, *, reason_fr: str, reason_en: str) -> None:
        super().__init__(value, reason=reason_en, reason_fr=reason_fr)

    def message(self, lang: str | None = "fr") -> str:
        if normalize_language(lang) == "en":
            return self.message_en.format(reason=self.context["reason"])
        return self.message_fr.format(reason=self.context["reason_fr"])


class InvalidParameter(SignatureEngineError):
    """A parameter set or an option holds a value outside its documented range.

    ``reason`` is the rule in English and ``reason_fr`` the same rule in French.
    """

    code = "invalid_parameter"
    message_fr = "Paramètre invalide {name} = {value!r} : {reason_fr}."
    message_en = "Invalid parameter {name} = {value!r}: {reason}."

    def __init__(self, value: Any, *, name: str, reason: str, reason_fr: str) -> None:
        super().__init__(value, name=name, reason=reason, reason_fr=reason_fr)


class FileNotReadable(InputError):
    """The path given to the command line or the API cannot be read as a file."""

    code = "file_not_readable"
    message_fr = "Le fichier {value} ne peut pas être lu ({reason_fr}). Vérifiez le chemin indiqué."
    message_en = "The file {value} cannot be read ({reason}). Check the path you gave."

    def __init__(self, value: str, *, reason: str, reason_fr: str) -> None:
        super().__init__(value, reason=reason, reason_fr=reason_fr)

    @classmethod
    def from_os_error(cls, path: str, error: OSError) -> FileNotReadable:
        """Build the error for ``path`` from the operating system's error."""
        if isinstance(error, FileNotFoundError):
            return cls(path, reason="no such file", reason_fr="fichier introuvable")
        if isinstance(error, IsADirectoryError):
            return cls(path, reason="it is a folder", reason_fr="c'est un dossier")
        if isinstance(error, PermissionError):
            return cls(path, reason="permission denied", reason_fr="accès refusé")
        return cls(path, reason=error.strerror or str(error), reason_fr=error.strerror or str(error))


class UnknownBackend(SignatureEngineError):
    code = "unknown_backend"
    message_fr = "Backend inconnu {value!r}. Backends connus : {known}."
    message_en = "Unknown backend {value!r}. Known backends: {known}."

    def __init__(self, value: str, *, known: list[str]) -> None:
        super().__init__(value, known=", ".join(known))


class BackendNotAvailable(SignatureEngineError):
    code = "backend_not_available"
    http_status = 500
    message_fr = (
        "Le backend {value!r} n'est pas installé ({reason}). "
        "Installez-le avec : pip install 'signature-engine[{extra}]'"
    )
    message_en = (
        "The {value!r} backend is not installed ({reason}). "
        "Install it with: pip install 'signature-engine[{extra}]'"
    )

    def __init__(self, value: str, *, extra: str, reason: str) -> None:
        super().__init__(value, extra=extra, reason=reason)
