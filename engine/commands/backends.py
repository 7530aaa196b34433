"""``signature-engine backends``: which image backends exist, which are installed, and which one runs."""

from __future__ import annotations

import argparse
import json
import os

HELP = "List the image backends, which are installed, and how to install the others."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="also import each installed backend, to catch broken installs")
    parser.add_argument("--json", action="store_true", help="print the list as JSON on stdout")


def _selected(statuses) -> tuple[str | None, str]:
    """Return the backend that ``get_backend()`` would pick with no argument, and why."""
    from backends import ENV_VARIABLE, PREFERENCE_ORDER

    chosen = os.environ.get(ENV_VARIABLE, "").strip().lower()
    if chosen:
        return chosen, f"{ENV_VARIABLE}={chosen}"
    usable = {status.spec.name for status in statuses if status.usable}
    for name in PREFERENCE_ORDER:
        if name in usable:
            return name, "first installed in the preference order " + ", ".join(PREFERENCE_ORDER)
    return None, "no backend in the preference order is installed"


def _rows(statuses) -> list[dict]:
    rows = []
    for status in statuses:
        spec = status.spec
        if not status.installed:
            state = "missing " + ", ".join(status.missing)
        elif status.error is not None:
            state = "broken: " + status.error
        elif status.checked:
            state = "installed, imports"
        else:
            state = "installed"
        rows.append(
            {
                "name": spec.name,
                "installed": status.installed,
                "usable": status.usable if status.checked else None,
                "state": state,
                "install": spec.install_command,
                "provided_by": spec.distribution or "signature-engine",
                "module": f"{spec.module}:{spec.class_name}" if spec.module else "(registered in code)",
                "description": spec.description,
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    from backends import backend_statuses
    from engine.cli import EXIT_OK

    statuses = backend_statuses(check=args.check)
    rows = _rows(statuses)
    selected, reason = _selected(statuses)

    if args.json:
        print(json.dumps({"selected": selected, "reason": reason, "backends": rows}, indent=2))
        return EXIT_OK

    name_width = max(len(row["name"]) for row in rows) + 2
    state_width = max(len(row["state"]) for row in rows) + 2
    for row in rows:
        marker = "*" if row["name"] == selected else " "
        remedy = "" if row["installed"] and row["usable"] is not False else f"  ->  {row['install']}"
        print(f"{marker} {row['name']:<{name_width}}{row['state']:<{state_width}}{row['description']}{remedy}")
    print()
    print(f"* used by default: {selected or 'none'} ({reason}).")
    print("Choose another with --backend NAME or SIGNATURE_ENGINE_BACKEND=NAME.")
    return EXIT_OK
