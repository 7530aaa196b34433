"""HTTP API of the signature service (FastAPI).

Every ``/v1`` route needs ``Authorization: Bearer <API token>``; the user's
sign-in method, actor id and session id travel in ``X-Auth-Method``,
``X-Actor-Id`` and ``X-Session-Id``. Errors are JSON ``{"code", "message"}``
with the message in French, or in English when ``Accept-Language`` requests it.

Request bodies are capped at the engine's upload limit plus room for the
multipart framing. A request that declares a larger ``Content-Length`` is
rejected with 413 before its body is read; a chunked one is cut off as soon as
it passes the cap.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    Path,
    Query,
    Request,
    Response,
    Security,
    UploadFile,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine import __version__
from engine.errors import InvalidAdjustment, SignatureEngineError, normalize_language
from engine.service.auth import ACCOUNT_ID_PATTERN, AuthContext
from engine.service.errors import (
    DatabaseUnavailable,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    RouteNotFound,
    Unauthorized,
)
from engine.service.logs import log_service_event
from engine.service.middleware import (
    BODY_TOO_LARGE_KEY,
    ApiToken,
    RequestGuard,
    describe_request,
    error_response,
    log_rejection,
)
from engine.service.schemas import (
    EventPageOut,
    HealthOut,
    PreviewOut,
    SignatureOut,
    error_responses,
)
from engine.service.service import DEFAULT_PAGE_SIZE, LOGGED_FLAG, MAX_PAGE_SIZE, SignatureService

__all__ = [
    "MULTIPART_OVERHEAD_BYTES",
    "build_router",
    "create_app",
    "parse_crop",
    "upload_limit_bytes",
]

# Room for the multipart boundaries, part headers and the small form fields
# (crop, rotation, consent) on top of the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def upload_limit_bytes() -> int:
    """Return the engine's upload limit in bytes, ``engine.decode.Limits().max_file_bytes``."""
    from engine.decode import Limits

    return Limits().max_file_bytes


# -- request parsing -------------------------------------------------------------


def parse_crop(text: str | None) -> tuple[int, int, int, int] | None:
    """Parse a crop field, ``"x,y,width,height"`` or a JSON array of 4 numbers, into rounded pixels.

    Raises
    ------
    InvalidAdjustment
        For any other text, or a number that is not finite.
    """
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if text.startswith("["):
            values = json.loads(text)
            if not isinstance(values, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in values
            ):
                raise ValueError(text)
        else:
            values = [float(part) for part in text.split(",")]
        if len(values) != 4 or not all(math.isfinite(v) for v in values):
            raise ValueError(text)
    except (ValueError, OverflowError) as error:
        raise InvalidAdjustment(
            text[:64],
            reason_fr=(
                "le recadrage doit s'écrire « x,y,largeur,hauteur » ou [x, y, largeur, hauteur]"
            ),
            reason_en="the crop must read 'x,y,width,height' or [x, y, width, height]",
        ) from error
    x, y, width, height = (round(v) for v in values)
    return (x, y, width, height)


def _validation_error_to_request_error(error: RequestValidationError) -> InvalidRequest:
    details = error.errors()
    if not details:
        return InvalidRequest(None, reason_fr="requête mal formée", reason_en="malformed request")
    first = details[0]
    field = str(first.get("loc", ("?",))[-1])
    if first.get("type") == "missing":
        return InvalidRequest(
            None,
            reason_fr=f"le champ « {field} » est manquant",
            reason_en=f"the field '{field}' is missing",
        )
    # Range errors carry their bound, so the message can state the allowed values.
    bounds = first.get("ctx") or {}
    bound_fr = bound_en = ""
    if "ge" in bounds:
        bound_fr, bound_en = f" (au moins {bounds['ge']})", f" (at least {bounds['ge']})"
    elif "le" in bounds:
        bound_fr, bound_en = f" (au plus {bounds['le']})", f" (at most {bounds['le']})"
    return InvalidRequest(
        None,
        reason_fr=f"le champ « {field} » a une valeur invalide{bound_fr}",
        reason_en=f"the field '{field}' has an invalid value{bound_en}",
    )


# -- dependencies ----------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False, description="The service's API token (SIGNATURE_ENGINE_API_TOKEN)."
)


def _require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> None:
    # RequestGuard has already checked the token before the body was read; this
    # second check documents the scheme in OpenAPI and guards a bare router.
    api_token: ApiToken = request.app.state.api_token
    if credentials is None or not api_token.matches(f"Bearer {credentials.credentials}"):
        raise Unauthorized()


def _auth_context(
    x_auth_method: Annotated[
        str | None,
        Header(
            alias="X-Auth-Method",
            description="How the user signed in: 'cps' or 'e-cps' (strong); any other value "
            "is rejected.",
        ),
    ] = None,
    x_actor_id: Annotated[
        str | None, Header(alias="X-Actor-Id", description="Pseudonymous id of the person acting.")
    ] = None,
    x_session_id: Annotated[
        str | None, Header(alias="X-Session-Id", description="Id of the portal session.")
    ] = None,
) -> AuthContext:
    return AuthContext(auth_method=x_auth_method, actor_id=x_actor_id, session_id=x_session_id)


