"""``signature-engine bench``: time the pipeline per backend and input against the decode floor."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Time the pipeline per backend and input against the decode floor and a plain OpenCV recipe."


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", default="all", metavar="all|NAME",
                        help="backend to time: a name, or all installed built-in backends (default all)")
    parser.add_argument("--repeat", type=_positive, default=5, metavar="N",
                        help="timed calls per measure, after one warm-up call (default 5)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every measure and the machine as JSON")
    parser.add_argument("--inputs", nargs="+", metavar="NAME",
                        help="only these inputs (jpeg-3mp, jpeg-8mp, jpeg-12mp, heic-12mp, png-3mp, or a real photo)")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="where synthetic inputs are cached (default ~/.cache/signature-engine/bench-inputs)")
    parser.add_argument("--real-dir", type=Path, metavar="DIR",
                        help="folder holding the real benchmark photos (engine.bench.inputs.REAL_PHOTOS)")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the peak-memory measure (two fresh processes per input and backend)")


def _backend_names(choice: str) -> list[str]:
    from backends import backend_statuses, get_backend

    if choice.strip().lower() != "all":
        return [get_backend(choice).name]
    return [status.spec.name for status in backend_statuses(check=True)
            if status.usable and status.spec.extra is not None]


def run(args: argparse.Namespace) -> int:
    from engine.bench.inputs import build_inputs
    from engine.bench.runner import format_table, machine_info, rows_to_json, run_bench
    from engine.cli import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
    from engine.errors import BackendNotAvailable, UnknownBackend

    try:
        backends = _backend_names(args.backend)
    except UnknownBackend as error:
        print(error.message("en"), file=sys.stderr)
        return EXIT_USAGE
    except BackendNotAvailable as error:
        print(error.message("en"), file=sys.stderr)
        return EXIT_INTERNAL

    def progress(message: str) -> None:
        print(f"... {message}", file=sys.stderr, flush=True)

    progress("preparing inputs (the first run renders them, about a minute)")
    inputs = build_inputs(args.cache_dir, real_dir=args.real_dir, names=args.inputs)
    if not inputs:
        print("No benchmark input matches --inputs.", file=sys.stderr)
        return EXIT_USAGE

    rows = run_bench(inputs, backends, repeat=args.repeat, memory=not args.no_memory, progress=progress)
    machine = machine_info()
    print(format_table(rows, machine))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows_to_json(rows, machine), indent=2), encoding="utf-8")
    return EXIT_OK
