"""Create the accounts, signatures and append-only events tables.

Revision ID: 0001_initial
Revises:
Create Date: 2025-06-27 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EVENT_ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Triggers that make signature_events append-only at the database level: the
# service only inserts, and an UPDATE or DELETE needs the trigger dropped first.
SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER signature_events_no_update BEFORE UPDATE ON signature_events
    BEGIN SELECT RAISE(ABORT, 'signature_events is append-only'); END
    """,
    """
    CREATE TRIGGER signature_events_no_delete BEFORE DELETE ON signature_events
    BEGIN SELECT RAISE(ABORT, 'signature_events is append-only'); END
    """,
]
POSTGRESQL_TRIGGERS = [
    """
    CREATE FUNCTION signature_events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'signature_events is append-only';
    END
    $$
    """,
    """
    CREATE TRIGGER signature_events_no_change BEFORE UPDATE OR DELETE ON signature_events
    FOR EACH ROW EXECUTE FUNCTION signature_events_reject_change()
    """,
    """
    CREATE TRIGGER signature_events_no_truncate BEFORE TRUNCATE ON signature_events
    FOR EACH STATEMENT EXECUTE FUNCTION signature_events_reject_change()
    """,
]


def upgrade() -> None:
    op.create_table(
        "signature_accounts",
        sa.Column("account_id", sa.String(128), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "signatures",
        sa.Column(
            "account_id",
            sa.String(128),
            sa.ForeignKey("signature_accounts.account_id"),
            primary_key=True,
        ),
        sa.Column("image_png", sa.LargeBinary(), nullable=False),
        sa.Column("image_sha256", sa.String(64), nullable=False),
        sa.Column("upload_sha256", sa.String(64), nullable=False),
        sa.Column("original_filename", sa.String(255), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("engine_version", sa.String(64), nullable=False),
        sa.Column("record", JSON_TYPE, nullable=False),
        sa.Column("warnings", JSON_TYPE, nullable=False),
    )
    op.create_table(
        "signature_events",
        sa.Column("id", EVENT_ID_TYPE, primary_key=True, autoincrement=True),
        sa.Column(
            "account_id",
            sa.String(128),
            sa.ForeignKey("signature_accounts.account_id"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("auth_method", sa.String(16), nullable=False),
        sa.Column("image_sha256", sa.String(64), nullable=False),
        sa.Column("upload_sha256", sa.String(64), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("account_id", "seq", name="uq_signature_events_account_seq"),
    )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        triggers = SQLITE_TRIGGERS
    elif dialect == "postgresql":
        triggers = POSTGRESQL_TRIGGERS
    else:
        triggers = []
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS signature_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS signature_events_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS signature_events_no_change ON signature_events")
        op.execute("DROP TRIGGER IF EXISTS signature_events_no_truncate ON signature_events")
        op.execute("DROP FUNCTION IF EXISTS signature_events_reject_change()")
    op.drop_table("signature_events")
    op.drop_table("signatures")
    op.drop_table("signature_accounts")