def _language(
    accept_language: Annotated[
        str | None, Header(description="'en' for English messages; French otherwise.")
    ] = None,
) -> str:
    return normalize_language(accept_language)


def _service(request: Request) -> SignatureService:
    return request.app.state.service


AccountId = Annotated[
    str,
    Path(
        description="Pseudonymous account id: 1-128 characters from A-Z a-z 0-9 . _ : -, "
        "starting with a letter or digit.",
        pattern=ACCOUNT_ID_PATTERN.pattern,
        max_length=128,
    ),
]
Auth = Annotated[AuthContext, Depends(_auth_context)]
Lang = Annotated[str, Depends(_language)]
Service = Annotated[SignatureService, Depends(_service)]
UploadField = Annotated[
    UploadFile, File(description="The photo or scan of the signature: PNG, JPEG or HEIC.")
]
CropField = Annotated[
    str | None,
    Form(
        description="Manual crop in upright input pixels: 'x,y,width,height' or a JSON array "
        "[x, y, width, height]."
    ),
]
RotationField = Annotated[
    float | None, Form(description="Manual rotation in degrees, counter-clockwise positive.")
]
ConsentField = Annotated[
    bool | None, Form(description="Must be true: the user consents to storing the signature.")
]


def _read_upload(upload: UploadFile) -> bytes:
    # The body is already capped by RequestGuard, so the file fits in memory.
    return upload.file.read()


# -- routes ----------------------------------------------------------------------


def build_router() -> APIRouter:
    """Return the router of the ``/v1`` routes.

    :func:`create_app` mounts it behind the middleware and the error handlers.
    """
    router = APIRouter(prefix="/v1", dependencies=[Depends(_require_token)], tags=["signature"])
    signature_path = "/accounts/{account_id}/signature"

    @router.post(
        signature_path + "/preview",
        response_model=PreviewOut,
        summary="Process an upload and return the result without storing it",
        responses=error_responses(400, 401, 403, 413, 415, 422, 500),
    )
    def preview_signature(
        account_id: AccountId,
        file: UploadField,
        auth: Auth,
        lang: Lang,
        service: Service,
        crop: CropField = None,
        rotation: RotationField = None,
    ) -> dict[str, Any]:
        preview = service.preview(
            account_id, _read_upload(file), auth=auth, crop=parse_crop(crop), rotation=rotation
        )
        return preview.to_dict(lang)

    @router.post(
        signature_path,
        status_code=201,
        response_model=SignatureOut,
        summary="Add the account's signature (the account must have none)",
        responses=error_responses(400, 401, 403, 409, 413, 415, 422, 500),
    )
    def add_signature(
        account_id: AccountId,
        file: UploadField,
        auth: Auth,
        lang: Lang,
        service: Service,
        response: Response,
        crop: CropField = None,
        rotation: RotationField = None,
        consent: ConsentField = None,
    ) -> dict[str, Any]:
        stored = service.add(
            account_id,
            _read_upload(file),
            auth=auth,
            consent=consent is True,
            filename=file.filename,
            crop=parse_crop(crop),
            rotation=rotation,
        )
        response.headers["Location"] = f"/v1/accounts/{account_id}/signature"
        return stored.to_dict(lang)

    @router.put(
        signature_path,
        response_model=SignatureOut,
        summary="Replace the account's signature",
        responses=error_responses(400, 401, 403, 404, 413, 415, 422, 500),
    )
    def modify_signature(
        account_id: AccountId,
        file: UploadField,
        auth: Auth,
        lang: Lang,
        service: Service,
        crop: CropField = None,
        rotation: RotationField = None,
        consent: ConsentField = None,
    ) -> dict[str, Any]:
        stored = service.modify(
            account_id,
            _read_upload(file),
            auth=auth,
            consent=consent is True,
            filename=file.filename,
            crop=parse_crop(crop),
            rotation=rotation,
        )
        return stored.to_dict(lang)

    @router.delete(
        signature_path,
        status_code=204,
        response_class=Response,
        summary="Delete the account's signature (needs confirm=true)",
        responses=error_responses(400, 401, 403, 404, 413, 422, 500),
    )
    def delete_signature(
        account_id: AccountId,
        auth: Auth,
        service: Service,
        confirm: Annotated[
            bool, Query(description="Must be true: the user confirmed the deletion.")
        ] = False,
    ) -> Response:
        service.delete(account_id, auth=auth, confirm=confirm)
        return Response(status_code=204)

    @router.get(
        signature_path,
        response_model=SignatureOut,
        summary="Read the signature's metadata: file name, time of saving, record",
        responses=error_responses(400, 401, 403, 404, 413, 422, 500),
    )
    def read_signature(
        account_id: AccountId, auth: Auth, lang: Lang, service: Service
    ) -> dict[str, Any]:
        return service.read(account_id, auth=auth).to_dict(lang)

    @router.get(
        signature_path + ".png",
        response_class=Response,
        summary="Download the processed signature image",
        responses={
            200: {"content": {"image/png": {}}, "description": "The processed signature, PNG."},
            **error_responses(400, 401, 403, 404, 413, 422, 500),
        },
    )
    def read_signature_image(account_id: AccountId, auth: Auth, service: Service) -> Response:
        stored = service.read(account_id, auth=auth)
        return Response(
            content=stored.image_png,
            media_type="image/png",
            headers={"ETag": f'"{stored.image_sha256}"', "Cache-Control": "private, no-store"},
        )

    @router.get(
        "/accounts/{account_id}/events",
        response_model=EventPageOut,
        summary="List the account's history, newest first",
        responses=error_responses(400, 401, 403, 413, 422, 500),
    )
    def list_events(
        account_id: AccountId,
        auth: Auth,
        lang: Lang,
        service: Service,
        limit: Annotated[
            int, Query(ge=1, le=MAX_PAGE_SIZE, description="Events per page.")
        ] = DEFAULT_PAGE_SIZE,
        cursor: Annotated[
            str | None, Query(max_length=64, description="next_cursor from the previous page.")
        ] = None,
    ) -> dict[str, Any]:
        return service.history(account_id, auth=auth, limit=limit, cursor=cursor).to_dict(lang)

    return router


