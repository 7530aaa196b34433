"""Pure helpers of the service: display texts, auth rule, request parsing, cursors, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.errors import InvalidAdjustment
from engine.service import AuthContext, InvalidAuthContext, InvalidRequest, StrongAuthRequired
from engine.service.api import parse_crop
from engine.service.auth import require_strong_auth, validate_account_id
from engine.service.config import database_url_from_env, default_workers, display_url
from engine.service.display import event_label, format_event_time, format_saved_at, to_utc_iso
from engine.service.errors import ConsentRequired, SignatureExists
from engine.service.middleware import ApiToken
from engine.service.service import sanitize_filename
from engine.service.values import decode_cursor, encode_cursor, png_size

# -- display -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "french", "english"),
    [
        (
            datetime(2025, 6, 27, 11, 27, tzinfo=UTC),
            "enregistrée le 27/06/2025 à 13h27",
            "saved on 27/06/2025 at 13:27",
        ),
        (
            datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
            "enregistrée le 01/01/2026 à 00h30",
            "saved on 01/01/2026 at 00:30",
        ),
        # Daylight saving time starts at 01:00 UTC on 30 March 2025.
        (
            datetime(2025, 3, 30, 0, 59, tzinfo=UTC),
            "enregistrée le 30/03/2025 à 01h59",
            "saved on 30/03/2025 at 01:59",
        ),
        (
            datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
            "enregistrée le 30/03/2025 à 03h00",
            "saved on 30/03/2025 at 03:00",
        ),
    ],
)
def test_saved_at_text(moment, french, english):
    assert format_saved_at(moment, "fr") == french
    assert format_saved_at(moment, "en") == english
    assert format_saved_at(moment) == french


def test_saved_at_other_offset_converted():
    moment = datetime(2025, 6, 27, 7, 27, tzinfo=timezone(timedelta(hours=-4)))

    assert format_saved_at(moment) == "enregistrée le 27/06/2025 à 13h27"


def test_saved_at_naive_rejected():
    with pytest.raises(ValueError, match="aware"):
        format_saved_at(datetime(2025, 6, 27, 11, 27))


def test_event_time_text():
    assert format_event_time(datetime(2025, 6, 27, 12, 15, tzinfo=UTC)) == "27/06/2025 - 14:15"
    assert format_event_time(datetime(2025, 1, 5, 8, 0, tzinfo=UTC)) == "05/01/2025 - 09:00"


@pytest.mark.parametrize(
    ("event_type", "french", "english"),
    [
        ("signature_added", "Enregistrement de la signature", "Signature saved"),
        ("signature_modified", "Modification de la signature", "Signature modified"),
        ("signature_deleted", "Suppression de la signature", "Signature deleted"),
    ],
)
def test_event_labels(event_type, french, english):
    assert event_label(event_type) == french
    assert event_label(event_type, "en-GB") == english
    assert event_label(event_type, "de") == french


def test_utc_iso_text():
    moment = datetime(2025, 6, 27, 13, 27, 5, 120, tzinfo=timezone(timedelta(hours=2)))

    assert to_utc_iso(moment) == "2025-06-27T11:27:05.000120Z"


# -- errors ------------------------------------------------------------------------


def test_error_messages_bilingual():
    french = ConsentRequired().message()
    english = ConsentRequired().message("en")

    assert french != english
    assert "consentement" in french
    assert "consent" in english
    assert ConsentRequired().to_dict("en") == {"code": "consent_required", "message": english}
    assert SignatureExists().http_status == 409


def test_strong_auth_message_names_method():
    error = StrongAuthRequired("password")

    assert "password" in error.message()
    assert "aucune" in StrongAuthRequired(None).message()
    assert "none" in StrongAuthRequired(None).message("en")


# -- authentication rule -------------------------------------------------------------


@pytest.mark.parametrize("method", ["cps", "e-cps", "CPS", "E-CPS", " cps "])
def test_strong_methods_accepted(method):
    auth = require_strong_auth(AuthContext(method, "actor-1", "session-1"))

    assert auth.auth_method in {"cps", "e-cps"}


@pytest.mark.parametrize(
    "method", ["password", "sms", "ecps", "e-cps2", "cps e-cps", "", None, "<script>"]
)
def test_weak_methods_rejected(method):
    with pytest.raises(StrongAuthRequired):
        require_strong_auth(AuthContext(method, "actor-1", "session-1"))


def test_weak_method_echo_sanitised():
    with pytest.raises(StrongAuthRequired) as caught:
        require_strong_auth(AuthContext("<b>x</b>", "actor-1", "session-1"))

    assert "<" not in caught.value.message()


@pytest.mark.parametrize(
    ("actor", "session"), [("a b", "s"), ("a", "s\n"), ("a", "x" * 129), (None, "s")]
)
def test_auth_context_ids_checked(actor, session):
    with pytest.raises(InvalidAuthContext):
        require_strong_auth(AuthContext("cps", actor, session))


@pytest.mark.parametrize(
    "account_id", ["acc-1", "7f3c2a9e-1b2d-4c5e-8f90-123456789abc", "A", "x" * 128, "rpps:10003"]
)
def test_account_ids_accepted(account_id):
    assert validate_account_id(account_id) == account_id


@pytest.mark.parametrize("account_id", ["", ".hidden", "a b", "x" * 129, "jean@example.org", None])
def test_account_ids_rejected(account_id):
    with pytest.raises(InvalidRequest):
        validate_account_id(account_id)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer secret-token-0123456789", True),
        ("bearer secret-token-0123456789", True),
        ("Bearer  secret-token-0123456789 ", True),
        ("Bearer secret-token-012345678", False),
        ("Bearer secret-token-01234567890", False),
        ("Basic secret-token-0123456789", False),
        ("secret-token-0123456789", False),
        ("", False),
        (None, False),
    ],
)
def test_api_token_matching(header, expected):
    assert ApiToken("secret-token-0123456789").matches(header) is expected


# -- request parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10,20,300,200", (10, 20, 300, 200)),
        ("[10, 20, 300, 200]", (10, 20, 300, 200)),
        ("10.4,20.6,300,200", (10, 21, 300, 200)),
        ("", None),
        (None, None),
        ("   ", None),
    ],
)
def test_crop_parsed(text, expected):
    assert parse_crop(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "10,20,300",
        "a,b,c,d",
        "[1,2,3]",
        "[1,2,3,null]",
        "1,2,3,inf",
        "{}",
        "[[1,2,3,4]]",
        "[1" + "0" * 400 + ", 1, 1, 1]",
        "1" + "0" * 400 + ",1,1,1",
    ],
)
def test_crop_malformed_rejected(text):
    with pytest.raises(InvalidAdjustment):
        parse_crop(text)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("C:\\fakepath\\photo.jpg", "photo.jpg"),
        ("/home/user/photo.jpg", "photo.jpg"),
        ("pho\x00to\n.jpg", "photo.jpg"),
        ("", None),
        (None, None),
        ("x" * 300 + ".jpg", "x" * 255),
    ],
)
def test_filename_sanitised(name, expected):
    assert sanitize_filename(name) == expected


def test_cursor_round_trip():
    assert decode_cursor(encode_cursor(42)) == 42


def test_png_size_read_from_header():
    header = (
        b"\x89PNG\r\n\x1a\n"
        + b"\x00\x00\x00\rIHDR"
        + (640).to_bytes(4, "big")
        + (280).to_bytes(4, "big")
    )

    assert png_size(header) == (640, 280)
    assert png_size(b"not a png") == (0, 0)


# -- settings ----------------------------------------------------------------------


def test_database_url_default_is_sqlite_in_cwd(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    url = database_url_from_env({})

    assert url == f"sqlite:///{Path(tmp_path) / 'signature-engine.sqlite3'}"


def test_database_url_from_environment():
    url = "postgresql+psycopg://app@db.internal:5432/signatures"

    assert database_url_from_env({"SIGNATURE_ENGINE_DATABASE_URL": url}) == url


def test_display_url_hides_password():
    masked = display_url("postgresql+psycopg://app:s3cret@db.internal/signatures")

    assert "s3cret" not in masked
    assert "app:***@db.internal" in masked


def test_workers_setting():
    assert default_workers({"SIGNATURE_ENGINE_WORKERS": "3"}) == 3
    assert 1 <= default_workers({}) <= 4
    with pytest.raises(ValueError):
        default_workers({"SIGNATURE_ENGINE_WORKERS": "0"})
