"""ASGI middleware of the HTTP API: the bearer token check and the request body cap.

Both run before the application reads the body, so an unauthenticated or
oversized upload is rejected without being read into memory. The helpers here
also write the rejection log lines of the API layer.
"""

from __future__ import annotations

import hmac
import re

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import FileTooLarge, SignatureEngineError, normalize_language
from engine.service.auth import ACCOUNT_ID_PATTERN, loggable_id, loggable_method
from engine.service.errors import Unauthorized
from engine.service.logs import log_service_event

__all__ = [
    "BODY_TOO_LARGE_KEY",
    "ApiToken",
    "RequestGuard",
    "describe_request",
    "error_response",
    "log_rejection",
]

# Scope key set once a request body passes the cap, so handlers further in do
# not log the same request a second time.
BODY_TOO_LARGE_KEY = "signature_engine.body_too_large"


# -- request description for log lines -------------------------------------------

_ROUTE_PATTERN = re.compile(
    r"/v1/accounts/(?P<account>[^/]+)/(?P<resource>signature/preview|signature\.png|signature|events)"
)
_OPERATIONS = {
    ("POST", "signature/preview"): "preview",
    ("POST", "signature"): "add",
    ("PUT", "signature"): "modify",
    ("DELETE", "signature"): "delete",
    ("GET", "signature"): "read",
    ("GET", "signature.png"): "read_image",
    ("GET", "events"): "history",
}


def describe_request(method: str, path: str) -> tuple[str, str | None]:
    """Return ``(operation, account id or None)`` for a request, without echoing unsafe input."""
    if path == "/healthz":
        return "health", None
    match = _ROUTE_PATTERN.fullmatch(path)
    if match is None:
        return "unknown", None
    operation = _OPERATIONS.get((method, match["resource"]), "unknown")
    return operation, loggable_id(match["account"], ACCOUNT_ID_PATTERN)


def log_rejection(scope: Scope, headers: Headers, error: SignatureEngineError) -> None:
    operation, account_id = describe_request(scope.get("method", ""), scope.get("path", ""))
    log_service_event(
        "request_rejected",
        operation=operation,
        method=scope.get("method"),
        account_id=account_id,
        actor_id=loggable_id(headers.get("x-actor-id")),
        session_id=loggable_id(headers.get("x-session-id")),
        auth_method=loggable_method(headers.get("x-auth-method")),
        code=error.code,
        http_status=error.http_status,
    )


def error_response(
    error: SignatureEngineError, lang: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error.to_dict(lang), status_code=error.http_status, headers=headers)


# -- middleware ------------------------------------------------------------------


class _BodyTooLargeSignal(Exception):
    """Raised from ``receive`` when a streamed body passes the cap."""


class ApiToken:
    """The API bearer token, compared in constant time."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("an API token is required")
        self._token = token.encode("utf-8")

    def matches(self, authorization: str | None) -> bool:
        """Tell whether an ``Authorization`` header value carries this bearer token."""
        if not authorization:
            return False
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credentials.strip().encode("utf-8"), self._token)


class RequestGuard:
    """ASGI middleware that checks the API token and caps the request body before the app reads it.

    Parameters
    ----------
    app : ASGI app
        The application to guard.
    api_token : ApiToken
        The token every ``/v1`` request must carry.
    max_body_bytes : int
        Largest accepted request body, in bytes.
    file_limit_bytes : int
        The upload limit quoted in the 413 message.
    """

    def __init__(
        self, app: ASGIApp, *, api_token: ApiToken, max_body_bytes: int, file_limit_bytes: int
    ) -> None:
        self.app = app
        self.api_token = api_token
        self.max_body_bytes = max_body_bytes
        self.file_limit_bytes = file_limit_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        lang = normalize_language(headers.get("accept-language"))
        path: str = scope["path"]

        if (path == "/v1" or path.startswith("/v1/")) and not self.api_token.matches(
            headers.get("authorization")
        ):
            error = Unauthorized()
            log_rejection(scope, headers, error)
            await error_response(error, lang, {"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return

        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject_too_large(scope, receive, send, headers, int(declared), lang)
            return

        await self._run_with_cap(scope, receive, send, headers, lang)

    async def _run_with_cap(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, lang: str
    ) -> None:
        received = 0
        exceeded = False
        response_started = False

        async def capped_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    exceeded = True
                    scope[BODY_TOO_LARGE_KEY] = True
                    raise _BodyTooLargeSignal()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                # Whatever the app sends after the cap was hit is replaced by the 413 below.
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, capped_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not response_started:
            await self._reject_too_large(scope, receive, send, headers, received, lang, at_least=True)

    async def _reject_too_large(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, size: int, lang: str,
        at_least: bool = False,
    ) -> None:
        # A streamed body is cut off at the cap, so only a lower bound of its size is known.
        error = FileTooLarge(size, limit=self.file_limit_bytes, at_least=at_least)
        log_rejection(scope, headers, error)
        # Connection: close, because the rest of the body is not read.
        await error_response(error, lang, {"Connection": "close"})(scope, receive, send)
