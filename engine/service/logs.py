"""Structured log lines of the signature service: one JSON object per line.

Every lifecycle event and every rejected request produces exactly one line on
the ``engine.service`` logger. The message is the JSON text itself, so any
handler prints it as is. The same fields are also attached to the log record as
``record.service_fields``, for formatters and tests.

A line carries ids, codes and hashes only. Image bytes, file names (which may
contain a person's name), tokens and user-facing messages are never logged.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from typing import Any

__all__ = ["ALLOWED_FIELDS", "LOGGER_NAME", "JsonLineFormatter", "log_service_event"]

LOGGER_NAME = "engine.service"
logger = logging.getLogger(LOGGER_NAME)

# The only keys a service log line may contain. A key outside this list is a
# programming error, caught here before anything personal reaches the logs.
ALLOWED_FIELDS = frozenset(
    {
        "time",
        "event",
        "operation",
        "account_id",
        "actor_id",
        "session_id",
        "auth_method",
        "event_id",
        "seq",
        "image_sha256",
        "upload_sha256",
        "engine_version",
        "warnings",
        "code",
        "http_status",
        "error_type",
        "method",
        "route",
        "duration_ms",
    }
)


def log_service_event(
    event: str, *, level: int = logging.INFO, exc_info: bool | BaseException = False, **fields: Any
) -> None:
    """Emit one JSON log line named ``event`` with ``fields``; None values are left out.

    Raises
    ------
    ValueError
        For a field name outside :data:`ALLOWED_FIELDS`.
    """
    unknown = set(fields) - ALLOWED_FIELDS
    if unknown:
        raise ValueError(f"log fields not allowed: {sorted(unknown)}")
    payload: dict[str, Any] = {
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "event": event,
    }
    payload.update((key, value) for key, value in fields.items() if value is not None)
    logger.log(
        level,
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        extra={"service_fields": payload},
        exc_info=exc_info,
    )


class JsonLineFormatter(logging.Formatter):
    """Format every record as one JSON line.

    Records from :func:`log_service_event` keep their fields; others get
    ``time``, ``level``, ``logger`` and ``message``. A traceback goes into an
    ``exception`` field instead of extra lines.
    """

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "service_fields", None)
        if fields is not None:
            payload = dict(fields)
            payload.setdefault("level", record.levelname.lower())
        else:
            payload = {
                "time": datetime.fromtimestamp(record.created, UTC).strftime(
                    "%Y-%m-%dT%H:%M:%S.%fZ"
                ),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
        if record.exc_info:
            payload["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
