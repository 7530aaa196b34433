"""Values the signature service returns: a preview, a stored signature, history events."""

from __future__ import annotations

import base64
import binascii
import copy
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.result import QualityWarning
from engine.service.display import event_label, format_event_time, format_saved_at, to_utc_iso
from engine.service.errors import InvalidRequest
from engine.service.models import EventRow, SignatureRow

__all__ = [
    "HistoryEvent",
    "HistoryPage",
    "Preview",
    "StoredSignature",
    "decode_cursor",
    "encode_cursor",
    "png_size",
]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Return ``(width, height)`` in pixels from a PNG's IHDR chunk, or ``(0, 0)`` if unreadable."""
    if len(png) < 24 or not png.startswith(_PNG_SIGNATURE) or png[12:16] != b"IHDR":
        return (0, 0)
    width, height = struct.unpack(">II", png[16:24])
    return (width, height)


def _warnings_from_json(items: Sequence[dict[str, str]]) -> tuple[QualityWarning, ...]:
    return tuple(
        QualityWarning(item["code"], item["message_fr"], item["message_en"]) for item in items
    )


def warnings_to_json(warnings: Sequence[QualityWarning]) -> list[dict[str, str]]:
    """Return warnings as JSON objects carrying both languages, for storage."""
    return [
        {"code": w.code, "message_fr": w.message_fr, "message_en": w.message_en} for w in warnings
    ]


def _localized_record(
    record_fr: dict[str, Any], warnings: Sequence[QualityWarning], lang: str | None
) -> dict[str, Any]:
    record = copy.deepcopy(record_fr)
    record["warnings"] = [w.to_dict(lang) for w in warnings]
    return record


@dataclass(frozen=True)
class Preview:
    """A processed upload that was not stored.

    Attributes
    ----------
    image_png : bytes
        The processed signature, PNG without metadata.
    image_sha256 : str
        Hex SHA-256 of ``image_png``.
    upload_sha256 : str
        Hex SHA-256 of the uploaded file.
    record_fr : dict
        The engine's result record (proposed crop box, angle, parameters,
        version, ...), with warnings in French.
    warnings : tuple of QualityWarning
        The quality warnings, in both languages.
    engine_version : str
        Version of the engine that made the image.
    """

    image_png: bytes
    image_sha256: str
    upload_sha256: str
    record_fr: dict[str, Any]
    warnings: tuple[QualityWarning, ...]
    engine_version: str

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the PNG in pixels."""
        return png_size(self.image_png)

    def record(self, lang: str | None = "fr") -> dict[str, Any]:
        """Return the result record with its warnings in ``lang``."""
        return _localized_record(self.record_fr, self.warnings, lang)

    def to_dict(self, lang: str | None = "fr") -> dict[str, Any]:
        """Return the JSON form the API sends, with the PNG in base64."""
        width, height = self.size
        return {
            "image_png_base64": base64.b64encode(self.image_png).decode("ascii"),
            "image_sha256": self.image_sha256,
            "width": width,
            "height": height,
            "warnings": [w.to_dict(lang) for w in self.warnings],
            "record": self.record(lang),
        }


@dataclass(frozen=True)
class StoredSignature:
    """An account's current signature as stored.

    ``saved_at`` is an aware UTC datetime; the original photo is not kept, only
    its SHA-256 in ``upload_sha256``.
    """

    account_id: str
    image_png: bytes
    image_sha256: str
    upload_sha256: str
    original_filename: str | None
    saved_at: datetime
    engine_version: str
    record_fr: dict[str, Any]
    warnings: tuple[QualityWarning, ...]

    @classmethod
    def from_row(cls, row: SignatureRow) -> StoredSignature:
        return cls(
            account_id=row.account_id,
            image_png=row.image_png,
            image_sha256=row.image_sha256,
            upload_sha256=row.upload_sha256,
            original_filename=row.original_filename,
            saved_at=row.saved_at,
            engine_version=row.engine_version,
            record_fr=row.record,
            warnings=_warnings_from_json(row.warnings),
        )

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the PNG in pixels."""
        return png_size(self.image_png)

    def saved_at_display(self, lang: str | None = "fr") -> str:
        """Return when it was saved, in Paris time: ``"enregistrée le 27/06/2025 à 13h27"``."""
        return format_saved_at(self.saved_at, lang)

    def record(self, lang: str | None = "fr") -> dict[str, Any]:
        """Return the result record with its warnings in ``lang``."""
        return _localized_record(self.record_fr, self.warnings, lang)

    def to_dict(self, lang: str | None = "fr") -> dict[str, Any]:
        """Return the metadata the API sends (no image bytes)."""
        width, height = self.size
        return {
            "account_id": self.account_id,
            "file_name": self.original_filename,
            "saved_at": to_utc_iso(self.saved_at),
            "saved_at_display": self.saved_at_display(lang),
            "image_sha256": self.image_sha256,
            "upload_sha256": self.upload_sha256,
            "width": width,
            "height": height,
            "engine_version": self.engine_version,
            "warnings": [w.to_dict(lang) for w in self.warnings],
            "record": self.record(lang),
        }


