"""Structured log lines: one per lifecycle event and per rejected request, never personal data."""

from __future__ import annotations

import base64
import logging

import pytest
from fastapi.testclient import TestClient
from service_testing import API_TOKEN, auth_headers

from engine.errors import SignatureEngineError
from engine.service import AuthContext, InvalidRequest, SignatureNotFound
from engine.service.api import MULTIPART_OVERHEAD_BYTES, create_app, upload_limit_bytes
from engine.service.logs import ALLOWED_FIELDS, JsonLineFormatter, log_service_event

# A file name that carries a person's name: personal data that must never be logged.
PERSONAL_FILENAME = "Signature de Jeanne Martin-Dupuis.jpg"
PERSONAL_WORDS = ("Jeanne", "Martin", "Dupuis")


def assert_no_personal_data(lines: list[str], *, secrets: tuple[bytes, ...] = ()) -> None:
    text = "\n".join(lines)
    for word in PERSONAL_WORDS:
        assert word not in text
    assert API_TOKEN not in text
    for secret in secrets:
        assert base64.b64encode(secret[:48]).decode("ascii") not in text
        assert secret[:48].hex() not in text


def test_lifecycle_one_line_each(service, cps, signature_jpeg, service_logs):
    stored = service.add(
        "acc-1", signature_jpeg(1), auth=cps, consent=True, filename=PERSONAL_FILENAME
    )
    service.modify("acc-1", signature_jpeg(2), auth=cps, consent=True, filename=PERSONAL_FILENAME)
    service.delete("acc-1", auth=cps, confirm=True)

    entries = service_logs.entries

    assert [e["event"] for e in entries] == [
        "signature_added",
        "signature_modified",
        "signature_deleted",
    ]
    assert entries[0]["account_id"] == "acc-1"
    assert entries[0]["actor_id"] == "actor-1"
    assert entries[0]["session_id"] == "session-1"
    assert entries[0]["auth_method"] == "cps"
    assert entries[0]["image_sha256"] == stored.image_sha256
    assert [e["event_id"] for e in entries] == [
        e.id for e in reversed(service.history("acc-1", auth=cps).events)
    ]


def test_lifecycle_lines_carry_no_personal_data(service, cps, signature_jpeg, service_logs):
    stored = service.add(
        "acc-1", signature_jpeg(1), auth=cps, consent=True, filename=PERSONAL_FILENAME
    )
    service.read("acc-1", auth=cps)

    assert_no_personal_data(service_logs.lines, secrets=(signature_jpeg(1), stored.image_png))


def test_rejections_one_line_each(service, cps, signature_jpeg, service_logs):
    weak = AuthContext("password", "actor-1", "session-1")
    calls = [
        (
            lambda: service.add("acc-1", signature_jpeg(1), auth=cps, consent=False),
            "consent_required",
        ),
        (
            lambda: service.add("acc-1", signature_jpeg(1), auth=weak, consent=True),
            "strong_auth_required",
        ),
        (
            lambda: service.modify("acc-1", signature_jpeg(1), auth=cps, consent=True),
            "signature_not_found",
        ),
        (lambda: service.delete("acc-1", auth=cps, confirm=False), "confirmation_required"),
        (
            lambda: service.add("acc-1", b"", auth=cps, consent=True, filename=PERSONAL_FILENAME),
            "empty_file",
        ),
    ]

    for call, code in calls:
        service_logs.clear()
        with pytest.raises(SignatureEngineError):
            call()

        entries = service_logs.entries
        assert len(entries) == 1, code
        assert entries[0]["event"] == "request_rejected"
        assert entries[0]["code"] == code
        assert entries[0]["account_id"] == "acc-1"


def test_rejected_lines_drop_malformed_ids(service, signature_jpeg, service_logs):
    auth = AuthContext("cps", "jeanne.martin@example.org", "session-1")

    with pytest.raises(InvalidRequest):
        service.add("Jeanne Martin", signature_jpeg(1), auth=auth, consent=True)

    entry = service_logs.entries[0]
    assert "account_id" not in entry
    assert "actor_id" not in entry
    assert_no_personal_data(service_logs.lines)


