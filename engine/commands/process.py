"""``signature-engine process``: one photo in, one signature image out."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from backends import get_backend
from engine.commands._options import (
    add_engine_options,
    add_output_options,
    check_png_suffix,
    output_options,
    parse_crop,
)
from engine.errors import SignatureEngineError
from engine.params import resolve_params

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
    """Write ``data`` to ``path`` through a temporary file, so a reader never sees half a file.

    The file gets the usual permissions for a new file (0666 less the umask):
    ``mkstemp`` alone would leave it readable by its owner only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def report_error(error: SignatureEngineError, args: argparse.Namespace) -> None:
    """Print ``{"code", "message"}`` as JSON on stdout with ``--json``, else ``code: message`` on stderr."""
    payload = error.to_dict(args.lang)
    if getattr(args, "json", False):
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(f"{payload['code']}: {payload['message']}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    import engine
    from engine.cli import EXIT_INTERNAL, EXIT_OK, EXIT_REJECTED, EXIT_USAGE

    # Options are checked before the photo is read: a bad option is a usage error.
    try:
        options = output_options(args)
        crop = parse_crop(args.crop)
        check_png_suffix(args.output)
        engine_params = resolve_params(args.params)
        backend = get_backend(args.backend)
    except SignatureEngineError as error:
        report_error(error, args)
        # A chosen backend that is not installed is a set-up problem, not a typo.
        return EXIT_INTERNAL if error.http_status >= 500 else EXIT_USAGE

    try:
        result = engine.process(
            args.input, params=engine_params, backend=backend, crop=crop, rotation=args.rotate, output=options
        )
    except SignatureEngineError as error:
        report_error(error, args)
        return EXIT_REJECTED if error.http_status < 500 else EXIT_INTERNAL

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
