"""Alembic environment of the signature service.

Two ways in:

- ``engine.service.store.Database.migrate`` passes an open connection, already
  inside a transaction, in ``config.attributes["connection"]``;
- the ``alembic`` command line, which connects to ``-x database_url=URL``, else
  to ``SIGNATURE_ENGINE_DATABASE_URL``, else to the default SQLite file.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, create_engine, pool, text

from engine.service.config import database_url_from_env
from engine.service.models import Base

# Any constant works, as long as no other code takes the same advisory lock.
MIGRATION_LOCK_KEY = 0x5197_0001

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two servers starting together must not both create the tables.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return

    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    url = context.get_x_argument(as_dictionary=True).get("database_url") or database_url_from_env()
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        _run(connection)
    connectable.dispose()


def run_migrations_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("database_url") or database_url_from_env()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
