"""Pydantic models of the HTTP API's JSON bodies, and the documented error responses.

They shape the OpenAPI document; the routes return plain dicts that FastAPI
validates against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "ErrorResponse",
    "EventOut",
    "EventPageOut",
    "HealthOut",
    "PreviewOut",
    "SignatureOut",
    "WarningOut",
    "error_responses",
]


class ErrorResponse(BaseModel):
    """The body of every error response."""

    code: str = Field(
        description="Stable snake_case error code that clients match on.", examples=["no_ink_found"]
    )
    message: str = Field(
        description="Message for the user: French by default, English when Accept-Language "
        "requests it."
    )


class WarningOut(BaseModel):
    code: str = Field(description="Stable code of a quality warning.")
    message: str = Field(description="Warning text in the requested language.")


class PreviewOut(BaseModel):
    image_png_base64: str = Field(description="The processed signature, PNG encoded in base64.")
    image_sha256: str = Field(description="Hex SHA-256 of the PNG bytes.")
    width: int = Field(description="PNG width in pixels.")
    height: int = Field(description="PNG height in pixels.")
    warnings: list[WarningOut]
    record: dict[str, Any] = Field(
        description="The engine's result record: engine_version, backend, params, input, crop_box "
        "[x, y, width, height] in upright input pixels, angle in degrees counter-clockwise, "
        "warnings, timings_ms, manual adjustments."
    )


class SignatureOut(BaseModel):
    account_id: str
    file_name: str | None = Field(
        description="Base name of the uploaded file, or null if none was sent."
    )
    saved_at: str = Field(
        description="When the signature was saved: UTC, ISO 8601, e.g. 2025-06-27T11:27:00.000000Z."
    )
    saved_at_display: str = Field(
        description="Paris time for display: 'enregistrée le 27/06/2025 à 13h27' or "
        "'saved on 27/06/2025 at 13:27'."
    )
    image_sha256: str = Field(description="Hex SHA-256 of the stored PNG.")
    upload_sha256: str = Field(
        description="Hex SHA-256 of the uploaded photo, which is not stored."
    )
    width: int
    height: int
    engine_version: str
    warnings: list[WarningOut]
    record: dict[str, Any] = Field(description="The engine's result record stored with the image.")


class EventOut(BaseModel):
    id: int = Field(description="Event id, unique across accounts.")
    seq: int = Field(description="Position in the account's hash chain, from 1.")
    type: Literal["signature_added", "signature_modified", "signature_deleted"]
    label: str = Field(description="Display label, e.g. 'Modification de la signature'.")
    occurred_at: str = Field(description="UTC, ISO 8601.")
    occurred_at_display: str = Field(
        description="Paris time for display, e.g. '27/06/2025 - 14:15'."
    )
    actor_id: str
    session_id: str
    auth_method: str = Field(description="'cps' or 'e-cps'.")
    image_sha256: str = Field(
        description="SHA-256 of the stored PNG: the new one, or the deleted one."
    )
    upload_sha256: str | None = Field(
        description="SHA-256 of the uploaded photo; null for a deletion."
    )
    prev_hash: str = Field(
        description="Hash of the account's previous event (64 zeros for the first)."
    )
    hash: str = Field(description="SHA-256 chaining this event to prev_hash.")


class EventPageOut(BaseModel):
    events: list[EventOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next, older page; null on the last page."
    )


class HealthOut(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


_STATUS_DESCRIPTIONS = {
    400: "Rejected request: consent_required, confirmation_required, invalid_auth_context, or an "
    "upload error such as empty_file, corrupt_image, image_too_small, animated_not_supported, "
    "invalid_adjustment.",
    401: "unauthorized: the API bearer token is missing or wrong.",
    403: "strong_auth_required: the user did not sign in with a CPS card or e-CPS.",
    404: "signature_not_found: the account has no signature.",
    409: "signature_exists: the account already has a signature; use PUT to replace it.",
    413: "file_too_large or image_too_large: the request body or the image is over the limit.",
    415: "unsupported_format: the file is not PNG, JPEG or HEIC.",
    422: "invalid_request (a missing or malformed field), no_ink_found or not_a_signature.",
    500: "internal_error: a bug; nothing was changed.",
    503: "database_unavailable: the database does not answer.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": ErrorResponse, "description": _STATUS_DESCRIPTIONS[status]}
        for status in statuses
    }
