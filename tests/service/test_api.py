"""The HTTP API in process (FastAPI TestClient), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from service_testing import API_TOKEN, auth_headers

from engine.service import Database, SignatureService
from engine.service.api import MULTIPART_OVERHEAD_BYTES, create_app, upload_limit_bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SIGNATURE_URL = "/v1/accounts/acc-1/signature"


@pytest.fixture
def client(service) -> Iterator[TestClient]:
    """A client of the API on each database kind."""
    app = create_app(service, api_token=API_TOKEN)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def sqlite_client(sqlite_service) -> Iterator[TestClient]:
    """A client of the API on SQLite only, for checks that never reach the stored data."""
    app = create_app(sqlite_service, api_token=API_TOKEN)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def upload(content: bytes, name: str = "signature.jpg") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, "image/jpeg")}


def add(client: TestClient, content: bytes, account: str = "acc-1", **fields: str):
    return client.post(
        f"/v1/accounts/{account}/signature",
        headers=auth_headers(),
        files=upload(content),
        data={"consent": "true", **fields},
    )


def state(client: TestClient, account: str = "acc-1") -> tuple[int, str | None, int]:
    """Return (status of GET signature, its image hash, number of events) for an account."""
    read = client.get(f"/v1/accounts/{account}/signature", headers=auth_headers())
    events = client.get(
        f"/v1/accounts/{account}/events", headers=auth_headers(), params={"limit": 100}
    )
    return read.status_code, read.json().get("image_sha256"), len(events.json()["events"])


# -- lifecycle ---------------------------------------------------------------------


def test_preview_returns_png_and_record(client, signature_jpeg):
    response = client.post(
        SIGNATURE_URL + "/preview",
        headers=auth_headers(),
        files=upload(signature_jpeg(1)),
        data={"rotation": "2.5"},
    )

    body = response.json()
    png = base64.b64decode(body["image_png_base64"])
    assert response.status_code == 200
    assert png.startswith(PNG_SIGNATURE)
    assert body["image_sha256"] == hashlib.sha256(png).hexdigest()
    assert body["record"]["manual"]["rotation"] == 2.5
    assert len(body["record"]["crop_box"]) == 4
    assert state(client)[0] == 404


@pytest.mark.parametrize(
    "crop", ["40,40,300,200", "[40, 40, 300, 200]", " 40, 40 ,300,200 ", "[40.4, 40, 300, 199.6]"]
)
def test_preview_crop_formats_accepted(sqlite_client, signature_jpeg, crop):
    response = sqlite_client.post(
        SIGNATURE_URL + "/preview",
        headers=auth_headers(),
        files=upload(signature_jpeg(1)),
        data={"crop": crop},
    )

    assert response.status_code == 200
    assert response.json()["record"]["manual"]["crop"] == [40, 40, 300, 200]


@pytest.mark.parametrize(
    "crop", ["a,b,c,d", "1,2,3", "[1,2,3,4,5]", '{"x": 1}', "[1, true, 3, 4]", "1,2,3,nan"]
)
def test_preview_malformed_crop_rejected(sqlite_client, signature_jpeg, crop):
    response = sqlite_client.post(
        SIGNATURE_URL + "/preview",
        headers=auth_headers(),
        files=upload(signature_jpeg(1)),
        data={"crop": crop},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_adjustment"


def test_add_returns_201_with_metadata(client, signature_jpeg):
    response = add(client, signature_jpeg(1))

    body = response.json()
    assert response.status_code == 201
    assert response.headers["location"] == SIGNATURE_URL
    assert body["file_name"] == "signature.jpg"
    assert body["saved_at"] == "2025-06-27T11:27:05.123456Z"
    assert body["saved_at_display"] == "enregistrée le 27/06/2025 à 13h27"
    assert body["upload_sha256"] == hashlib.sha256(signature_jpeg(1)).hexdigest()


def test_read_metadata_and_image(client, signature_jpeg):
    added = add(client, signature_jpeg(1)).json()

    metadata = client.get(SIGNATURE_URL, headers=auth_headers())
    image = client.get(SIGNATURE_URL + ".png", headers=auth_headers())

    assert metadata.status_code == 200
    assert metadata.json() == added
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert hashlib.sha256(image.content).hexdigest() == added["image_sha256"]
    assert "no-store" in image.headers["cache-control"]


def test_read_metadata_english(client, signature_jpeg):
    add(client, signature_jpeg(0))

    body = client.get(
        SIGNATURE_URL, headers={**auth_headers(), "Accept-Language": "en-GB,en;q=0.9"}
    ).json()

    assert body["saved_at_display"] == "saved on 27/06/2025 at 13:27"
    assert body["warnings"] == body["record"]["warnings"]
    assert body["warnings"][0]["message"].isascii()


def test_modify_replaces_signature(client, signature_jpeg):
    first = add(client, signature_jpeg(1)).json()

    response = client.put(
        SIGNATURE_URL,
        headers=auth_headers(),
        files=upload(signature_jpeg(2), "new.jpg"),
        data={"consent": "true"},
    )

    assert response.status_code == 200
    assert response.json()["image_sha256"] != first["image_sha256"]
    assert response.json()["file_name"] == "new.jpg"
    assert state(client) == (200, response.json()["image_sha256"], 2)


def test_delete_lifecycle(client, signature_jpeg):
    add(client, signature_jpeg(1))

    unconfirmed = client.delete(SIGNATURE_URL, headers=auth_headers())
    declined = client.delete(SIGNATURE_URL, headers=auth_headers(), params={"confirm": "false"})
    confirmed = client.delete(SIGNATURE_URL, headers=auth_headers(), params={"confirm": "true"})
    again = client.delete(SIGNATURE_URL, headers=auth_headers(), params={"confirm": "true"})

    assert unconfirmed.status_code == 400
    assert unconfirmed.json()["code"] == "confirmation_required"
    assert declined.json()["code"] == "confirmation_required"
    assert confirmed.status_code == 204
    assert confirmed.content == b""
    assert again.status_code == 404
    assert again.json()["code"] == "signature_not_found"
    assert state(client)[0] == 404


def test_events_listed_newest_first_and_paged(client, signature_jpeg):
    add(client, signature_jpeg(1))
    client.put(
        SIGNATURE_URL,
        headers=auth_headers(),
        files=upload(signature_jpeg(2)),
        data={"consent": "true"},
    )
    client.delete(SIGNATURE_URL, headers=auth_headers(), params={"confirm": "true"})

    first = client.get(
        "/v1/accounts/acc-1/events", headers=auth_headers(), params={"limit": 2}
    ).json()
    second = client.get(
        "/v1/accounts/acc-1/events",
        headers=auth_headers(),
        params={"limit": 2, "cursor": first["next_cursor"]},
    ).json()

    assert [e["type"] for e in first["events"]] == ["signature_deleted", "signature_modified"]
    assert [e["label"] for e in first["events"]] == [
        "Suppression de la signature",
        "Modification de la signature",
    ]
    assert first["events"][0]["occurred_at_display"] == "27/06/2025 - 13:27"
    assert [e["type"] for e in second["events"]] == ["signature_added"]
    assert second["next_cursor"] is None


def test_events_english_labels(client, signature_jpeg):
    add(client, signature_jpeg(1))

    body = client.get(
        "/v1/accounts/acc-1/events", headers={**auth_headers(), "Accept-Language": "en"}
    ).json()

    assert body["events"][0]["label"] == "Signature saved"


def test_health_without_token(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


# -- rules -------------------------------------------------------------------------


def test_add_without_consent_rejected(client, signature_jpeg):
    missing = client.post(SIGNATURE_URL, headers=auth_headers(), files=upload(signature_jpeg(1)))
    declined = client.post(
        SIGNATURE_URL,
        headers=auth_headers(),
        files=upload(signature_jpeg(1)),
        data={"consent": "false"},
    )

    assert missing.status_code == 400
    assert missing.json()["code"] == "consent_required"
    assert declined.json()["code"] == "consent_required"
    assert state(client) == (404, None, 0)


def test_add_twice_conflict(client, signature_jpeg):
    first = add(client, signature_jpeg(1)).json()

    second = add(client, signature_jpeg(2))

    assert second.status_code == 409
    assert second.json()["code"] == "signature_exists"
    assert state(client) == (200, first["image_sha256"], 1)


def test_modify_missing_signature_not_found(client, signature_jpeg):
    response = client.put(
        SIGNATURE_URL,
        headers=auth_headers(),
        files=upload(signature_jpeg(1)),
        data={"consent": "true"},
    )

    assert response.status_code == 404
    assert response.json()["code"] == "signature_not_found"


# -- authentication ----------------------------------------------------------------


ROUTES = [
    ("POST", SIGNATURE_URL + "/preview"),
    ("POST", SIGNATURE_URL),
    ("PUT", SIGNATURE_URL),
    ("DELETE", SIGNATURE_URL + "?confirm=true"),
    ("GET", SIGNATURE_URL),
    ("GET", SIGNATURE_URL + ".png"),
    ("GET", "/v1/accounts/acc-1/events"),
]


def send(client: TestClient, method: str, url: str, headers: dict[str, str], content: bytes):
    if method in ("POST", "PUT"):
        return client.request(
            method, url, headers=headers, files=upload(content), data={"consent": "true"}
        )
    return client.request(method, url, headers=headers)


@pytest.mark.parametrize(("method", "url"), ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0123456789", f"Basic {API_TOKEN}", f"Bearer {API_TOKEN}x", "Bearer"],
)
def test_routes_bad_token_401(sqlite_client, signature_jpeg, method, url, authorization):
    headers = auth_headers()
    del headers["Authorization"]
    if authorization is not None:
        headers["Authorization"] = authorization

    response = send(sqlite_client, method, url, headers, signature_jpeg(1))

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_routes_weak_auth_403(client, signature_jpeg, method, url):
    add(client, signature_jpeg(1))
    before = state(client)

    response = send(client, method, url, auth_headers(method="password"), signature_jpeg(2))

    assert response.status_code == 403
    assert response.json()["code"] == "strong_auth_required"
    assert state(client) == before


def test_missing_auth_method_403(sqlite_client):
    headers = auth_headers()
    del headers["X-Auth-Method"]

    response = sqlite_client.get(SIGNATURE_URL, headers=headers)

    assert response.status_code == 403
    assert response.json()["code"] == "strong_auth_required"


@pytest.mark.parametrize("header", ["X-Actor-Id", "X-Session-Id"])
def test_missing_actor_or_session_400(sqlite_client, header):
    headers = auth_headers()
    del headers[header]

    response = sqlite_client.get(SIGNATURE_URL, headers=headers)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_auth_context"


def test_ecps_accepted(client, signature_jpeg):
    response = client.post(
        SIGNATURE_URL,
        headers=auth_headers(method="e-cps"),
        files=upload(signature_jpeg(1)),
        data={"consent": "true"},
    )

    assert response.status_code == 201


# -- errors ------------------------------------------------------------------------


def test_errors_french_by_default_english_on_request(sqlite_client):
    french = sqlite_client.get(SIGNATURE_URL, headers=auth_headers())
    english = sqlite_client.get(
        SIGNATURE_URL, headers={**auth_headers(), "Accept-Language": "en-US"}
    )

    assert french.json()["message"].startswith("Aucune signature")
    assert english.json()["message"].startswith("No signature")


@pytest.mark.parametrize(
    ("request_kwargs", "field"),
    [
        ({"data": {"consent": "true"}}, "file"),
        (
            {"files": {"file": ("a.jpg", b"x", "image/jpeg")}, "data": {"rotation": "abc"}},
            "rotation",
        ),
        (
            {"files": {"file": ("a.jpg", b"x", "image/jpeg")}, "data": {"consent": "maybe"}},
            "consent",
        ),
        ({"content": b'{"file": "x"}', "headers": {"Content-Type": "application/json"}}, "file"),
    ],
)
def test_validation_errors_invalid_request(sqlite_client, request_kwargs, field):
    headers = {**auth_headers(), **request_kwargs.pop("headers", {})}

    response = sqlite_client.post(SIGNATURE_URL, headers=headers, **request_kwargs)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert field in response.json()["message"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"cursor": "x" * 65},
    ],
)
def test_events_bad_paging_invalid_request(sqlite_client, params):
    response = sqlite_client.get("/v1/accounts/acc-1/events", headers=auth_headers(), params=params)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


@pytest.mark.parametrize("account", ["bad%20id", "-dash", "%C3%A9t%C3%A9", "a" * 129])
def test_malformed_account_id_invalid_request(sqlite_client, account):
    response = sqlite_client.get(f"/v1/accounts/{account}/signature", headers=auth_headers())

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


def test_unknown_route_not_found_json(sqlite_client):
    response = sqlite_client.get("/v1/nothing-here", headers=auth_headers())

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_wrong_method_json(sqlite_client):
    response = sqlite_client.patch(SIGNATURE_URL, headers=auth_headers())

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_malformed_multipart_invalid_request(sqlite_client):
    headers = {**auth_headers(), "Content-Type": "multipart/form-data; boundary=xyz"}

    response = sqlite_client.post(SIGNATURE_URL, headers=headers, content=b"--xyz\r\nbroken")

    assert 400 <= response.status_code < 500
    assert response.json()["code"] == "invalid_request"


def test_body_over_cap_413(client):
    too_big = b"\xff\xd8\xff" + bytes(upload_limit_bytes() + MULTIPART_OVERHEAD_BYTES)

    response = client.post(
        SIGNATURE_URL, headers=auth_headers(), files=upload(too_big), data={"consent": "true"}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert state(client) == (404, None, 0)


def test_file_over_limit_under_cap_413(sqlite_client):
    # A body inside the cap, but a file one byte over the engine's limit.
    too_big = b"\xff\xd8\xff" + bytes(upload_limit_bytes() - 2)

    response = sqlite_client.post(
        SIGNATURE_URL, headers=auth_headers(), files=upload(too_big), data={"consent": "true"}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"


# -- the shared hostile inputs -------------------------------------------------------


def test_rejected_cases_modify_keeps_signature(client, signature_jpeg, rejected_cases):
    stored = add(client, signature_jpeg(1)).json()

    for case in rejected_cases:
        content = case["path"].read_bytes()
        response = client.put(
            SIGNATURE_URL,
            headers=auth_headers(),
            files=upload(content, case["path"].name),
            data={"consent": "true"},
        )

        assert 400 <= response.status_code < 500, case["file"]
        assert response.json()["code"] == case["expected_code"], case["file"]
        assert state(client) == (200, stored["image_sha256"], 1), case["file"]


def test_rejected_cases_add_stores_nothing(client, rejected_cases):
    for case in rejected_cases:
        content = case["path"].read_bytes()

        response = client.post(
            "/v1/accounts/acc-new/signature",
            headers=auth_headers(),
            files=upload(content, case["path"].name),
            data={"consent": "true"},
        )

        assert 400 <= response.status_code < 500, case["file"]
        assert response.json()["code"] == case["expected_code"], case["file"]
        assert state(client, "acc-new") == (404, None, 0), case["file"]


def test_real_photo_accepted(client, orient_1_jpeg):
    response = client.post(
        SIGNATURE_URL,
        headers=auth_headers(),
        files=upload(orient_1_jpeg, "orient_1.jpg"),
        data={"consent": "true"},
    )

    assert response.status_code == 201
    assert response.json()["record"]["input"]["width"] == 1000


def test_health_database_down_503(tmp_path):
    # The parent folder does not exist, so SQLite cannot open the file.
    database = Database(f"sqlite:///{tmp_path / 'missing-folder' / 'service.sqlite3'}")
    with (
        SignatureService(database, workers=1) as service,
        TestClient(create_app(service, api_token=API_TOKEN)) as client,
    ):
        response = client.get("/healthz", headers={"Accept-Language": "en"})

    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"


def test_events_page_size_out_of_range_states_bound(sqlite_client):
    response = sqlite_client.get("/v1/accounts/acc-1/events?limit=1000", headers=auth_headers())
    assert response.status_code == 422
    assert "au plus" in response.json()["message"]
