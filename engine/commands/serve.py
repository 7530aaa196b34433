"""``signature-engine serve``: run the signature service's HTTP API with uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys

HELP = "Run the signature service HTTP API (needs the service extra and SIGNATURE_ENGINE_API_TOKEN)."

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="TCP port to listen on (default: 8000)"
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="images processed at once; further uploads wait their turn "
        "(default: SIGNATURE_ENGINE_WORKERS, else the CPU count up to 4)",
    )
    parser.add_argument(
        "--dev",
        action="store_true",
        help="development mode: when SIGNATURE_ENGINE_API_TOKEN is unset, generate a token and "
        "print it; "
        "log every request",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy database URL (default: SIGNATURE_ENGINE_DATABASE_URL, "
        "else the SQLite file ./signature-engine.sqlite3)",
    )


def _configure_logging() -> None:
    from engine.service.logs import LOGGER_NAME, JsonLineFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    service_logger = logging.getLogger(LOGGER_NAME)
    service_logger.addHandler(handler)
    service_logger.setLevel(logging.INFO)
    service_logger.propagate = False


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
        from sqlalchemy.exc import ArgumentError, SQLAlchemyError

        from engine.service.api import create_app
        from engine.service.config import (
            API_TOKEN_ENV,
            MIN_API_TOKEN_LENGTH,
            database_url_from_env,
            display_url,
        )
        from engine.service.service import SignatureService
        from engine.service.store import UnsupportedDatabase
    except ImportError as error:
        print(
            f"error: the service needs its extra dependencies ({error.name} is missing). "
            "Install them with: pip install 'signature-engine[service]'",
            file=sys.stderr,
        )
        return EXIT_USAGE

    token = os.environ.get(API_TOKEN_ENV, "").strip()
    if not token:
        if not args.dev:
            print(
                f"error: {API_TOKEN_ENV} is not set. Set it to a random secret of at least "
                f"{MIN_API_TOKEN_LENGTH} characters, or pass --dev to use a generated token.",
                file=sys.stderr,
            )
            return EXIT_USAGE
        token = secrets.token_urlsafe(32)
        print(f"Development API token (--dev): {token}", flush=True)
    elif len(token) < MIN_API_TOKEN_LENGTH:
        print(
            f"error: {API_TOKEN_ENV} is {len(token)} characters long; "
            f"use at least {MIN_API_TOKEN_LENGTH}.",
            file=sys.stderr,
        )
        return EXIT_USAGE

    url = args.database_url or database_url_from_env()
    print(f"Database: {display_url(url)}", flush=True)
    _configure_logging()
    try:
        service = SignatureService.from_url(url, workers=args.workers)
    except (UnsupportedDatabase, ArgumentError, ValueError) as error:
        print(f"error: invalid database URL or option: {error}", file=sys.stderr)
        return EXIT_USAGE
    except SQLAlchemyError as error:
        print(
            f"error: cannot open or migrate the database ({type(error).__name__}): {error}",
            file=sys.stderr,
        )
        return EXIT_INTERNAL

    try:
        app = create_app(service, api_token=token)
        print(
            f"Serving on http://{args.host}:{args.port} with {service.workers} image worker(s); "
            "OpenAPI at /docs",
            flush=True,
        )
        # The access log is off outside --dev: a request line carries the raw
        # path, which a client could fill with personal data.
        uvicorn.run(app, host=args.host, port=args.port, access_log=args.dev, server_header=False)
    finally:
        service.close()
    return EXIT_OK
