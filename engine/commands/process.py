"""``signature-engine process``: one photo in, one signature image out."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from engine.commands._options import add_engine_options, add_output_options, output_options, parse_crop
from engine.errors import SignatureEngineError

HELP = "Process one photo or scan into a clean signature PNG."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="photo or scan: PNG, JPEG or HEIC")
    parser.add_argument("-o", "--output", type=Path, required=True, help="where to write the PNG")
    parser.add_argument("--json", action="store_true",
                        help="print the result record (or the error) as JSON on stdout")
    parser.add_argument("--crop", metavar="X,Y,W,H", help="manual crop in upright input pixels")
    parser.add_argument("--rotate", type=float, metavar="DEGREES",
                        help="manual rotation, counter-clockwise; replaces the automatic deskew")
    add_engine_options(parser)
    add_output_options(parser)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    import engine
    from engine.cli import EXIT_INTERNAL, EXIT_OK, EXIT_REJECTED

    try:
        result = engine.process(
            args.input,
            params=args.params,
            backend=args.backend,
            crop=parse_crop(args.crop),
            rotation=args.rotate,
            output=output_options(args),
        )
    except SignatureEngineError as error:
        payload = error.to_dict(args.lang)
        if args.json:
            print(json.dumps(payload, ensure_ascii=False))
        else:
            print(f"{payload['code']}: {payload['message']}", file=sys.stderr)
        return EXIT_REJECTED if error.http_status < 500 else EXIT_INTERNAL
    except FileNotFoundError as error:
        message = {"code": "file_not_found", "message": f"No such file: {error.filename}"}
        print(json.dumps(message) if args.json else message["message"], file=sys.stdout if args.json else sys.stderr)
        return EXIT_REJECTED

    write_atomically(args.output, result.image_bytes)
    record = result.to_record(args.lang)
    if args.json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        box = record["crop_box"]
        print(f"{args.output}: {record['output']['width']}x{record['output']['height']} px, "
              f"crop {box}, angle {record['angle']:.1f} deg, "
              f"warnings: {', '.join(result.warning_codes) or 'none'}")
    return EXIT_OK