# -- application -----------------------------------------------------------------


def create_app(
    service: SignatureService, *, api_token: str, max_file_bytes: int | None = None
) -> FastAPI:
    """Build the HTTP API around ``service``.

    Parameters
    ----------
    service : SignatureService
        The service that stores signatures; the caller closes it.
    api_token : str
        The bearer token every ``/v1`` call must carry.
    max_file_bytes : int, optional
        Upload limit in bytes; defaults to the engine's. The request body may
        exceed it by :data:`MULTIPART_OVERHEAD_BYTES`.
    """
    token = ApiToken(api_token)
    file_limit = max_file_bytes if max_file_bytes is not None else upload_limit_bytes()

    app = FastAPI(
        title="signature-engine service",
        version=__version__,
        description=(
            "Stores each account's processed signature and its event history. "
            "Every /v1 call needs the "
            "API bearer token and the user's strong sign-in (X-Auth-Method: cps or e-cps)."
        ),
    )
    app.state.service = service
    app.state.api_token = token
    app.add_middleware(
        RequestGuard,
        api_token=token,
        max_body_bytes=file_limit + MULTIPART_OVERHEAD_BYTES,
        file_limit_bytes=file_limit,
    )

    app.include_router(build_router())

    @app.get("/healthz", response_model=HealthOut, tags=["health"], responses=error_responses(503))
    def health(request: Request) -> Any:
        try:
            service.database.ping()
        except Exception:
            log_service_event(
                "health_check_failed", operation="health", code=DatabaseUnavailable.code
            )
            lang = normalize_language(request.headers.get("accept-language"))
            return error_response(DatabaseUnavailable(), lang)
        return {"status": "ok", "database": "ok"}

    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    def language_of(request: Request) -> str:
        return normalize_language(request.headers.get("accept-language"))

    def respond(request: Request, error: SignatureEngineError) -> JSONResponse:
        if not getattr(error, LOGGED_FLAG, False) and not request.scope.get(BODY_TOO_LARGE_KEY):
            log_rejection(request.scope, request.headers, error)
        headers = {"WWW-Authenticate": "Bearer"} if error.http_status == 401 else None
        return error_response(error, language_of(request), headers)

    @app.exception_handler(SignatureEngineError)
    async def on_engine_error(request: Request, error: SignatureEngineError) -> JSONResponse:
        return respond(request, error)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        return respond(request, _validation_error_to_request_error(error))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        mapped: SignatureEngineError
        if error.status_code == 404:
            mapped = RouteNotFound(request.url.path[:128])
        elif error.status_code == 405:
            mapped = MethodNotAllowed(request.method)
        elif error.status_code == 401:
            mapped = Unauthorized()
        elif 400 <= error.status_code < 500:
            # Starlette's own 4xx, e.g. a multipart body that cannot be parsed.
            mapped = InvalidRequest(
                None,
                reason_fr="le corps de la requête est mal formé",
                reason_en="the request body is malformed",
            )
        else:
            mapped = InternalError()
        return respond(request, mapped)

    @app.exception_handler(Exception)
    async def on_unexpected_error(request: Request, error: Exception) -> JSONResponse:
        operation, account_id = describe_request(request.method, request.url.path)
        log_service_event(
            "request_failed",
            level=logging.ERROR,
            exc_info=error,
            operation=operation,
            account_id=account_id,
            code=InternalError.code,
            http_status=500,
            error_type=type(error).__name__,
        )
        return error_response(InternalError(), language_of(request))
