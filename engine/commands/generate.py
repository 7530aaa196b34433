"""``signature-engine generate``: render a synthetic sample set, or define a set over existing pairs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Generate a synthetic sample set with ground truth (--recipe), or a set over existing image pairs (--pairs)."


def configure(parser: argparse.ArgumentParser) -> None:
    from samples.recipes import RECIPES

    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        default="default",
        help="which set to render: default (32 photos, about 1.2 MP), large (108 photos, 1.9 to 12 MP), "
        "smoke (4 small photos); default: default",
    )
    source.add_argument(
        "--pairs",
        type=Path,
        metavar="FOLDER",
        help="write a binarisation set that references the NAME.png / NAME_gt.png pairs in FOLDER "
        "without copying them",
    )
    source.add_argument(
        "--readme-photo",
        action="store_true",
        help="render the README's sample photo into the --out FILE (the committed one is samples/photo/signature_photo.jpg)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder of the set (or file for --readme-photo)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the whole set; same seed, same bytes (default 0)")
    parser.add_argument("--name", help="set name written in the manifest (default: the folder name)")
    parser.add_argument(
        "--relative-to",
        choices=("repo", "set"),
        default="repo",
        help="with --pairs: write paths relative to the repository root (default) or to the set folder",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from engine.cli import EXIT_OK, EXIT_REJECTED, EXIT_USAGE
    from engine.errors import SignatureEngineError

    if args.jobs < 1:
        print(f"invalid --jobs {args.jobs}: expected 1 or more", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.readme_photo:
            from samples.recipes import write_readme_photo

            path = write_readme_photo(args.out)
            print(f"wrote {path}", file=sys.stderr)
            return EXIT_OK
        if args.pairs is not None:
            from samples.external import pairs_manifest

            if not args.pairs.is_dir():
                print(f"--pairs folder not found: {args.pairs}", file=sys.stderr)
                return EXIT_REJECTED
            sample_set = pairs_manifest(
                args.pairs,
                args.out / "manifest.json",
                name=args.name or args.out.resolve().name,
                relative_to=args.relative_to,
            )
        else:
            from samples.recipes import generate_set

            sample_set = generate_set(
                args.recipe,
                args.out,
                args.seed,
                name=args.name,
                jobs=args.jobs,
                progress=not args.no_progress,
            )
    except SignatureEngineError as error:
        print(f"{error.code}: {error.message('en')}", file=sys.stderr)
        return EXIT_REJECTED

    counts = ", ".join(f"{name} {count}" for name, count in sample_set.categories().items())
    print(f"wrote {len(sample_set.items)} items to {sample_set.path} ({counts})", file=sys.stderr)
    return EXIT_OK
