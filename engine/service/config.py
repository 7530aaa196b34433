"""Service settings read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "API_TOKEN_ENV",
    "DATABASE_URL_ENV",
    "DEFAULT_SQLITE_FILENAME",
    "MIN_API_TOKEN_LENGTH",
    "WORKERS_ENV",
    "database_url_from_env",
    "default_workers",
    "display_url",
]

DATABASE_URL_ENV = "SIGNATURE_ENGINE_DATABASE_URL"
API_TOKEN_ENV = "SIGNATURE_ENGINE_API_TOKEN"
WORKERS_ENV = "SIGNATURE_ENGINE_WORKERS"

# The embedded database, created in the working directory when no URL is set.
DEFAULT_SQLITE_FILENAME = "signature-engine.sqlite3"

# A shorter bearer token is too easy to guess; `secrets.token_urlsafe(32)` gives 43 characters.
MIN_API_TOKEN_LENGTH = 16

# Each image worker can hold one decoded photo (up to the engine's pixel limit)
# and its intermediate arrays in memory, so the default stays small even on
# machines with many cores.
MAX_DEFAULT_WORKERS = 4


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Return the database URL from ``SIGNATURE_ENGINE_DATABASE_URL``.

    When the variable is unset or empty, return the URL of an SQLite file named
    ``signature-engine.sqlite3`` in the current working directory (absolute path).
    """
    environ = os.environ if environ is None else environ
    url = environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILENAME}"


def default_workers(environ: Mapping[str, str] | None = None) -> int:
    """Return the image worker limit: ``SIGNATURE_ENGINE_WORKERS``, else min(CPU count, 4)."""
    environ = os.environ if environ is None else environ
    value = environ.get(WORKERS_ENV, "").strip()
    if value:
        workers = int(value)
        if workers < 1:
            raise ValueError(f"{WORKERS_ENV} must be at least 1, got {workers}")
        return workers
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def display_url(url: str) -> str:
    """Return ``url`` with any password masked, for printing; a malformed URL is not echoed."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<malformed database URL>"
