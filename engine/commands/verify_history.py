"""``signature-engine verify-history``: check the hash chain of the signature service's history."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "Check the signature history hash chain; exit 1 naming the first broken event."

EXIT_INTACT = 0
EXIT_BROKEN = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy database URL (default: SIGNATURE_ENGINE_DATABASE_URL, "
        "else the SQLite file ./signature-engine.sqlite3)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        from sqlalchemy.exc import ArgumentError, SQLAlchemyError

        from engine.service.chain import verify_history
        from engine.service.config import database_url_from_env, display_url
        from engine.service.store import Database, UnsupportedDatabase
    except ImportError as error:
        print(
            f"error: the service needs its extra dependencies ({error.name} is missing). "
            "Install them with: pip install 'signature-engine[service]'",
            file=sys.stderr,
        )
        return EXIT_USAGE

    url = args.database_url or database_url_from_env()
    try:
        database = Database(url, create=False)
    except (UnsupportedDatabase, ArgumentError, FileNotFoundError, ValueError) as error:
        print(f"error: {error} ({display_url(url)})", file=sys.stderr)
        return EXIT_USAGE

    try:
        if database.schema_revision() is None:
            print(
                f"error: {display_url(url)} has no signature service schema; "
                "start `signature-engine serve` once or run the Alembic migrations",
                file=sys.stderr,
            )
            return EXIT_USAGE
        report = verify_history(database.engine)
    except SQLAlchemyError as error:
        print(
            f"error: reading the history failed ({type(error).__name__}): {error}", file=sys.stderr
        )
        return EXIT_INTERNAL
    finally:
        database.dispose()

    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    elif report.intact:
        print(f"History intact: {report.events} event(s) in {report.accounts} account(s).")
    else:
        first = report.first_break
        assert first is not None
        event = first.event_id if first.event_id is not None else "none"
        print(
            f"History broken: first broken event id {event} (account {first.account_id}): "
            f"{first.reason}. "
            f"{len(report.breaks)} account(s) with a break; {report.events} events checked."
        )
    return EXIT_INTACT if report.intact else EXIT_BROKEN
