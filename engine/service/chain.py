"""The tamper-evident event chain: how each event's hash is computed and how the history is checked.

Chaining is per account. An account's events are numbered ``seq = 1, 2, ...``
and each one stores ``prev_hash``, the hash of the account's previous event
(64 zeros for the first), and ``hash``, the SHA-256 of its own fields and
``prev_hash``. The account row keeps the number of events and the last hash,
so losing the newest events also shows. A per-account chain lets writes to
different accounts run in parallel, where a global chain would serialise every
write of the service behind one lock.

What this detects: an event edited, inserted, removed or reordered by hand, an
account head that disagrees with its events, and a stored image that differs
from the one its last event names. What it cannot detect: someone with write
access who rewrites a whole chain and its head consistently. Exporting the
account heads to another system from time to time closes that gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import Session

from engine.service.models import Account, EventRow, SignatureRow

__all__ = [
    "GENESIS_HASH",
    "ChainBreak",
    "ChainReport",
    "compute_event_hash",
    "verify_history",
]

GENESIS_HASH = "0" * 64
_HASH_DOMAIN = b"signature-engine/event/v1\n"

# Accounts checked per lookup query while the events stream by.
_ACCOUNT_BATCH = 100


def compute_event_hash(
    *,
    account_id: str,
    seq: int,
    event_type: str,
    occurred_at: datetime,
    actor_id: str,
    session_id: str,
    auth_method: str,
    image_sha256: str,
    upload_sha256: str | None,
    prev_hash: str,
) -> str:
    """Return the hex SHA-256 of one event's fields, chained to ``prev_hash``.

    The fields are serialised as compact JSON with sorted keys (UTF-8), and the
    time as UTC ISO 8601 to the microsecond, which both databases store exactly.
    """
    payload = {
        "account_id": account_id,
        "seq": seq,
        "event_type": event_type,
        "occurred_at": occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": actor_id,
        "session_id": session_id,
        "auth_method": auth_method,
        "image_sha256": image_sha256,
        "upload_sha256": upload_sha256,
        "prev_hash": prev_hash,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(_HASH_DOMAIN + encoded.encode("utf-8")).hexdigest()


def hash_of_row(row: EventRow, prev_hash: str) -> str:
    """Recompute the hash of a stored event, chained to ``prev_hash``."""
    return compute_event_hash(
        account_id=row.account_id,
        seq=row.seq,
        event_type=row.event_type,
        occurred_at=row.occurred_at,
        actor_id=row.actor_id,
        session_id=row.session_id,
        auth_method=row.auth_method,
        image_sha256=row.image_sha256,
        upload_sha256=row.upload_sha256,
        prev_hash=prev_hash,
    )


@dataclass(frozen=True)
class ChainBreak:
    """The first inconsistency found in one account's history.

    ``event_id`` is the event where the chain breaks, or None when the account
    has no event left to point at.
    """

    account_id: str
    event_id: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "event_id": self.event_id, "reason": self.reason}


@dataclass
class ChainReport:
    """Outcome of :func:`verify_history` over the whole database."""

    accounts: int = 0
    events: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> ChainBreak | None:
        """The break with the lowest event id (breaks without an event id come last)."""
        if not self.breaks:
            return None
        return min(self.breaks, key=lambda b: (b.event_id is None, b.event_id or 0, b.account_id))

    def to_dict(self) -> dict[str, Any]:
        first = self.first_break
        return {
            "intact": self.intact,
            "accounts": self.accounts,
            "events": self.events,
            "first_broken_event_id": first.event_id if first else None,
            "breaks": [b.to_dict() for b in self.breaks],
        }


@dataclass
class _ChainSummary:
    """The state that an account's event chain implies: its length, last event and image."""

    account_id: str
    count: int
    last_id: int
    last_hash: str
    last_type: str
    last_image_sha256: str


