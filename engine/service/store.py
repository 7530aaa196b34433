"""Database access: connection set-up, migrations, and the locked write transaction.

SQLite (the default, embedded) and PostgreSQL (``postgresql+psycopg://``) are
supported. Every state change runs in one transaction that first takes the
account's write lock, so concurrent changes to one account are serialised:

- PostgreSQL: ``SELECT ... FOR UPDATE`` on the account's row, which is inserted
  first when missing (``INSERT ... ON CONFLICT DO NOTHING``). Other accounts are
  not blocked.
- SQLite: the write transaction starts with ``BEGIN IMMEDIATE``, which takes the
  database's write lock at once. SQLite allows one writer at a time anyway, and
  waiting for the lock up front keeps two writers from both reading the old
  state. The database runs in WAL mode, so reads go on during a write.

A crash in the middle of a request rolls the open transaction back: the state
change and its event are committed together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from engine.service.chain import GENESIS_HASH
from engine.service.models import Account

__all__ = ["SQLITE_BUSY_TIMEOUT_S", "Database", "UnsupportedDatabase"]

logger = logging.getLogger(__name__)

# How long an SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_S = 30.0

_SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class UnsupportedDatabase(ValueError):
    """The database URL names a database other than SQLite or PostgreSQL."""


def _sqlite_set_up(sql_engine: Engine) -> None:
    @event.listens_for(sql_engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Take transaction control away from the sqlite3 module so that the
        # "begin" hook below decides between BEGIN and BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(sql_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("signature_write_lock"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


class Database:
    """The service's database: an SQLAlchemy engine set up for the chosen backend.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, ``sqlite:///path/to/file.sqlite3`` or
        ``postgresql+psycopg://user@host:5432/dbname``.
    create : bool, default True
        For SQLite, whether a missing database file may be created. Read-only
        tools pass False so that a mistyped path fails instead of checking an
        empty new database.

    Raises
    ------
    UnsupportedDatabase
        For any other database than SQLite or PostgreSQL.
    FileNotFoundError
        For an SQLite file that does not exist while ``create`` is False.
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend not in _SUPPORTED_BACKENDS:
            raise UnsupportedDatabase(
                f"unsupported database {backend!r} in the URL; use sqlite:///FILE "
                "or postgresql+psycopg://USER@HOST/DB"
            )
        self.url = url
        self.dialect = backend

        if backend == "sqlite":
            path = parsed.database
            if not path or path == ":memory:":
                raise UnsupportedDatabase(
                    "an in-memory SQLite database is not shared between connections; "
                    "give a file path: sqlite:///FILE"
                )
            if not create and not Path(path).is_file():
                raise FileNotFoundError(f"no SQLite database at {path}")
            self.engine = create_engine(
                parsed,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
                hide_parameters=True,
            )
            _sqlite_set_up(self.engine)
        else:
            # hide_parameters keeps file names and image bytes out of error messages.
            self.engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    # -- schema -----------------------------------------------------------------

    @staticmethod
    def alembic_config() -> Config:
        """Return an Alembic configuration pointing at the packaged migrations."""
        config = Config()
        config.set_main_option("script_location", str(files("engine.service") / "migrations"))
        return config

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision`` in one transaction (a no-op when up to date)."""
        config = self.alembic_config()
        connection = self.engine.connect().execution_options(signature_write_lock=True)
        with connection, connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def downgrade(self, revision: str) -> None:
        """Downgrade the schema to ``revision`` (``"base"`` drops every table)."""
        config = self.alembic_config()
        connection = self.engine.connect().execution_options(signature_write_lock=True)
        with connection, connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, revision)

    def schema_revision(self) -> str | None:
        """Return the Alembic revision the database is at, or None before any migration."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def schema_is_current(self) -> bool:
        """Tell whether the database is at the latest packaged revision."""
        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        return self.schema_revision() == head

    def ping(self) -> None:
        """Run ``SELECT 1``; raise the driver's error when the database does not respond."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    # -- sessions ---------------------------------------------------------------

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """Open a session for reads; its transaction is rolled back on exit."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def locked_account(self, account_id: str, now: datetime) -> Iterator[tuple[Session, Account]]:
        """Open a write transaction that holds ``account_id``'s lock; yield it and the account row.

        The account row is created (with an empty chain) when missing. The
        transaction commits when the block exits normally and rolls back,
        row creation included, when it raises.
        """
        connection = self.engine.connect().execution_options(signature_write_lock=True)
        with (
            connection,
            Session(bind=connection, expire_on_commit=False) as session,
            session.begin(),
        ):
            account = self._lock_account(session, account_id, now)
            yield session, account

    def _lock_account(self, session: Session, account_id: str, now: datetime) -> Account:
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        session.execute(
            insert(Account)
            .values(account_id=account_id, created_at=now, event_count=0, head_hash=GENESIS_HASH)
            .on_conflict_do_nothing(index_elements=[Account.account_id])
        )
        # FOR UPDATE is the lock on PostgreSQL. SQLite ignores it, but
        # BEGIN IMMEDIATE already holds the write lock there.
        return session.execute(
            select(Account).where(Account.account_id == account_id).with_for_update()
        ).scalar_one()
