"""The service's lifecycle rules, through the Python interface, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from engine.errors import EmptyFile, InvalidAdjustment, SignatureEngineError, UnsupportedFormat
from engine.service import (
    AuthContext,
    ConfirmationRequired,
    ConsentRequired,
    InvalidAuthContext,
    InvalidRequest,
    SignatureExists,
    SignatureNotFound,
    SignatureService,
    StrongAuthRequired,
)
from engine.service.models import Account, EventRow, SignatureRow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WEAK_METHODS = ["password", "otp", "franceconnect", "cps-password", "e_cps", "", "  ", None]


def count_rows(service: SignatureService) -> dict[str, int]:
    """Return the number of rows in each table of the service."""
    with service.database.read_session() as session:
        return {
            "accounts": session.scalar(select(func.count()).select_from(Account)),
            "signatures": session.scalar(select(func.count()).select_from(SignatureRow)),
            "events": session.scalar(select(func.count()).select_from(EventRow)),
        }


def snapshot(service: SignatureService, account_id: str) -> tuple[object, ...]:
    """Return everything stored for an account: its signature row and its events."""
    with service.database.read_session() as session:
        row = session.get(SignatureRow, account_id)
        signature = None
        if row is not None:
            signature = (row.image_sha256, row.original_filename, row.saved_at, row.upload_sha256)
        events = session.execute(
            select(EventRow.id, EventRow.hash)
            .where(EventRow.account_id == account_id)
            .order_by(EventRow.seq)
        ).all()
        account = session.get(Account, account_id)
        head = None if account is None else (account.event_count, account.head_hash)
    return (signature, tuple(events), head)


# -- strong authentication ---------------------------------------------------------


@pytest.mark.parametrize("method", WEAK_METHODS)
def test_add_weak_auth_rejected(service, signature_jpeg, method):
    weak = AuthContext(auth_method=method, actor_id="actor-1", session_id="session-1")

    with pytest.raises(StrongAuthRequired) as caught:
        service.add("acc-1", signature_jpeg(1), auth=weak, consent=True)

    assert caught.value.code == "strong_auth_required"
    assert caught.value.http_status == 403
    assert count_rows(service) == {"accounts": 0, "signatures": 0, "events": 0}


def test_every_operation_weak_auth_rejected(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    before = snapshot(service, "acc-1")
    weak = AuthContext(auth_method="password", actor_id="actor-1", session_id="session-1")
    calls = {
        "preview": lambda: service.preview("acc-1", signature_jpeg(2), auth=weak),
        "add": lambda: service.add("acc-2", signature_jpeg(2), auth=weak, consent=True),
        "modify": lambda: service.modify("acc-1", signature_jpeg(2), auth=weak, consent=True),
        "delete": lambda: service.delete("acc-1", auth=weak, confirm=True),
        "read": lambda: service.read("acc-1", auth=weak),
        "document": lambda: service.signature_for_document("acc-1", auth=weak),
        "history": lambda: service.history("acc-1", auth=weak),
    }

    for name, call in calls.items():
        with pytest.raises(StrongAuthRequired):
            call()
        assert snapshot(service, "acc-1") == before, name


@pytest.mark.parametrize("method", ["cps", "e-cps", "CPS", " e-CPS "])
def test_add_strong_auth_accepted(service, signature_jpeg, method):
    auth = AuthContext(auth_method=method, actor_id="actor-1", session_id="session-1")

    stored = service.add("acc-1", signature_jpeg(1), auth=auth, consent=True)

    assert stored.account_id == "acc-1"
    event = service.history("acc-1", auth=auth).events[0]
    assert event.auth_method == method.strip().lower()


@pytest.mark.parametrize(
    ("actor", "session"),
    [
        (None, "session-1"),
        ("actor-1", None),
        ("", "session-1"),
        ("jean.dupont@example.org", "s"),
        ("a" * 129, "s"),
    ],
)
def test_add_incomplete_auth_context_rejected(service, signature_jpeg, actor, session):
    auth = AuthContext(auth_method="cps", actor_id=actor, session_id=session)

    with pytest.raises(InvalidAuthContext):
        service.add("acc-1", signature_jpeg(1), auth=auth, consent=True)

    assert count_rows(service)["events"] == 0


@pytest.mark.parametrize(
    "account_id", ["", "-starts-with-dash", "has space", "é", "a" * 129, "x/y"]
)
def test_add_malformed_account_id_rejected(service, cps, signature_jpeg, account_id):
    with pytest.raises(InvalidRequest):
        service.add(account_id, signature_jpeg(1), auth=cps, consent=True)


# -- add ---------------------------------------------------------------------------


def test_add_stores_processed_png(service, cps, signature_jpeg, clock):
    upload = signature_jpeg(1)

    stored = service.add("acc-1", upload, auth=cps, consent=True, filename="photo signature.jpg")

    assert stored.image_png.startswith(PNG_SIGNATURE)
    assert stored.image_sha256 == hashlib.sha256(stored.image_png).hexdigest()
    assert stored.upload_sha256 == hashlib.sha256(upload).hexdigest()
    assert stored.original_filename == "photo signature.jpg"
    assert stored.saved_at == clock.now
    assert stored.engine_version
    assert service.read("acc-1", auth=cps) == stored


def test_add_stores_engine_record(service, cps, signature_jpeg):
    stored = service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    record = service.read("acc-1", auth=cps).record()

    assert record["engine_version"] == stored.engine_version
    assert record["params"]
    assert len(record["crop_box"]) == 4
    assert "warnings" in record


def test_add_warnings_kept_in_both_languages(service, cps, signature_jpeg):
    # Seed 0 draws a short signature that the engine flags as low resolution.
    expected = [w.code for w in service.preview("acc-1", signature_jpeg(0), auth=cps).warnings]
    service.add("acc-1", signature_jpeg(0), auth=cps, consent=True)

    stored = service.read("acc-1", auth=cps)
    french = stored.record("fr")["warnings"]
    english = stored.record("en")["warnings"]

    assert expected
    assert [w["code"] for w in french] == expected
    assert [w["code"] for w in english] == expected
    assert [w["message"] for w in french] != [w["message"] for w in english]


def test_add_original_photo_never_stored(service, cps, signature_jpeg, database_url):
    upload = signature_jpeg(1)
    service.add("acc-1", upload, auth=cps, consent=True)

    with service.database.read_session() as session:
        images = session.scalars(select(SignatureRow.image_png)).all()

    assert images
    assert all(upload[100:164] not in image for image in images)
    if database_url.startswith("sqlite"):
        database_file = Path(database_url.removeprefix("sqlite:///"))
        service.database.dispose()
        stored_bytes = b"".join(
            p.read_bytes() for p in database_file.parent.glob(database_file.name + "*")
        )
        assert upload[100:164] not in stored_bytes


@pytest.mark.parametrize("consent", [False, None, "true", 1])
def test_add_without_consent_rejected(service, cps, signature_jpeg, consent):
    with pytest.raises(ConsentRequired) as caught:
        service.add("acc-1", signature_jpeg(1), auth=cps, consent=consent)

    assert caught.value.code == "consent_required"
    assert count_rows(service) == {"accounts": 0, "signatures": 0, "events": 0}


def test_add_existing_signature_rejected(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    before = snapshot(service, "acc-1")

    with pytest.raises(SignatureExists) as caught:
        service.add("acc-1", signature_jpeg(2), auth=cps, consent=True)

    assert caught.value.http_status == 409
    assert snapshot(service, "acc-1") == before


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (b"", EmptyFile),
        (b"GIF89a" + bytes(200), UnsupportedFormat),
        (b"plain text, not an image", UnsupportedFormat),
    ],
)
def test_add_engine_error_stores_nothing(service, cps, upload, error):
    with pytest.raises(error):
        service.add("acc-1", upload, auth=cps, consent=True)

    assert count_rows(service) == {"accounts": 0, "signatures": 0, "events": 0}


def test_add_manual_adjustments_recorded(service, cps, signature_jpeg):
    stored = service.add(
        "acc-1", signature_jpeg(1), auth=cps, consent=True, crop=(40, 40, 300, 200), rotation=5.0
    )

    record = stored.record()

    assert record["manual"]["crop"] == [40, 40, 300, 200]
    assert record["manual"]["rotation"] == 5.0


def test_add_windows_path_reduced_to_name(service, cps, signature_jpeg):
    stored = service.add(
        "acc-1",
        signature_jpeg(1),
        auth=cps,
        consent=True,
        filename="C:\\fakepath\\Signature Jean.jpg",
    )

    assert stored.original_filename == "Signature Jean.jpg"


# -- preview -----------------------------------------------------------------------


def test_preview_stores_nothing(service, cps, signature_jpeg):
    preview = service.preview("acc-1", signature_jpeg(1), auth=cps)

    assert preview.image_png.startswith(PNG_SIGNATURE)
    assert preview.image_sha256 == hashlib.sha256(preview.image_png).hexdigest()
    assert count_rows(service) == {"accounts": 0, "signatures": 0, "events": 0}


def test_preview_returns_proposed_crop_and_angle(service, cps, signature_jpeg):
    record = service.preview("acc-1", signature_jpeg(1), auth=cps).record()

    width, height = record["crop_box"][2:]

    assert width > 0
    assert height > 0
    assert isinstance(record["angle"], float)
    assert isinstance(record["warnings"], list)


def test_preview_manual_crop_bounds_result(service, cps, signature_jpeg):
    automatic = service.preview("acc-1", signature_jpeg(1), auth=cps).record()["crop_box"]
    manual = service.preview(
        "acc-1", signature_jpeg(1), auth=cps, crop=(40, 40, 300, 200)
    ).record()["crop_box"]

    x, y, width, height = manual

    assert manual != automatic
    assert x >= 40
    assert y >= 40
    assert x + width <= 340
    assert y + height <= 240


def test_preview_existing_signature_untouched(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    before = snapshot(service, "acc-1")

    service.preview("acc-1", signature_jpeg(2), auth=cps, rotation=10.0)

    assert snapshot(service, "acc-1") == before


@pytest.mark.parametrize(
    ("crop", "rotation"),
    [
        ((0, 0, 0, 10), None),
        ((-1, 0, 10, 10), None),
        ((0, 0, 10), None),
        ((600, 40, 300, 200), None),
        (None, float("nan")),
        (None, float("inf")),
        (None, 400.0),
    ],
)
def test_preview_invalid_adjustment_rejected(service, cps, signature_jpeg, crop, rotation):
    with pytest.raises(InvalidAdjustment):
        service.preview("acc-1", signature_jpeg(1), auth=cps, crop=crop, rotation=rotation)


# -- modify ------------------------------------------------------------------------


def test_modify_replaces_image(service, cps, signature_jpeg, clock):
    first = service.add("acc-1", signature_jpeg(1), auth=cps, consent=True, filename="first.jpg")
    clock.now = datetime(2025, 6, 28, 8, 0, tzinfo=UTC)

    second = service.modify(
        "acc-1", signature_jpeg(2), auth=cps, consent=True, filename="second.jpg"
    )

    assert second.image_sha256 != first.image_sha256
    assert second.original_filename == "second.jpg"
    assert second.saved_at == clock.now
    assert service.read("acc-1", auth=cps) == second


def test_modify_without_signature_rejected(service, cps, signature_jpeg):
    with pytest.raises(SignatureNotFound) as caught:
        service.modify("acc-1", signature_jpeg(1), auth=cps, consent=True)

    assert caught.value.http_status == 404
    assert count_rows(service) == {"accounts": 0, "signatures": 0, "events": 0}


def test_modify_without_consent_rejected(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    before = snapshot(service, "acc-1")

    with pytest.raises(ConsentRequired):
        service.modify("acc-1", signature_jpeg(2), auth=cps, consent=False)

    assert snapshot(service, "acc-1") == before


def test_modify_engine_error_keeps_previous(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    before = snapshot(service, "acc-1")

    with pytest.raises(SignatureEngineError):
        service.modify("acc-1", b"\x89PNG\r\n\x1a\n broken", auth=cps, consent=True)

    assert snapshot(service, "acc-1") == before


# -- delete ------------------------------------------------------------------------


@pytest.mark.parametrize("confirm", [False, None, "true"])
def test_delete_without_confirmation_rejected(service, cps, signature_jpeg, confirm):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    before = snapshot(service, "acc-1")

    with pytest.raises(ConfirmationRequired) as caught:
        service.delete("acc-1", auth=cps, confirm=confirm)

    assert caught.value.code == "confirmation_required"
    assert snapshot(service, "acc-1") == before


def test_delete_removes_signature(service, cps, signature_jpeg):
    stored = service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    event = service.delete("acc-1", auth=cps, confirm=True)

    assert event.event_type == "signature_deleted"
    assert event.image_sha256 == stored.image_sha256
    assert service.signature_for_document("acc-1", auth=cps) is None
    with pytest.raises(SignatureNotFound):
        service.read("acc-1", auth=cps)


def test_delete_without_signature_rejected(service, cps):
    with pytest.raises(SignatureNotFound):
        service.delete("acc-1", auth=cps, confirm=True)

    assert count_rows(service) == {"accounts": 0, "signatures": 0, "events": 0}


def test_delete_then_add_again(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    service.delete("acc-1", auth=cps, confirm=True)

    stored = service.add("acc-1", signature_jpeg(2), auth=cps, consent=True)

    types = [e.event_type for e in service.history("acc-1", auth=cps).events]
    assert service.read("acc-1", auth=cps) == stored
    assert types == ["signature_added", "signature_deleted", "signature_added"]


# -- read and documents ------------------------------------------------------------------


def test_read_missing_signature_rejected(service, cps):
    with pytest.raises(SignatureNotFound):
        service.read("acc-1", auth=cps)


def test_read_saved_at_shown_in_paris_time(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    stored = service.read("acc-1", auth=cps)

    assert stored.saved_at == datetime(2025, 6, 27, 11, 27, 5, 123456, tzinfo=UTC)
    assert stored.saved_at_display("fr") == "enregistrée le 27/06/2025 à 13h27"
    assert stored.saved_at_display("en") == "saved on 27/06/2025 at 13:27"


def test_read_saved_at_winter_time(service, cps, signature_jpeg, clock):
    clock.now = datetime(2025, 1, 15, 23, 5, tzinfo=UTC)
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    stored = service.read("acc-1", auth=cps)

    # 23:05 UTC in January is 00:05 the next day in Paris (UTC+1).
    assert stored.saved_at_display("fr") == "enregistrée le 16/01/2025 à 00h05"


def test_read_saved_at_stored_as_utc(service, cps, signature_jpeg, database_url):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    with service.database.engine.connect() as connection:
        raw = connection.execute(text("SELECT saved_at FROM signatures")).scalar_one()

    if database_url.startswith("sqlite"):
        assert str(raw).startswith("2025-06-27 11:27:05.123456")
    else:
        assert raw.utcoffset().total_seconds() == 0 or raw == datetime(
            2025, 6, 27, 11, 27, 5, 123456, tzinfo=UTC
        )


def test_document_signature_returned(service, cps, signature_jpeg):
    stored = service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    document_signature = service.signature_for_document("acc-1", auth=cps)

    assert document_signature is not None
    assert document_signature.image_png == stored.image_png


def test_document_signature_absent_is_none(service, cps):
    assert service.signature_for_document("acc-1", auth=cps) is None


def test_accounts_are_independent(service, cps, ecps, signature_jpeg):
    first = service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    service.add("acc-2", signature_jpeg(2), auth=ecps, consent=True)

    service.delete("acc-2", auth=ecps, confirm=True)

    assert service.read("acc-1", auth=cps) == first
    assert service.signature_for_document("acc-2", auth=ecps) is None
