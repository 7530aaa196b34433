"""``signature-engine batch``: many photos in one warm process, with a summary."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from tqdm import tqdm

from engine.commands._options import add_engine_options, add_output_options, output_options
from engine.commands.process import write_atomically
from engine.errors import InvalidParameter, SignatureEngineError

HELP = "Process a folder or a list of photos; write the outputs and a JSON or CSV summary."

_SUMMARY_SUFFIXES = (".json", ".csv")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path,
                        help="image files, or folders (every visible file in them, sorted)")
    parser.add_argument("-o", "--output-dir", type=Path, required=True, help="folder for the output PNGs")
    parser.add_argument("--summary", type=Path,
                        help="summary file: .json (result records) or .csv (one row per file)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_engine_options(parser)
    add_output_options(parser)


def collect_inputs(paths: list[Path]) -> list[Path]:
    """Expand folders into their files, sorted; keep explicit files as given.

    Every visible regular file of a folder is taken, whatever its name: the
    format comes from the content, so a file that is not an image is reported
    as rejected rather than skipped unseen.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
        else:
            files.append(path)
    return files


def _write_summary(path: Path, rows: list[dict]) -> None:
    if path.suffix.lower() == ".csv":
        columns = ["input", "status", "output", "code", "message", "crop_box", "angle", "warnings", "total_ms"]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                record = row.get("record") or {}
                writer.writerow({
                    "input": row["input"],
                    "status": row["status"],
                    "output": row.get("output", ""),
                    "code": row.get("code", ""),
                    "message": row.get("message", ""),
                    "crop_box": " ".join(map(str, record.get("crop_box", []))),
                    "angle": record.get("angle", ""),
                    "warnings": " ".join(w["code"] for w in record.get("warnings", [])),
                    "total_ms": round(sum(record.get("timings_ms", {}).values()), 1) if record else "",
                })
    else:
        write_atomically(path, json.dumps(rows, ensure_ascii=False, indent=2).encode("utf-8"))


def run(args: argparse.Namespace) -> int:
    import engine
    from backends import get_backend
    from engine.cli import EXIT_OK, EXIT_REJECTED, EXIT_USAGE
    from engine.params import resolve_params

    try:
        options = output_options(args)
        params = resolve_params(args.params)
        backend = get_backend(args.backend)
    except SignatureEngineError as error:
        print(f"{error.code}: {error.message(args.lang)}", file=sys.stderr)
        return EXIT_USAGE
    if args.summary and args.summary.suffix.lower() not in _SUMMARY_SUFFIXES:
        error = InvalidParameter(
            str(args.summary), name="summary",
            reason="the summary file must end in .json or .csv",
            reason_fr="le fichier de synthèse doit se terminer par .json ou .csv",
        )
        print(f"{error.code}: {error.message(args.lang)}", file=sys.stderr)
        return EXIT_USAGE

    files = collect_inputs(args.inputs)
    if not files:
        print("No input files found in " + ", ".join(map(str, args.inputs)) + ".", file=sys.stderr)
        return EXIT_REJECTED

    rows: list[dict] = []
    failures: list[tuple[Path, str, str]] = []
    for path in tqdm(files, desc="signatures", unit="file", disable=args.no_progress, file=sys.stderr):
        try:
            result = engine.process(path, params=params, backend=backend, output=options)
        except SignatureEngineError as error:
            failures.append((path, error.code, error.message(args.lang)))
            rows.append({"input": str(path), "status": "rejected", "code": error.code,
                         "message": error.message(args.lang)})
            continue
        output = args.output_dir / f"{path.stem}.png"
        write_atomically(output, result.image_bytes)
        rows.append({"input": str(path), "status": "ok", "output": str(output),
                     "record": result.to_record(args.lang)})

    if args.summary:
        _write_summary(args.summary, rows)
    done = len(files) - len(failures)
    print(f"{done} of {len(files)} files processed into {args.output_dir}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} failed:", file=sys.stderr)
        for path, code, message in failures:
            print(f"  {path}: {code}: {message}", file=sys.stderr)
        return EXIT_REJECTED
    return EXIT_OK
