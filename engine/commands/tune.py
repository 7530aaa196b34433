"""``signature-engine tune``: search engine parameters on a sample set."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Grid or random search of engine parameters on a sample set; writes the best profile and a trials CSV."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("set", metavar="SET", help="a set folder, its manifest.json, or a set name under samples/sets")
    parser.add_argument("--space", type=Path, required=True, metavar="SPACE.toml",
                        help="search space: [search] method, trials, seed, objective, base; [params] values or ranges")
    parser.add_argument("--best", type=Path, default=Path("tuned.toml"), metavar="PROFILE.toml",
                        help="where to write the best profile (default tuned.toml); a file in engine/profiles "
                        "is then loadable by name")
    parser.add_argument("--trials", type=Path, metavar="FILE.csv",
                        help="where to write the trials table (default: beside --best, NAME_trials.csv)")
    parser.add_argument("--name", help="profile name written in the best profile (default: --best file name)")
    parser.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run trials on this Dask distributed scheduler, e.g. tcp://127.0.0.1:8786")
    parser.add_argument("--backend", help="engine backend for every trial")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _format_row(row: dict, names: list[str]) -> str:
    objective = row.get("objective")
    score = f"{objective:8.3f}" if isinstance(objective, float) else f"{'-':>8}"
    values = ", ".join(f"{name}={row.get(name)}" for name in names)
    return f"  trial {row['trial']:>4}  {row['status']:<7} objective {score}  {values}"


def run(args: argparse.Namespace) -> int:
    from engine.cli import EXIT_INTERNAL, EXIT_OK, EXIT_REJECTED, EXIT_USAGE
    from engine.errors import SignatureEngineError
    from engine.evaluation.sets import load_set, present_items
    from engine.evaluation.tune import SearchSpace, run_search, write_trials_csv

    if args.jobs < 1:
        print(f"invalid --jobs {args.jobs}: expected 1 or more", file=sys.stderr)
        return EXIT_USAGE
    try:
        space = SearchSpace.load(args.space)
        sample_set = load_set(args.set)
        items, missing = present_items(sample_set)
    except SignatureEngineError as error:
        print(f"{error.code}: {error.message('en')}", file=sys.stderr)
        return EXIT_REJECTED
    if missing:
        print(f"{len(missing)} file(s) missing; their items are skipped, e.g. {missing[0]}", file=sys.stderr)

    name = args.name or args.best.stem
    trials_path = args.trials or args.best.with_name(f"{args.best.stem}_trials.csv")
    try:
        result = run_search(
            sample_set.path,
            space,
            item_ids=[item.id for item in items] if missing else None,
            jobs=args.jobs,
            scheduler=args.scheduler,
            backend=args.backend,
            progress=not args.no_progress,
            profile_name=name,
        )
    except SignatureEngineError as error:
        print(f"{error.code}: {error.message('en')}", file=sys.stderr)
        return EXIT_REJECTED
    except OSError as error:
        print(f"cannot reach the Dask scheduler {args.scheduler}: {error}", file=sys.stderr)
        return EXIT_INTERNAL

    write_trials_csv(result, space, trials_path)
    names = [dimension.name for dimension in space.dimensions]
    ranked = sorted(
        (row for row in result.rows if row.get("objective") is not None),
        key=lambda row: -row["objective"],
    )
    print(f"{len(result.rows)} trials on {sample_set.name} ({space.method} search, objective {space.objective});"
          f" table: {trials_path}")
    print("best trials:")
    for row in ranked[:5]:
        print(_format_row(row, names))
    base_row = next((row for row in result.rows if row["trial"] == 0), None)
    if base_row is not None:
        print("base profile:")
        print(_format_row(base_row, names))
    if result.best_params is None:
        print("no trial completed without errors; no profile written", file=sys.stderr)
        return EXIT_REJECTED
    args.best.parent.mkdir(parents=True, exist_ok=True)
    result.best_params.save(args.best)
    print(f"best profile (trial {result.best['trial']}): {args.best}")
    return EXIT_OK
