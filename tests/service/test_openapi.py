"""The OpenAPI document matches the routes, status codes and error body the API really has."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_testing import API_TOKEN, auth_headers

from engine.service.api import build_router, create_app

SIGNATURE = "/v1/accounts/{account_id}/signature"

# Route -> documented status codes. Changing a route's behaviour means changing this table.
EXPECTED_RESPONSES: dict[tuple[str, str], set[str]] = {
    ("post", SIGNATURE + "/preview"): {"200", "400", "401", "403", "413", "415", "422", "500"},
    ("post", SIGNATURE): {"201", "400", "401", "403", "409", "413", "415", "422", "500"},
    ("put", SIGNATURE): {"200", "400", "401", "403", "404", "413", "415", "422", "500"},
    ("delete", SIGNATURE): {"204", "400", "401", "403", "404", "413", "422", "500"},
    ("get", SIGNATURE): {"200", "400", "401", "403", "404", "413", "422", "500"},
    ("get", SIGNATURE + ".png"): {"200", "400", "401", "403", "404", "413", "422", "500"},
    ("get", "/v1/accounts/{account_id}/events"): {"200", "400", "401", "403", "413", "422", "500"},
    ("get", "/healthz"): {"200", "503"},
}
HTTP_METHODS = {"get", "post", "put", "delete", "patch", "head", "options"}


@pytest.fixture
def client(sqlite_service) -> Iterator[TestClient]:
    with TestClient(
        create_app(sqlite_service, api_token=API_TOKEN), raise_server_exceptions=False
    ) as test_client:
        yield test_client


@pytest.fixture
def openapi(client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_openapi_lists_exactly_the_routes(openapi):
    assert set(operations(openapi)) == set(EXPECTED_RESPONSES)


def test_openapi_matches_router(openapi):
    routes = {
        (method.lower(), route.path) for route in build_router().routes for method in route.methods
    }

    assert routes | {("get", "/healthz")} == set(operations(openapi))


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED_RESPONSES))
def test_documented_routes_exist(client, method, path):
    response = client.request(
        method.upper(), path.replace("{account_id}", "acc-1"), headers=auth_headers()
    )

    assert (
        response.status_code not in (404, 405) or response.json()["code"] == "signature_not_found"
    )


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED_RESPONSES))
def test_openapi_status_codes(openapi, method, path):
    documented = set(operations(openapi)[(method, path)]["responses"])

    assert documented == EXPECTED_RESPONSES[(method, path)]


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED_RESPONSES))
def test_openapi_errors_use_error_schema(openapi, method, path):
    responses = operations(openapi)[(method, path)]["responses"]

    for status, response in responses.items():
        if int(status) < 400:
            continue
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, status


def test_openapi_error_schema_shape(openapi):
    schema = openapi["components"]["schemas"]["ErrorResponse"]

    assert set(schema["required"]) == {"code", "message"}
    assert schema["properties"]["code"]["type"] == "string"
    assert schema["properties"]["message"]["type"] == "string"
    assert "HTTPValidationError" not in openapi["components"]["schemas"]


def test_openapi_bearer_on_v1_routes_only(openapi):
    schemes = openapi["components"]["securitySchemes"]

    for (method, path), operation in operations(openapi).items():
        secured = bool(operation.get("security"))
        assert secured == path.startswith("/v1/"), (method, path)
    assert any(scheme["scheme"].lower() == "bearer" for scheme in schemes.values())


@pytest.mark.parametrize(
    ("method", "path"), [key for key in sorted(EXPECTED_RESPONSES) if key[1].startswith("/v1/")]
)
def test_openapi_auth_headers_documented(openapi, method, path):
    parameters = {
        p["name"].lower()
        for p in operations(openapi)[(method, path)]["parameters"]
        if p["in"] == "header"
    }

    assert {"x-auth-method", "x-actor-id", "x-session-id"} <= parameters


@pytest.mark.parametrize("method", ["post", "put"])
def test_openapi_upload_fields(openapi, method):
    operation = operations(openapi)[(method, SIGNATURE)]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    fields = resolve(openapi, body)

    assert set(fields["properties"]) == {"file", "crop", "rotation", "consent"}
    assert fields["required"] == ["file"]


def test_openapi_success_bodies(openapi):
    ops = operations(openapi)

    assert "image/png" in ops[("get", SIGNATURE + ".png")]["responses"]["200"]["content"]
    assert ops[("delete", SIGNATURE)]["responses"]["204"].get("content") in (None, {})
    metadata = resolve(
        openapi,
        ops[("get", SIGNATURE)]["responses"]["200"]["content"]["application/json"]["schema"],
    )
    assert {
        "file_name",
        "saved_at",
        "saved_at_display",
        "image_sha256",
        "warnings",
        "record",
    } <= set(metadata["properties"])


# -- live responses against the document -------------------------------------------


def conformance_requests(signature: bytes) -> list[tuple[str, str, dict[str, Any]]]:
    """Requests, in order, that cover every route with successes and each kind of error.

    Each item is ``(method, path template, request keyword arguments)``; the
    account is always ``acc-1``.
    """
    files = {"file": ("s.jpg", signature, "image/jpeg")}
    gif = {"file": ("x.gif", b"GIF89a" + bytes(64), "image/gif")}
    consent = {"consent": "true"}
    weak = auth_headers(method="password")
    events = "/v1/accounts/{account_id}/events"
    return [
        ("post", SIGNATURE + "/preview", {"headers": auth_headers(), "files": files}),
        ("post", SIGNATURE + "/preview", {"headers": auth_headers(), "files": gif}),
        ("post", SIGNATURE, {"headers": auth_headers(), "files": files}),
        ("post", SIGNATURE, {"headers": auth_headers(), "files": files, "data": consent}),
        ("post", SIGNATURE, {"headers": auth_headers(), "files": files, "data": consent}),
        ("post", SIGNATURE, {"headers": weak, "files": files, "data": consent}),
        ("put", SIGNATURE, {"headers": auth_headers(), "files": files, "data": consent}),
        ("put", SIGNATURE, {"headers": auth_headers(), "data": consent}),
        ("get", SIGNATURE, {"headers": auth_headers()}),
        ("get", SIGNATURE + ".png", {"headers": auth_headers()}),
        ("get", SIGNATURE, {"headers": {"X-Auth-Method": "cps"}}),
        ("get", events, {"headers": auth_headers()}),
        ("get", events, {"headers": auth_headers(), "params": {"limit": "0"}}),
        ("delete", SIGNATURE, {"headers": auth_headers()}),
        ("delete", SIGNATURE, {"headers": auth_headers(), "params": {"confirm": "true"}}),
        ("delete", SIGNATURE, {"headers": auth_headers(), "params": {"confirm": "true"}}),
        ("get", SIGNATURE, {"headers": auth_headers()}),
        ("get", "/healthz", {}),
    ]


def test_live_responses_are_documented(client, openapi, signature_jpeg):
    ops = operations(openapi)
    seen: set[str] = set()

    for method, template, kwargs in conformance_requests(signature_jpeg(1)):
        url = template.replace("{account_id}", "acc-1")
        response = client.request(method.upper(), url, **kwargs)
        documented = ops[(method, template)]["responses"]
        seen.add(str(response.status_code))

        assert str(response.status_code) in documented, (method, url, response.status_code)
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"code", "message"}, (method, url)
            assert isinstance(body["code"], str)
            assert isinstance(body["message"], str)

    assert {"200", "201", "204", "400", "401", "403", "404", "409", "415", "422"} <= seen
