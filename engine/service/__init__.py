"""The signature service: each account's signature, its storage, its history, and an HTTP API.

Python callers use :class:`SignatureService` directly::

    from engine.service import AuthContext, SignatureService

    service = SignatureService.from_url("sqlite:///signature-engine.sqlite3")
    auth = AuthContext(auth_method="cps", actor_id="actor-1", session_id="session-1")
    stored = service.add("account-1", photo_bytes, auth=auth, consent=True, filename="photo.jpg")

Other backends use the HTTP API built by :func:`engine.service.api.create_app`
and started by ``signature-engine serve``. Needs the ``service`` extra.
"""

from __future__ import annotations

from engine.service.auth import STRONG_AUTH_METHODS, AuthContext
from engine.service.chain import ChainBreak, ChainReport
from engine.service.errors import (
    ConfirmationRequired,
    ConsentRequired,
    InvalidAuthContext,
    InvalidRequest,
    ServiceError,
    SignatureExists,
    SignatureNotFound,
    StrongAuthRequired,
)
from engine.service.service import SignatureService
from engine.service.store import Database
from engine.service.values import HistoryEvent, HistoryPage, Preview, StoredSignature

__all__ = [
    "STRONG_AUTH_METHODS",
    "AuthContext",
    "ChainBreak",
    "ChainReport",
    "ConfirmationRequired",
    "ConsentRequired",
    "Database",
    "HistoryEvent",
    "HistoryPage",
    "InvalidAuthContext",
    "InvalidRequest",
    "Preview",
    "ServiceError",
    "SignatureExists",
    "SignatureNotFound",
    "SignatureService",
    "StoredSignature",
    "StrongAuthRequired",
]
