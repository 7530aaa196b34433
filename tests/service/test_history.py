"""Event history: contents, order, paging, labels, and the tamper-evident hash chain."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from engine.cli import main as cli_main
from engine.service import (
    ConfirmationRequired,
    InvalidRequest,
    SignatureExists,
    SignatureService,
)
from engine.service.chain import GENESIS_HASH, compute_event_hash


def build_history(service: SignatureService, cps, signature_jpeg, clock) -> list:
    """Add, modify twice and delete a signature on acc-1, a minute apart.

    Returns the four events, oldest first.
    """
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    for seed in (2, 3):
        clock.now += timedelta(minutes=1)
        service.modify("acc-1", signature_jpeg(seed), auth=cps, consent=True)
    clock.now += timedelta(minutes=1)
    service.delete("acc-1", auth=cps, confirm=True)
    return list(reversed(service.history("acc-1", auth=cps).events))


def allow_event_edits(service: SignatureService) -> None:
    """Drop the append-only triggers, as an operator with full database rights could."""
    with service.database.engine.begin() as connection:
        if service.database.dialect == "sqlite":
            connection.execute(text("DROP TRIGGER signature_events_no_update"))
            connection.execute(text("DROP TRIGGER signature_events_no_delete"))
        else:
            connection.execute(text("ALTER TABLE signature_events DISABLE TRIGGER USER"))


def verify_cli(database_url: str, capsys) -> tuple[int, str]:
    code = cli_main(["verify-history", "--database-url", database_url])
    return code, capsys.readouterr().out


# -- contents ----------------------------------------------------------------------


def test_history_newest_first(service, cps, signature_jpeg, clock):
    build_history(service, cps, signature_jpeg, clock)

    events = service.history("acc-1", auth=cps).events

    assert [e.event_type for e in events] == [
        "signature_deleted",
        "signature_modified",
        "signature_modified",
        "signature_added",
    ]
    assert [e.seq for e in events] == [4, 3, 2, 1]


def test_history_event_fields(service, ecps, signature_jpeg, clock):
    stored = service.add("acc-1", signature_jpeg(1), auth=ecps, consent=True)

    event = service.history("acc-1", auth=ecps).events[0]

    assert event.account_id == "acc-1"
    assert event.occurred_at == clock.now
    assert event.actor_id == "actor-2"
    assert event.session_id == "session-2"
    assert event.auth_method == "e-cps"
    assert event.image_sha256 == stored.image_sha256
    assert event.upload_sha256 == stored.upload_sha256


def test_history_delete_names_removed_image(service, cps, signature_jpeg, clock):
    events = build_history(service, cps, signature_jpeg, clock)

    deleted, last_modified = events[-1], events[-2]

    assert deleted.image_sha256 == last_modified.image_sha256
    assert deleted.upload_sha256 is None


def test_history_labels_french_and_english(service, cps, signature_jpeg, clock):
    events = build_history(service, cps, signature_jpeg, clock)

    assert [e.label() for e in events] == [
        "Enregistrement de la signature",
        "Modification de la signature",
        "Modification de la signature",
        "Suppression de la signature",
    ]
    assert [e.label("en") for e in events] == [
        "Signature saved",
        "Signature modified",
        "Signature modified",
        "Signature deleted",
    ]


def test_history_display_time_paris(service, cps, signature_jpeg, clock):
    clock.now = datetime(2025, 6, 27, 12, 15, 30, tzinfo=UTC)
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    event = service.history("acc-1", auth=cps).events[0]

    assert event.display_time == "27/06/2025 - 14:15"
    assert event.to_dict("fr")["occurred_at"] == "2025-06-27T12:15:30.000000Z"


def test_history_rejected_call_adds_no_event(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    with pytest.raises(SignatureExists):
        service.add("acc-1", signature_jpeg(2), auth=cps, consent=True)
    with pytest.raises(ConfirmationRequired):
        service.delete("acc-1", auth=cps, confirm=False)

    assert len(service.history("acc-1", auth=cps).events) == 1


def test_history_unknown_account_empty(service, cps):
    page = service.history("nobody", auth=cps)

    assert page.events == []
    assert page.next_cursor is None


# -- paging ------------------------------------------------------------------------


def test_history_pages_cover_all_events(service, cps, signature_jpeg, clock):
    everything = list(reversed(build_history(service, cps, signature_jpeg, clock)))

    first = service.history("acc-1", auth=cps, limit=3)
    second = service.history("acc-1", auth=cps, limit=3, cursor=first.next_cursor)

    assert first.events == everything[:3]
    assert first.next_cursor is not None
    assert second.events == everything[3:]
    assert second.next_cursor is None


def test_history_exact_page_has_no_cursor(service, cps, signature_jpeg, clock):
    build_history(service, cps, signature_jpeg, clock)

    page = service.history("acc-1", auth=cps, limit=4)

    assert len(page.events) == 4
    assert page.next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage", "c2VxOi0x", "c2VxOmFiYw", "!!!", "bm9wZToz"])
def test_history_invalid_cursor_rejected(service, cps, cursor):
    with pytest.raises(InvalidRequest):
        service.history("acc-1", auth=cps, cursor=cursor)


@pytest.mark.parametrize("limit", [0, -1, 101, True, 2.5])
def test_history_invalid_limit_rejected(service, cps, limit):
    with pytest.raises(InvalidRequest):
        service.history("acc-1", auth=cps, limit=limit)


# -- hash chain --------------------------------------------------------------------


def test_chain_links_each_account_event(service, cps, signature_jpeg, clock):
    events = build_history(service, cps, signature_jpeg, clock)

    assert events[0].prev_hash == GENESIS_HASH
    for previous, current in itertools.pairwise(events):
        assert current.prev_hash == previous.hash


def test_chain_hash_covers_event_fields(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    event = service.history("acc-1", auth=cps).events[0]

    recomputed = compute_event_hash(
        account_id=event.account_id,
        seq=event.seq,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        session_id=event.session_id,
        auth_method=event.auth_method,
        image_sha256=event.image_sha256,
        upload_sha256=event.upload_sha256,
        prev_hash=event.prev_hash,
    )
    altered = compute_event_hash(
        account_id=event.account_id,
        seq=event.seq,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        actor_id="someone-else",
        session_id=event.session_id,
        auth_method=event.auth_method,
        image_sha256=event.image_sha256,
        upload_sha256=event.upload_sha256,
        prev_hash=event.prev_hash,
    )

    assert recomputed == event.hash
    assert altered != event.hash


def test_chain_per_account(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    service.add("acc-2", signature_jpeg(2), auth=cps, consent=True)

    first_events = [service.history(a, auth=cps).events[0] for a in ("acc-1", "acc-2")]

    assert [e.seq for e in first_events] == [1, 1]
    assert [e.prev_hash for e in first_events] == [GENESIS_HASH, GENESIS_HASH]


def test_verify_intact_history(service, cps, signature_jpeg, clock, database_url, capsys):
    build_history(service, cps, signature_jpeg, clock)
    service.add("acc-2", signature_jpeg(4), auth=cps, consent=True)

    report = service.verify_history()
    code, output = verify_cli(database_url, capsys)

    assert report.intact
    assert report.events == 5
    assert report.accounts == 2
    assert code == 0
    assert "intact" in output


def test_verify_empty_history(service, database_url, capsys):
    code, _ = verify_cli(database_url, capsys)

    assert code == 0


def test_events_update_blocked_by_trigger(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    with (
        pytest.raises(DBAPIError, match="append-only"),
        service.database.engine.begin() as connection,
    ):
        connection.execute(text("UPDATE signature_events SET actor_id = 'intruder'"))


def test_events_delete_blocked_by_trigger(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    with (
        pytest.raises(DBAPIError, match="append-only"),
        service.database.engine.begin() as connection,
    ):
        connection.execute(text("DELETE FROM signature_events"))


def test_verify_detects_edited_event(service, cps, signature_jpeg, clock, database_url, capsys):
    events = build_history(service, cps, signature_jpeg, clock)
    service.add("acc-2", signature_jpeg(4), auth=cps, consent=True)
    edited = events[1]
    allow_event_edits(service)
    with service.database.engine.begin() as connection:
        connection.execute(
            text("UPDATE signature_events SET actor_id = 'intruder' WHERE id = :id"),
            {"id": edited.id},
        )

    report = service.verify_history()
    code, output = verify_cli(database_url, capsys)

    assert not report.intact
    assert report.first_break.event_id == edited.id
    assert report.first_break.account_id == "acc-1"
    assert code == 1
    assert f"first broken event id {edited.id} " in output


def test_verify_detects_rehashed_event(service, cps, signature_jpeg, clock):
    events = build_history(service, cps, signature_jpeg, clock)
    edited, following = events[1], events[2]
    forged = compute_event_hash(
        account_id=edited.account_id,
        seq=edited.seq,
        event_type=edited.event_type,
        occurred_at=edited.occurred_at,
        actor_id="intruder",
        session_id=edited.session_id,
        auth_method=edited.auth_method,
        image_sha256=edited.image_sha256,
        upload_sha256=edited.upload_sha256,
        prev_hash=edited.prev_hash,
    )
    allow_event_edits(service)
    with service.database.engine.begin() as connection:
        connection.execute(
            text("UPDATE signature_events SET actor_id = 'intruder', hash = :hash WHERE id = :id"),
            {"hash": forged, "id": edited.id},
        )

    report = service.verify_history()

    # The edited event hashes correctly now, so the chain breaks at the next one.
    assert report.first_break.event_id == following.id


def test_verify_detects_removed_newest_event(service, cps, signature_jpeg, clock):
    events = build_history(service, cps, signature_jpeg, clock)
    allow_event_edits(service)
    with service.database.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM signature_events WHERE id = :id"), {"id": events[-1].id}
        )

    report = service.verify_history()

    assert not report.intact
    assert report.first_break.event_id == events[-2].id


def test_verify_detects_removed_middle_event(service, cps, signature_jpeg, clock):
    events = build_history(service, cps, signature_jpeg, clock)
    allow_event_edits(service)
    with service.database.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM signature_events WHERE id = :id"), {"id": events[1].id}
        )

    report = service.verify_history()

    assert report.first_break.event_id == events[2].id


def test_verify_detects_all_events_removed(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    allow_event_edits(service)
    with service.database.engine.begin() as connection:
        connection.execute(text("DELETE FROM signature_events"))

    report = service.verify_history()

    assert not report.intact
    assert report.first_break.account_id == "acc-1"
    assert report.first_break.event_id is None


def test_verify_detects_swapped_image(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    other = service.preview("acc-1", signature_jpeg(2), auth=cps)
    with service.database.engine.begin() as connection:
        connection.execute(
            text("UPDATE signatures SET image_png = :png, image_sha256 = :sha"),
            {"png": other.image_png, "sha": other.image_sha256},
        )

    report = service.verify_history()

    assert not report.intact
    assert "image" in report.first_break.reason


def test_verify_detects_edited_image_bytes(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    other = service.preview("acc-1", signature_jpeg(2), auth=cps)
    with service.database.engine.begin() as connection:
        connection.execute(text("UPDATE signatures SET image_png = :png"), {"png": other.image_png})

    report = service.verify_history()

    assert not report.intact


def test_verify_cli_missing_database(tmp_path, capsys):
    code = cli_main(
        ["verify-history", "--database-url", f"sqlite:///{tmp_path / 'absent.sqlite3'}"]
    )

    assert code == 2
    assert not (tmp_path / "absent.sqlite3").exists()


def test_verify_cli_json_report(service, cps, signature_jpeg, database_url, capsys):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    code = cli_main(["verify-history", "--database-url", database_url, "--json"])
    report = json.loads(capsys.readouterr().out)

    assert code == 0
    assert report["intact"] is True
    assert report["events"] == 1


@pytest.mark.parametrize("url", ["not-a-url", "mysql://root@127.0.0.1/test"])
def test_verify_cli_bad_url_usage_error(url, capsys):
    code = cli_main(["verify-history", "--database-url", url])

    assert code == 2
    assert "error:" in capsys.readouterr().err
