"""The signature service: the rules of an account's signature lifecycle, on top of the engine.

A rejected call (an engine error or a broken rule) changes nothing: the checks
and the image processing all happen before the write transaction, and the
transaction is rolled back if anything fails inside it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import PureWindowsPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import engine
from engine.errors import InvalidAdjustment, SignatureEngineError
from engine.service.auth import (
    ACCOUNT_ID_PATTERN,
    AuthContext,
    loggable_id,
    loggable_method,
    require_strong_auth,
    validate_account_id,
)
from engine.service.chain import ChainReport, compute_event_hash, verify_history
from engine.service.config import default_workers
from engine.service.errors import (
    ConfirmationRequired,
    ConsentRequired,
    InternalError,
    InvalidRequest,
    SignatureExists,
    SignatureNotFound,
)
from engine.service.logs import log_service_event
from engine.service.models import Account, EventRow, SignatureRow
from engine.service.store import Database
from engine.service.values import (
    HistoryEvent,
    HistoryPage,
    Preview,
    StoredSignature,
    decode_cursor,
    encode_cursor,
    warnings_to_json,
)

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "SignatureService"]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_FILENAME_LENGTH = 255

# Attribute set on an exception once its rejection line is logged, so the API
# layer does not log the same request twice.
LOGGED_FLAG = "_signature_service_logged"


def sanitize_filename(filename: str | None) -> str | None:
    """Return the base name of an uploaded file, without control characters, at most 255 characters.

    Browsers may send a full path (``C:\\fakepath\\photo.jpg``); only the last
    component is kept. Returns None for a missing or empty name.
    """
    if not filename:
        return None
    name = PureWindowsPath(filename).name  # splits on both "/" and "\"
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf")).strip()
    return name[:MAX_FILENAME_LENGTH] or None


def _validate_crop(crop: Sequence[Any] | None) -> tuple[int, int, int, int] | None:
    if crop is None:
        return None
    values = list(crop) if isinstance(crop, Sequence) else []
    if len(values) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InvalidAdjustment(
            crop,
            reason_fr="le recadrage doit comporter 4 entiers : x, y, largeur, hauteur",
            reason_en="the crop must be 4 integers: x, y, width, height",
        )
    x, y, width, height = values
    if x < 0 or y < 0 or width <= 0 or height <= 0:
        raise InvalidAdjustment(
            crop,
            reason_fr=(
                "x et y doivent être positifs ou nuls, largeur et hauteur strictement positives"
            ),
            reason_en="x and y must be zero or more, width and height more than zero",
        )
    return (x, y, width, height)


def _validate_rotation(rotation: float | None) -> float | None:
    if rotation is None:
        return None
    try:
        finite = not isinstance(rotation, bool) and math.isfinite(rotation)
    except (TypeError, OverflowError):
        finite = False
    if not finite:
        raise InvalidAdjustment(
            rotation,
            reason_fr="la rotation doit être un nombre fini de degrés",
            reason_en="the rotation must be a finite number of degrees",
        )
    return float(rotation)


class SignatureService:
    """Store, replace, delete and read each account's signature, and keep its history.

    Parameters
    ----------
    database : Database
        The migrated database to use.
    workers : int, optional
        At most this many images are processed at once; further uploads wait
        their turn. Defaults to :func:`engine.service.config.default_workers`.
    params : optional
        Engine parameters passed to :func:`engine.process`.
    backend : str, optional
        Engine backend name passed to :func:`engine.process`.
    clock : callable, optional
        Returns the current time as an aware datetime; the default is UTC now.
        Tests pass a fixed clock.

    Notes
    -----
    Every method takes the caller's :class:`AuthContext` and raises
    :class:`~engine.service.errors.StrongAuthRequired` unless the user signed in
    with a CPS card or e-CPS. Errors are subclasses of
    :class:`engine.errors.SignatureEngineError`.
    """

    def __init__(
        self,
        database: Database,
        *,
        workers: int | None = None,
        params: Any = None,
        backend: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.database = database
        self.workers = workers if workers is not None else default_workers()
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        self._params = params
        self._backend = backend
        self._clock = clock or (lambda: datetime.now(UTC))
        self._pool = ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="signature-image"
        )

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = True, **kwargs: Any) -> SignatureService:
        """Open the database at ``url``, upgrade its schema, and build a service on it.

        Pass ``migrate=False`` to skip the upgrade; ``kwargs`` go to the constructor.
        """
        database = Database(url)
        if migrate:
            database.migrate()
        return cls(database, **kwargs)

    def close(self) -> None:
        """Wait for running image jobs, then release the worker threads and database connections."""
        self._pool.shutdown(wait=True)
        self.database.dispose()

    def __enter__(self) -> SignatureService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public operations ------------------------------------------------------

    def preview(
        self,
        account_id: str,
        data: bytes,
        *,
        auth: AuthContext,
        crop: Sequence[int] | None = None,
        rotation: float | None = None,
    ) -> Preview:
        """Process an upload with optional manual adjustments and return it, storing nothing.

        Parameters
        ----------
        account_id : str
            The account the edit screen belongs to.
        data : bytes
            The uploaded file (PNG, JPEG or HEIC).
        auth : AuthContext
            The caller's authentication context.
        crop : sequence of 4 int, optional
            Manual crop ``(x, y, width, height)`` in pixels of the upright input.
        rotation : float, optional
            Manual rotation in degrees, counter-clockwise positive.

        Returns
        -------
        Preview
            The PNG and the result record (proposed crop box, angle, warnings).
        """
        with self._rejections_logged("preview", account_id, auth):
            validate_account_id(account_id)
            require_strong_auth(auth)
            return self._process(data, crop, rotation)

    def add(
        self,
        account_id: str,
        data: bytes,
        *,
        auth: AuthContext,
        consent: bool,
        filename: str | None = None,
        crop: Sequence[int] | None = None,
        rotation: float | None = None,
    ) -> StoredSignature:
        """Process an upload and store it as the account's first signature.

        Stores the processed PNG, the original file name, the time of saving and
        the engine's result record; of the uploaded photo, only its SHA-256.

        Raises
        ------
        ConsentRequired
            When ``consent`` is not True.
        SignatureExists
            When the account already has a signature (use :meth:`modify`).
        SignatureEngineError
            Any engine error about the upload, such as ``no_ink_found``.
        """
        with self._rejections_logged("add", account_id, auth):
            validate_account_id(account_id)
            auth = require_strong_auth(auth)
            if consent is not True:
                raise ConsentRequired()
            if self._current_row_exists(account_id):
                raise SignatureExists()

            processed = self._process(data, crop, rotation)
            now = self._now()
            with self.database.locked_account(account_id, now) as (session, account):
                # Checked again under the lock: another call may have added one meanwhile.
                if session.get(SignatureRow, account_id) is not None:
                    raise SignatureExists()
                row = SignatureRow(account_id=account_id)
                self._fill_row(row, processed, filename, now)
                session.add(row)
                event = self._append_event(
                    session,
                    account,
                    "signature_added",
                    now,
                    auth,
                    processed.image_sha256,
                    processed.upload_sha256,
                )
            stored = StoredSignature.from_row(row)
        self._log_lifecycle("add", event, processed)
        return stored

    def modify(
        self,
        account_id: str,
        data: bytes,
        *,
        auth: AuthContext,
        consent: bool,
        filename: str | None = None,
        crop: Sequence[int] | None = None,
        rotation: float | None = None,
    ) -> StoredSignature:
        """Replace the account's signature with a new upload; same rules as :meth:`add`.

        Raises
        ------
        ConsentRequired
            When ``consent`` is not True.
        SignatureNotFound
            When the account has no signature (use :meth:`add`).
        SignatureEngineError
            Any engine error about the upload.
        """
        with self._rejections_logged("modify", account_id, auth):
            validate_account_id(account_id)
            auth = require_strong_auth(auth)
            if consent is not True:
                raise ConsentRequired()
            if not self._current_row_exists(account_id):
                raise SignatureNotFound()

            processed = self._process(data, crop, rotation)
            now = self._now()
            with self.database.locked_account(account_id, now) as (session, account):
                row = session.get(SignatureRow, account_id)
                if row is None:
                    raise SignatureNotFound()
                self._fill_row(row, processed, filename, now)
                event = self._append_event(
                    session,
                    account,
                    "signature_modified",
                    now,
                    auth,
                    processed.image_sha256,
                    processed.upload_sha256,
                )
            stored = StoredSignature.from_row(row)
        self._log_lifecycle("modify", event, processed)
        return stored

    def delete(self, account_id: str, *, auth: AuthContext, confirm: bool) -> HistoryEvent:
        """Delete the account's signature; ``confirm`` must be True (the portal's confirm dialog).

        Returns
        -------
        HistoryEvent
            The ``signature_deleted`` event, whose ``image_sha256`` names the removed image.

        Raises
        ------
        ConfirmationRequired
            When ``confirm`` is not True.
        SignatureNotFound
            When the account has no signature.
        """
        with self._rejections_logged("delete", account_id, auth):
            validate_account_id(account_id)
            auth = require_strong_auth(auth)
            if confirm is not True:
                raise ConfirmationRequired()

            now = self._now()
            with self.database.locked_account(account_id, now) as (session, account):
                row = session.get(SignatureRow, account_id)
                if row is None:
                    raise SignatureNotFound()
                removed_sha256 = row.image_sha256
                session.delete(row)
                event = self._append_event(
                    session, account, "signature_deleted", now, auth, removed_sha256, None
                )
        self._log_lifecycle("delete", event, None)
        return event

    def read(self, account_id: str, *, auth: AuthContext) -> StoredSignature:
        """Return the account's signature: image, original file name, time of saving, record.

        Raises
        ------
        SignatureNotFound
            When the account has no signature.
        """
        with self._rejections_logged("read", account_id, auth):
            validate_account_id(account_id)
            require_strong_auth(auth)
            stored = self._current(account_id)
            if stored is None:
                raise SignatureNotFound()
            return stored

    def signature_for_document(
        self, account_id: str, *, auth: AuthContext
    ) -> StoredSignature | None:
        """Return the signature to stamp on a document, or None when the account has none.

        The portal does not file documents into the patient's shared medical
        record for an account without a signature.
        """
        with self._rejections_logged("document", account_id, auth):
            validate_account_id(account_id)
            require_strong_auth(auth)
            return self._current(account_id)

    def history(
        self,
        account_id: str,
        *,
        auth: AuthContext,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> HistoryPage:
        """Return one page of the account's history, newest first.

        Parameters
        ----------
        limit : int, default 20
            Events per page, from 1 to 100.
        cursor : str, optional
            ``next_cursor`` of the previous page; None for the newest events.
        """
        with self._rejections_logged("history", account_id, auth):
            validate_account_id(account_id)
            require_strong_auth(auth)
            if (
                isinstance(limit, bool)
                or not isinstance(limit, int)
                or not 1 <= limit <= MAX_PAGE_SIZE
            ):
                raise InvalidRequest(
                    limit,
                    reason_fr=f"limit doit être un entier de 1 à {MAX_PAGE_SIZE}",
                    reason_en=f"limit must be an integer from 1 to {MAX_PAGE_SIZE}",
                )
            query = select(EventRow).where(EventRow.account_id == account_id)
            if cursor:
                query = query.where(EventRow.seq < decode_cursor(cursor))
            query = query.order_by(EventRow.seq.desc()).limit(limit + 1)
            with self.database.read_session() as session:
                rows = session.scalars(query).all()
            events = [HistoryEvent.from_row(row) for row in rows[:limit]]
            next_cursor = encode_cursor(events[-1].seq) if len(rows) > limit else None
            return HistoryPage(events, next_cursor)

    def verify_history(self) -> ChainReport:
        """Check every account's event chain; see :func:`engine.service.chain.verify_history`."""
        return verify_history(self.database.engine)

    # -- helpers ----------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the service clock must return an aware datetime")
        return now.astimezone(UTC)

    def _process(self, data: bytes, crop: Sequence[int] | None, rotation: float | None) -> Preview:
        """Run the engine in the bounded worker pool and wrap its result."""
        crop_box = _validate_crop(crop)
        angle = _validate_rotation(rotation)
        future = self._pool.submit(
            engine.process,
            data,
            params=self._params,
            backend=self._backend,
            crop=crop_box,
            rotation=angle,
        )
        result = future.result()
        return Preview(
            image_png=result.image_bytes,
            image_sha256=hashlib.sha256(result.image_bytes).hexdigest(),
            upload_sha256=hashlib.sha256(data).hexdigest(),
            record_fr=result.to_record("fr"),
            warnings=tuple(result.warnings),
            engine_version=result.engine_version,
        )

    def _current(self, account_id: str) -> StoredSignature | None:
        with self.database.read_session() as session:
            row = session.get(SignatureRow, account_id)
            return None if row is None else StoredSignature.from_row(row)

    def _current_row_exists(self, account_id: str) -> bool:
        with self.database.read_session() as session:
            query = select(SignatureRow.account_id).where(SignatureRow.account_id == account_id)
            return session.execute(query).first() is not None

    @staticmethod
    def _fill_row(
        row: SignatureRow, processed: Preview, filename: str | None, now: datetime
    ) -> None:
        row.image_png = processed.image_png
        row.image_sha256 = processed.image_sha256
        row.upload_sha256 = processed.upload_sha256
        row.original_filename = sanitize_filename(filename)
        row.saved_at = now
        row.engine_version = processed.engine_version[:64]
        row.record = processed.record_fr
        row.warnings = warnings_to_json(processed.warnings)

    @staticmethod
    def _append_event(
        session: Session,
        account: Account,
        event_type: str,
        now: datetime,
        auth: AuthContext,
        image_sha256: str,
        upload_sha256: str | None,
    ) -> HistoryEvent:
        """Add the next event of ``account``'s chain and move the account head.

        The caller holds the account's lock, inside the transaction of the change.
        """
        assert (
            auth.actor_id is not None
            and auth.session_id is not None
            and auth.auth_method is not None
        )
        seq = account.event_count + 1
        fields = {
            "account_id": account.account_id,
            "seq": seq,
            "event_type": event_type,
            "occurred_at": now,
            "actor_id": auth.actor_id,
            "session_id": auth.session_id,
            "auth_method": auth.auth_method,
            "image_sha256": image_sha256,
            "upload_sha256": upload_sha256,
            "prev_hash": account.head_hash,
        }
        digest = compute_event_hash(**fields)
        row = EventRow(**fields, hash=digest)
        session.add(row)
        account.event_count = seq
        account.head_hash = digest
        session.flush()
        return HistoryEvent.from_row(row)

    @staticmethod
    def _log_lifecycle(operation: str, event: HistoryEvent, processed: Preview | None) -> None:
        log_service_event(
            event.event_type,
            operation=operation,
            account_id=event.account_id,
            actor_id=event.actor_id,
            session_id=event.session_id,
            auth_method=event.auth_method,
            event_id=event.id,
            seq=event.seq,
            image_sha256=event.image_sha256,
            upload_sha256=event.upload_sha256,
            engine_version=processed.engine_version if processed else None,
            warnings=[w.code for w in processed.warnings] if processed else None,
        )

    @contextmanager
    def _rejections_logged(
        self, operation: str, account_id: str, auth: AuthContext
    ) -> Iterator[None]:
        """Log one line for a call that fails, then let the error propagate.

        Engine and rule errors are logged as ``request_rejected`` at INFO;
        anything else is a bug, logged as ``request_failed`` at ERROR and
        raised as :class:`~engine.service.errors.InternalError`.
        """
        started = time.perf_counter()
        try:
            yield
        except SignatureEngineError as error:
            self._log_failure(
                "request_rejected", logging.INFO, operation, account_id, auth, error, started
            )
            setattr(error, LOGGED_FLAG, True)
            raise
        except Exception as error:
            internal = InternalError()
            self._log_failure(
                "request_failed",
                logging.ERROR,
                operation,
                account_id,
                auth,
                internal,
                started,
                error,
            )
            setattr(internal, LOGGED_FLAG, True)
            raise internal from error

    @staticmethod
    def _log_failure(
        event: str,
        level: int,
        operation: str,
        account_id: str,
        auth: AuthContext,
        error: SignatureEngineError,
        started: float,
        cause: BaseException | None = None,
    ) -> None:
        log_service_event(
            event,
            level=level,
            exc_info=cause is not None,
            operation=operation,
            account_id=loggable_id(account_id, ACCOUNT_ID_PATTERN),
            actor_id=loggable_id(auth.actor_id),
            session_id=loggable_id(auth.session_id),
            auth_method=loggable_method(auth.auth_method),
            code=error.code,
            http_status=error.http_status,
            error_type=type(cause).__name__ if cause is not None else None,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