@dataclass(frozen=True)
class HistoryEvent:
    """One entry of an account's history.

    ``occurred_at`` is an aware UTC datetime. ``image_sha256`` is the stored
    PNG's hash: the new image for an addition or modification, the removed one
    for a deletion.
    """

    id: int
    account_id: str
    seq: int
    event_type: str
    occurred_at: datetime
    actor_id: str
    session_id: str
    auth_method: str
    image_sha256: str
    upload_sha256: str | None
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: EventRow) -> HistoryEvent:
        return cls(
            id=row.id,
            account_id=row.account_id,
            seq=row.seq,
            event_type=row.event_type,
            occurred_at=row.occurred_at,
            actor_id=row.actor_id,
            session_id=row.session_id,
            auth_method=row.auth_method,
            image_sha256=row.image_sha256,
            upload_sha256=row.upload_sha256,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )

    def label(self, lang: str | None = "fr") -> str:
        """Return the display label, such as ``"Modification de la signature"``."""
        return event_label(self.event_type, lang)

    @property
    def display_time(self) -> str:
        """The time in Paris for the history list: ``"27/06/2025 - 14:15"``."""
        return format_event_time(self.occurred_at)

    def to_dict(self, lang: str | None = "fr") -> dict[str, Any]:
        """Return the JSON form the API sends."""
        return {
            "id": self.id,
            "seq": self.seq,
            "type": self.event_type,
            "label": self.label(lang),
            "occurred_at": to_utc_iso(self.occurred_at),
            "occurred_at_display": self.display_time,
            "actor_id": self.actor_id,
            "session_id": self.session_id,
            "auth_method": self.auth_method,
            "image_sha256": self.image_sha256,
            "upload_sha256": self.upload_sha256,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class HistoryPage:
    """A page of history, newest first; ``next_cursor`` fetches the next older page, or is None."""

    events: list[HistoryEvent]
    next_cursor: str | None

    def to_dict(self, lang: str | None = "fr") -> dict[str, Any]:
        return {"events": [e.to_dict(lang) for e in self.events], "next_cursor": self.next_cursor}


def encode_cursor(seq: int) -> str:
    """Return the opaque cursor that resumes a history listing below event ``seq``."""
    return base64.urlsafe_b64encode(f"seq:{seq}".encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the ``seq`` inside a cursor made by :func:`encode_cursor`.

    Raises
    ------
    InvalidRequest
        For a cursor that this service did not make.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        prefix, _, number = text.partition(":")
        seq = int(number)
        if prefix != "seq" or seq < 1 or not number.isdigit():
            raise ValueError(text)
    except (ValueError, UnicodeError, binascii.Error) as error:
        raise InvalidRequest(
            None,
            reason_fr="curseur de pagination invalide, reprenez la liste depuis le début",
            reason_en="invalid paging cursor, start the listing again from the first page",
        ) from error
    return seq