def _check_account_events(
    account_id: str, rows: Iterator[EventRow]
) -> tuple[_ChainSummary | None, ChainBreak | None, int]:
    """Walk one account's events in ``seq`` order.

    Returns the account's summary, its first break (or None) and its number of events.
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    last: EventRow | None = None
    broken: ChainBreak | None = None
    for row in rows:
        count += 1
        if broken is None:
            if row.seq != expected_seq:
                broken = ChainBreak(
                    account_id, row.id, f"expected seq {expected_seq}, found {row.seq}"
                )
            elif row.prev_hash != prev_hash:
                broken = ChainBreak(
                    account_id, row.id, "prev_hash does not match the previous event"
                )
            elif hash_of_row(row, row.prev_hash) != row.hash:
                broken = ChainBreak(account_id, row.id, "hash does not match the event's fields")
        prev_hash = row.hash
        expected_seq = row.seq + 1
        last = row
    if last is None:
        return None, broken, count
    summary = _ChainSummary(
        account_id, count, last.id, last.hash, last.event_type, last.image_sha256
    )
    return summary, broken, count


def _check_account_state(
    summary: _ChainSummary, account: Account | None, signature: SignatureRow | None
) -> ChainBreak | None:
    """Compare an account's head and stored signature with the state its chain implies."""
    account_id = summary.account_id
    if account is None:
        return ChainBreak(
            account_id, summary.last_id, "events exist for an account row that is missing"
        )
    if account.event_count != summary.count or account.head_hash != summary.last_hash:
        return ChainBreak(
            account_id,
            summary.last_id,
            f"account head ({account.event_count} events) does not match its chain "
            f"({summary.count} events): events were removed or added by hand",
        )
    if summary.last_type == "signature_deleted":
        if signature is not None:
            return ChainBreak(
                account_id, summary.last_id, "a signature is stored after its deletion event"
            )
        return None
    if signature is None:
        return ChainBreak(
            account_id, summary.last_id, "the signature named by the last event is missing"
        )
    if signature.image_sha256 != summary.last_image_sha256:
        return ChainBreak(
            account_id, summary.last_id, "the stored image is not the one the last event names"
        )
    if hashlib.sha256(signature.image_png).hexdigest() != signature.image_sha256:
        return ChainBreak(
            account_id, summary.last_id, "the stored image bytes do not match their SHA-256"
        )
    return None


def _check_batch(session: Session, summaries: list[_ChainSummary], report: ChainReport) -> None:
    ids = [s.account_id for s in summaries]
    accounts = {
        a.account_id: a for a in session.scalars(select(Account).where(Account.account_id.in_(ids)))
    }
    signatures = {
        s.account_id: s
        for s in session.scalars(select(SignatureRow).where(SignatureRow.account_id.in_(ids)))
    }
    for summary in summaries:
        broken = _check_account_state(
            summary, accounts.get(summary.account_id), signatures.get(summary.account_id)
        )
        if broken is not None:
            report.breaks.append(broken)
    # Free the image bytes of this batch before the next one.
    session.expunge_all()


def verify_history(sql_engine: Engine) -> ChainReport:
    """Check every account's event chain and its stored state.

    The events are streamed in ``(account_id, seq)`` order, so memory stays
    bounded by one batch of accounts whatever the size of the history.

    Returns
    -------
    ChainReport
        ``intact`` is True when no break was found; otherwise ``first_break``
        gives the lowest broken event id.
    """
    report = ChainReport()
    with Session(sql_engine) as stream, Session(sql_engine) as lookup:
        rows = stream.scalars(
            select(EventRow)
            .order_by(EventRow.account_id, EventRow.seq)
            .execution_options(yield_per=500)
        )
        pending: list[_ChainSummary] = []
        for account_id, account_rows in groupby(rows, key=lambda row: row.account_id):
            summary, broken, count = _check_account_events(account_id, account_rows)
            report.accounts += 1
            report.events += count
            if broken is not None:
                report.breaks.append(broken)
            elif summary is not None:
                pending.append(summary)
            if len(pending) >= _ACCOUNT_BATCH:
                _check_batch(lookup, pending, report)
                pending = []
        if pending:
            _check_batch(lookup, pending, report)

        # Accounts or signatures left with no event at all: their history was removed.
        has_events = exists().where(EventRow.account_id == Account.account_id)
        orphans = lookup.scalars(
            select(Account.account_id).where(~has_events).where(Account.event_count > 0)
        ).all()
        for account_id in orphans:
            report.breaks.append(ChainBreak(account_id, None, "the account's events were removed"))
        has_signature_events = exists().where(EventRow.account_id == SignatureRow.account_id)
        for account_id in lookup.scalars(
            select(SignatureRow.account_id).where(~has_signature_events)
        ):
            if account_id not in orphans:
                report.breaks.append(
                    ChainBreak(account_id, None, "a signature is stored with no event")
                )
    return report