def test_log_fields_limited_to_allowed(service, cps, signature_jpeg, service_logs):
    service.add("acc-1", signature_jpeg(0), auth=cps, consent=True, filename=PERSONAL_FILENAME)
    with pytest.raises(SignatureNotFound):
        service.read("acc-2", auth=cps)

    for entry in service_logs.entries:
        assert set(entry) <= ALLOWED_FIELDS


def test_log_unknown_field_rejected():
    with pytest.raises(ValueError, match="file_name"):
        log_service_event("signature_added", file_name=PERSONAL_FILENAME)


def test_json_formatter_single_line_with_traceback():
    formatter = JsonLineFormatter()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "engine.service", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )

    line = formatter.format(record)

    assert "\n" not in line
    assert '"exception"' in line


# -- through the API -------------------------------------------------------------------


@pytest.fixture
def client(service):
    with TestClient(
        create_app(service, api_token=API_TOKEN), raise_server_exceptions=False
    ) as test_client:
        yield test_client


def post_signature(client: TestClient, content: bytes, headers: dict[str, str], **data: str):
    return client.post(
        "/v1/accounts/acc-1/signature",
        headers=headers,
        files={"file": (PERSONAL_FILENAME, content, "image/jpeg")},
        data={"consent": "true", **data},
    )


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("no_token", "unauthorized"),
        ("weak_auth", "strong_auth_required"),
        ("no_consent", "consent_required"),
        ("bad_rotation", "invalid_request"),
        ("bad_crop", "invalid_adjustment"),
        ("empty_file", "empty_file"),
        ("too_large", "file_too_large"),
    ],
)
def test_api_rejection_one_line(client, signature_jpeg, service_logs, case, code):
    headers = auth_headers()
    content = signature_jpeg(1)
    data: dict[str, str] = {}
    if case == "no_token":
        del headers["Authorization"]
    elif case == "weak_auth":
        headers["X-Auth-Method"] = "password"
    elif case == "no_consent":
        data["consent"] = "false"
    elif case == "bad_rotation":
        data["rotation"] = "Jeanne"
    elif case == "bad_crop":
        data["crop"] = "Jeanne,Martin"
    elif case == "empty_file":
        content = b""
    elif case == "too_large":
        content = bytes(upload_limit_bytes() + MULTIPART_OVERHEAD_BYTES)

    response = post_signature(client, content, headers, **data)

    entries = service_logs.entries
    assert response.json()["code"] == code
    assert len(entries) == 1
    assert entries[0]["event"] == "request_rejected"
    assert entries[0]["code"] == code
    assert entries[0]["http_status"] == response.status_code
    assert_no_personal_data(service_logs.lines, secrets=(content,) if content else ())


def test_api_lifecycle_lines_no_personal_data(client, signature_jpeg, service_logs):
    added = post_signature(client, signature_jpeg(1), auth_headers())
    client.get("/v1/accounts/acc-1/signature", headers=auth_headers())
    client.get("/v1/accounts/acc-1/signature.png", headers=auth_headers())
    client.delete(
        "/v1/accounts/acc-1/signature", headers=auth_headers(), params={"confirm": "true"}
    )

    image = base64.b64decode(
        client.post(
            "/v1/accounts/acc-1/signature/preview",
            headers=auth_headers(),
            files={"file": (PERSONAL_FILENAME, signature_jpeg(1), "image/jpeg")},
        ).json()["image_png_base64"]
    )

    assert added.json()["file_name"] == PERSONAL_FILENAME
    assert [e["event"] for e in service_logs.entries] == ["signature_added", "signature_deleted"]
    assert_no_personal_data(service_logs.lines, secrets=(signature_jpeg(1), image))
