"""``signature-engine evaluate``: score the engine (and baselines) on a sample set."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Score the engine and optional baselines on a sample set: table, JSON, CSV, HTML report, regression check."

# Exit code when --compare finds a regression.
EXIT_REGRESSION = 4


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("set", metavar="SET", help="a set folder, its manifest.json, or a set name under samples/sets")
    parser.add_argument(
        "--baseline",
        action="append",
        choices=("otsu", "sauvola"),
        default=[],
        help="also score a baseline method; repeat for both (otsu: global threshold and ink box; "
        "sauvola: local threshold, ink box and the deskew package)",
    )
    parser.add_argument("--no-engine", action="store_true", help="score only the --baseline methods")
    parser.add_argument("--backend", help="engine backend (default: SIGNATURE_ENGINE_BACKEND, then opencv)")
    parser.add_argument("--params", metavar="PROFILE", help="engine parameter profile: a name or a TOML file")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write summaries and per-image scores as JSON")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write per-image scores as CSV")
    parser.add_argument("--report", type=Path, metavar="DIR", help="write an HTML report (index.html) into DIR")
    parser.add_argument("--worst", type=int, default=24, help="images shown in the report, worst first (default 24)")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="BASELINE.json",
        help=f"compare with a saved --json file; exit {EXIT_REGRESSION} on a regression "
        "(thresholds in engine/evaluation/compare.py)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from engine.cli import EXIT_OK, EXIT_REJECTED, EXIT_USAGE
    from engine.errors import SignatureEngineError
    from engine.evaluation.baselines import MethodSpec
    from engine.evaluation.compare import compare_documents
    from engine.evaluation.report import build_document, format_tables, write_csv, write_html_report, write_json
    from engine.evaluation.runner import evaluate_set
    from engine.evaluation.sets import load_set, present_items
    from engine.params import resolve_params

    methods = [] if args.no_engine else ["engine"]
    methods += list(dict.fromkeys(args.baseline))
    if not methods:
        print("nothing to evaluate: --no-engine needs at least one --baseline", file=sys.stderr)
        return EXIT_USAGE
    if args.jobs < 1:
        print(f"invalid --jobs {args.jobs}: expected 1 or more", file=sys.stderr)
        return EXIT_USAGE

    baseline_document = None
    if args.compare is not None:
        try:
            baseline_document = json.loads(args.compare.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            print(f"cannot read --compare file {args.compare}: {error}", file=sys.stderr)
            return EXIT_USAGE

    try:
        sample_set = load_set(args.set)
        items, missing = present_items(sample_set)
        params = None
        if args.params:
            # Resolve once here so a bad profile fails before any image is read.
            params = resolve_params(args.params).to_dict()
    except SignatureEngineError as error:
        print(f"{error.code}: {error.message('en')}", file=sys.stderr)
        return EXIT_REJECTED

    problems = [str(entry) for entry in missing]
    if missing:
        print(
            f"{len(missing)} file(s) of set {sample_set.name!r} are missing (paths relative to "
            f"{sample_set.base}); their {len(sample_set.items) - len(items)} item(s) are skipped:",
            file=sys.stderr,
        )
        for line in problems[:20]:
            print(f"  {line}", file=sys.stderr)
        if len(problems) > 20:
            print(f"  ... and {len(problems) - 20} more", file=sys.stderr)
    mismatches = sample_set.checksum_mismatches(items)
    for line in mismatches:
        print(f"checksum mismatch: {line}", file=sys.stderr)
    problems += [f"checksum mismatch: {line}" for line in mismatches]

    runs = []
    for name in methods:
        spec = MethodSpec(name, params=params if name == "engine" else None, backend=args.backend)
        runs.append(
            evaluate_set(
                sample_set,
                spec,
                items=items,
                jobs=args.jobs,
                artifacts=args.report is not None,
                progress=not args.no_progress,
            )
        )

    print(format_tables(runs))
    failures = [(run.label, record) for run in runs for record in run.records if "error" in record]
    for label, record in failures:
        print(f"internal error, {label} on {record['id']}: {record['error']}", file=sys.stderr)

    document = build_document(sample_set, runs, problems=problems)
    if args.json:
        write_json(document, args.json)
    if args.csv:
        write_csv(runs, args.csv)
    if args.report:
        page = write_html_report(sample_set, runs, args.report, worst=args.worst, problems=problems)
        print(f"report: {page}", file=sys.stderr)

    if baseline_document is not None:
        findings = compare_documents(baseline_document, json.loads(json.dumps(document, default=str)))
        regressions = [finding for finding in findings if finding.level == "regression"]
        for finding in findings:
            print(finding)
        if regressions:
            print(f"{len(regressions)} regression(s) against {args.compare}", file=sys.stderr)
            return EXIT_REGRESSION
        print(f"no regression against {args.compare}", file=sys.stderr)
    return EXIT_OK
