"""Database tables of the signature service (SQLAlchemy 2 declarative mapping).

The schema itself is created and upgraded by the Alembic migrations in
``engine/service/migrations``; these classes must match the latest revision.

``signature_accounts``
    One row per account that ever had a signature. The row is the per-account
    lock for writes, and it keeps the head of the account's event chain.
``signatures``
    The current processed signature of an account, at most one.
``signature_events``
    The append-only, hash-chained history of each account.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ["Account", "Base", "EventRow", "SignatureRow", "UTCDateTime"]

ACCOUNT_ID_LENGTH = 128
SHA256_HEX_LENGTH = 64

JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY.
EventIdType = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    PostgreSQL keeps it as ``timestamptz``. SQLite has no time zones, so the
    value is stored as naive UTC text, to the microsecond.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime, got a naive one")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "signature_accounts"

    account_id: Mapped[str] = mapped_column(String(ACCOUNT_ID_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Number of events in the account's chain and the hash of the last one.
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))


class SignatureRow(Base):
    __tablename__ = "signatures"

    account_id: Mapped[str] = mapped_column(
        String(ACCOUNT_ID_LENGTH), ForeignKey("signature_accounts.account_id"), primary_key=True
    )
    image_png: Mapped[bytes] = mapped_column(LargeBinary)
    image_sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    # SHA-256 of the uploaded photo, kept for audit; the photo itself is never stored.
    upload_sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    original_filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    engine_version: Mapped[str] = mapped_column(String(64))
    # The engine's result record, with its warnings in French.
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The warnings in both languages: [{"code", "message_fr", "message_en"}].
    warnings: Mapped[list[dict[str, str]]] = mapped_column(JSONType)


class EventRow(Base):
    __tablename__ = "signature_events"
    __table_args__ = (
        UniqueConstraint("account_id", "seq", name="uq_signature_events_account_seq"),
    )

    id: Mapped[int] = mapped_column(EventIdType, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(ACCOUNT_ID_LENGTH), ForeignKey("signature_accounts.account_id")
    )
    # Position in the account's chain, from 1.
    seq: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[str] = mapped_column(String(128))
    session_id: Mapped[str] = mapped_column(String(128))
    auth_method: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the stored PNG: the new image, or for a deletion the deleted one.
    image_sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    # SHA-256 of the uploaded photo; None for a deletion.
    upload_sha256: Mapped[str | None] = mapped_column(String(SHA256_HEX_LENGTH), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
