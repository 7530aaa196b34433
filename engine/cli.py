"""Entry point of the ``signature-engine`` command line."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

# Subcommand name -> module in engine.commands, in the order `--help` lists them.
COMMANDS: dict[str, str] = {
    "process": "process",
    "batch": "batch",
    "contact-sheet": "contact_sheet",
    "backends": "backends",
    "bench": "bench",
    "generate": "generate",
    "evaluate": "evaluate",
    "tune": "tune",
    "serve": "serve",
    "verify-history": "verify_history",
}

# Exit codes shared by every subcommand.
EXIT_OK = 0
EXIT_REJECTED = 1  # the input was rejected with a typed error
EXIT_USAGE = 2  # argparse's own code for bad arguments
EXIT_INTERNAL = 3  # an unexpected failure: a bug to report


def _available_commands() -> dict[str, str]:
    available = {}
    for name, module in COMMANDS.items():
        if importlib.util.find_spec(f"engine.commands.{module}") is not None:
            available[name] = module
    return available


def _build_parser(commands: dict[str, str], selected: str | None) -> argparse.ArgumentParser:
    from engine import __version__

    parser = argparse.ArgumentParser(
        prog="signature-engine",
        description="Turn a photo or scan of a handwritten signature into a clean signature image.",
        epilog=(
            "Exit codes: 0 success, 1 input rejected, 2 usage error, 3 internal error, "
            "4 regression found (evaluate --compare)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log engine decisions (-v INFO, -vv DEBUG)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in commands.items():
        if name == selected:
            module = importlib.import_module(f"engine.commands.{module_name}")
            sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
            module.configure(sub)
            sub.set_defaults(_run=module.run)
        else:
            # Unselected commands are listed without importing their module.
            subparsers.add_parser(name, help=_short_help(module_name), add_help=False)
    return parser


def _short_help(module_name: str) -> str:
    # Read the HELP line from the source, so listing commands imports nothing heavy.
    spec = importlib.util.find_spec(f"engine.commands.{module_name}")
    if spec is None or spec.origin is None:
        return ""
    with open(spec.origin, encoding="utf-8") as source:
        for line in source:
            if line.startswith("HELP = "):
                return line.split("=", 1)[1].strip().strip("\"'")
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (``sys.argv[1:]`` when None) and return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _available_commands()
    selected = next((arg for arg in argv if arg in commands), None)
    try:
        parser = _build_parser(commands, selected)
        return _run(parser, argv)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] in ("engine", "backends", "samples"):
            raise
        extra = _COMMAND_EXTRAS.get(selected or "", "all")
        print(
            f"The {selected!r} command needs the missing package {error.name!r}. "
            f"Install it with: pip install 'signature-engine[{extra}]'",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _run(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    args = parser.parse_args(argv)

    if args.verbose:
        level = logging.DEBUG if args.verbose > 1 else logging.INFO
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return EXIT_USAGE
    return int(args._run(args))


# The pip extra that provides each command's optional dependencies.
_COMMAND_EXTRAS = {
    "generate": "data",
    "evaluate": "data",
    "tune": "data",
    "serve": "service",
    "verify-history": "service",
    "bench": "bench",
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
