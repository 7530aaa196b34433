"""Fixtures of the signature service tests: databases, a service, auth contexts, images, logs.

Every database test runs on a fresh SQLite file and, when
``SIGNATURE_ENGINE_TEST_POSTGRES_URL`` names a PostgreSQL database
(``postgresql+psycopg://postgres@127.0.0.1:5432/test``), again on PostgreSQL in a
schema made for the test and dropped after it.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from service_testing import FixedClock, ServiceLogs, draw_signature_jpeg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from engine.service import AuthContext, Database, SignatureService
from engine.service.logs import LOGGER_NAME

POSTGRES_URL_ENV = "SIGNATURE_ENGINE_TEST_POSTGRES_URL"


# -- databases -------------------------------------------------------------------


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of an empty database: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.sqlite3'}"
        return

    base_url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not base_url:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_URL_ENV}, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
    schema = f"se_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """Return a migrated database."""
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FixedClock:
    # 11:27 UTC on 27 June 2025 is 13:27 in Paris (summer time, UTC+2).
    return FixedClock(datetime(2025, 6, 27, 11, 27, 5, 123456, tzinfo=UTC))


@pytest.fixture
def service(database: Database, clock: FixedClock) -> Iterator[SignatureService]:
    """Return a service on the migrated database, with two image workers and a fixed clock."""
    svc = SignatureService(database, workers=2, clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def sqlite_service(tmp_path: Path, clock: FixedClock) -> Iterator[SignatureService]:
    """Return a service on a fresh SQLite file, for tests that never reach the stored data."""
    database = Database(f"sqlite:///{tmp_path / 'service.sqlite3'}")
    database.migrate()
    svc = SignatureService(database, workers=2, clock=clock)
    yield svc
    svc.close()


# -- authentication ----------------------------------------------------------------


@pytest.fixture
def cps() -> AuthContext:
    return AuthContext(auth_method="cps", actor_id="actor-1", session_id="session-1")


@pytest.fixture
def ecps() -> AuthContext:
    return AuthContext(auth_method="e-cps", actor_id="actor-2", session_id="session-2")


# -- images ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def signature_jpeg() -> Callable[[int], bytes]:
    """Return a function ``seed -> JPEG bytes`` of a synthetic signature (cached per seed)."""
    cache: dict[int, bytes] = {}

    def make(seed: int = 1) -> bytes:
        if seed not in cache:
            cache[seed] = draw_signature_jpeg(seed)
        return cache[seed]

    return make


@pytest.fixture(scope="session")
def orient_1_jpeg(cases: dict[str, dict[str, Any]]) -> bytes:
    """Return the bytes of the shared upright test photo ``inputs/orient_1.jpg``."""
    return cases["inputs/orient_1.jpg"]["path"].read_bytes()


@pytest.fixture(scope="session")
def rejected_cases(cases: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the shared cases the engine must reject, each with its ``expected_code``."""
    selected = [
        {**case, "expected_code": case["error_code"]}
        for case in cases.values()
        if case["expect"] == "reject"
    ]
    if not selected:
        pytest.skip("no rejected case in the shared cases")
    return selected


# -- logs ------------------------------------------------------------------------


@pytest.fixture
def service_logs() -> Iterator[ServiceLogs]:
    """Capture every line the service logs during the test."""
    handler = ServiceLogs()
    logger = logging.getLogger(LOGGER_NAME)
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(previous_level)
