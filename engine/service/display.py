"""Texts the portal shows: saved times, event times and event labels, in French or English.

Times are stored in UTC and shown in the Europe/Paris time zone, daylight saving
time included. The zone data comes from the operating system or, where it has
none (Windows, slim containers), from the ``tzdata`` package.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import normalize_language

__all__ = [
    "DISPLAY_ZONE",
    "EVENT_LABELS",
    "event_label",
    "format_event_time",
    "format_saved_at",
    "to_utc_iso",
]

try:
    DISPLAY_ZONE = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError as error:  # pragma: no cover - depends on the host
    raise ImportError(
        "The Europe/Paris time zone is unavailable on this system. "
        "Install it with: pip install tzdata"
    ) from error

# Event type -> label, by language.
EVENT_LABELS: dict[str, dict[str, str]] = {
    "signature_added": {
        "fr": "Enregistrement de la signature",
        "en": "Signature saved",
    },
    "signature_modified": {
        "fr": "Modification de la signature",
        "en": "Signature modified",
    },
    "signature_deleted": {
        "fr": "Suppression de la signature",
        "en": "Signature deleted",
    },
}


def _to_display_zone(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required, got a naive one")
    return moment.astimezone(DISPLAY_ZONE)


def format_saved_at(moment: datetime, lang: str | None = "fr") -> str:
    """Format when a signature was saved, in Paris time.

    Returns
    -------
    str
        ``"enregistrée le 27/06/2025 à 13h27"`` in French,
        ``"saved on 27/06/2025 at 13:27"`` in English.
    """
    local = _to_display_zone(moment)
    if normalize_language(lang) == "en":
        return local.strftime("saved on %d/%m/%Y at %H:%M")
    return local.strftime("enregistrée le %d/%m/%Y à %Hh%M")


def format_event_time(moment: datetime) -> str:
    """Format an event time for the history list, in Paris time: ``"27/06/2025 - 14:15"``."""
    return _to_display_zone(moment).strftime("%d/%m/%Y - %H:%M")


def event_label(event_type: str, lang: str | None = "fr") -> str:
    """Return the display label of ``event_type`` in ``lang`` (the type itself if unknown)."""
    labels = EVENT_LABELS.get(event_type)
    if labels is None:
        return event_type
    return labels[normalize_language(lang)]


def to_utc_iso(moment: datetime) -> str:
    """Return ``moment`` as an ISO 8601 UTC string with a ``Z`` suffix, to the microsecond."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
