"""Alembic migrations: packaged, idempotent, reversible, matching the models.

They also run from the ``alembic`` command line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from engine.service import Database
from engine.service.models import Base
from engine.service.store import UnsupportedDatabase

TABLES = {"signature_accounts", "signatures", "signature_events"}


def table_names(database: Database) -> set[str]:
    return set(inspect(database.engine).get_table_names()) - {"alembic_version"}


def test_migrate_creates_schema(database):
    assert table_names(database) == TABLES
    assert database.schema_is_current()


def test_migrate_twice_is_noop(database):
    revision = database.schema_revision()

    database.migrate()

    assert database.schema_revision() == revision
    assert table_names(database) == TABLES


def test_downgrade_then_upgrade(database):
    database.downgrade("base")
    emptied = table_names(database)
    database.migrate()

    assert emptied == set()
    assert table_names(database) == TABLES


def test_schema_matches_models(database):
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []


def test_alembic_ini_is_packaged():
    package = files("engine.service")

    assert package.joinpath("alembic.ini").is_file()
    assert package.joinpath("migrations", "env.py").is_file()
    assert package.joinpath("migrations", "script.py.mako").is_file()


def test_alembic_command_line(database_url, tmp_path):
    ini = Path(str(files("engine.service").joinpath("alembic.ini")))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    alembic = [
        sys.executable,
        "-m",
        "alembic",
        "-c",
        str(ini),
        "-x",
        f"database_url={database_url}",
    ]

    upgraded = subprocess.run(
        [*alembic, "upgrade", "head"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    current = subprocess.run(
        [*alembic, "current"], env=env, cwd=tmp_path, capture_output=True, text=True
    )

    assert upgraded.returncode == 0, upgraded.stderr
    assert "(head)" in current.stdout
    database = Database(database_url)
    assert table_names(database) == TABLES
    database.dispose()


def test_alembic_command_line_reads_environment(tmp_path):
    ini = Path(str(files("engine.service").joinpath("alembic.ini")))
    url = f"sqlite:///{tmp_path / 'from-env.sqlite3'}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "SIGNATURE_ENGINE_DATABASE_URL": url,
    }

    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ini), "upgrade", "head"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.sqlite3").is_file()


@pytest.mark.parametrize("url", ["mysql://root@127.0.0.1/test", "sqlite://", "sqlite:///:memory:"])
def test_unsupported_database_rejected(url):
    with pytest.raises(UnsupportedDatabase):
        Database(url)


def test_sqlite_missing_file_not_created(tmp_path):
    with pytest.raises(FileNotFoundError):
        Database(f"sqlite:///{tmp_path / 'absent.sqlite3'}", create=False)

    assert not (tmp_path / "absent.sqlite3").exists()
