"""``signature-engine contact-sheet``: input | output pages for judging many results by eye."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from engine.commands._options import add_engine_options
from engine.commands.batch import collect_inputs
from engine.errors import SignatureEngineError

HELP = "Write contact-sheet pages (input with its crop box | output) for a folder of photos."

_CELL = (360, 240)  # (width, height) of one thumbnail
_LABEL_HEIGHT = 30
_PAIRS_PER_ROW = 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, help="image files or folders")
    parser.add_argument("-o", "--output-dir", type=Path, required=True, help="folder for the page PNGs")
    parser.add_argument("--rows", type=int, default=6, help="rows per page (default 6)")
    add_engine_options(parser)


def _thumbnail(picture: Image.Image) -> Image.Image:
    picture = picture.copy()
    picture.thumbnail(_CELL)
    cell = Image.new("RGB", _CELL, (235, 235, 235))
    cell.paste(picture, ((_CELL[0] - picture.width) // 2, (_CELL[1] - picture.height) // 2))
    return cell


def _input_cell(data: bytes, box: list[int] | None) -> Image.Image:
    from engine.decode import load_image

    try:
        decoded = load_image(data, max_side=1200)
    except SignatureEngineError:
        return Image.new("RGB", _CELL, (200, 200, 200))
    picture = Image.fromarray(decoded.pixels)
    if box is not None:
        scale = decoded.scale
        x, y, w, h = (v * scale for v in box)
        width = max(2, picture.width // 250)
        ImageDraw.Draw(picture).rectangle([x, y, x + w, y + h], outline=(230, 0, 0), width=width)
    return _thumbnail(picture)


def _output_cell(rgba: np.ndarray) -> Image.Image:
    # Show the transparent output over a light checkerboard, as image editors do.
    height, width = rgba.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width]
    board = np.where(((yy // 12 + xx // 12) % 2)[..., None] == 0, 255, 225).astype(np.float32)
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    composite = rgba[..., :3] * alpha + board * (1.0 - alpha)
    return _thumbnail(Image.fromarray(composite.astype(np.uint8)))


def _label(text: str, width: int) -> Image.Image:
    strip = Image.new("RGB", (width, _LABEL_HEIGHT), "white")
    ImageDraw.Draw(strip).text((4, 2), text[:110], fill=(0, 0, 0))
    return strip


def render_pair(path: Path, params, backend) -> tuple[Image.Image, str]:
    """Return one contact-sheet cell (input | output with a label) and its one-line status."""
    import engine

    data = path.read_bytes()
    try:
        result = engine.process(data, params=params, backend=backend)
    except SignatureEngineError as error:
        left, right = _input_cell(data, None), Image.new("RGB", _CELL, (255, 225, 225))
        ImageDraw.Draw(right).text((10, _CELL[1] // 2), f"REJECTED: {error.code}", fill=(160, 0, 0))
        status = f"{path.name}: {error.code}"
    else:
        left, right = _input_cell(data, result.crop_box.as_list()), _output_cell(result.image)
        warnings = ",".join(result.warning_codes) or "-"
        status = f"{path.name}: angle {result.angle:+.1f} ({result.angle_confidence:.2f}) {warnings}"
    pair = Image.new("RGB", (2 * _CELL[0] + 6, _CELL[1] + _LABEL_HEIGHT), "white")
    pair.paste(left, (0, 0))
    pair.paste(right, (_CELL[0] + 6, 0))
    pair.paste(_label(status, pair.width), (0, _CELL[1]))
    return pair, status


def run(args: argparse.Namespace) -> int:
    from engine.cli import EXIT_OK, EXIT_REJECTED

    files = collect_inputs(args.inputs)
    if not files:
        print("No input images found.", file=sys.stderr)
        return EXIT_REJECTED
    args.output_dir.mkdir(parents=True, exist_ok=True)

    cells = []
    for path in tqdm(files, desc="contact sheet", unit="file", file=sys.stderr):
        cell, status = render_pair(path, args.params, args.backend)
        cells.append(cell)
        print(status)

    per_page = args.rows * _PAIRS_PER_ROW
    cell_w, cell_h = cells[0].size
    for page_number, start in enumerate(range(0, len(cells), per_page), start=1):
        page_cells = cells[start : start + per_page]
        rows = (len(page_cells) + _PAIRS_PER_ROW - 1) // _PAIRS_PER_ROW
        page = Image.new("RGB", (_PAIRS_PER_ROW * (cell_w + 12), rows * (cell_h + 12)), (120, 120, 120))
        for index, cell in enumerate(page_cells):
            column, row = index % _PAIRS_PER_ROW, index // _PAIRS_PER_ROW
            page.paste(cell, (column * (cell_w + 12) + 6, row * (cell_h + 12) + 6))
        target = args.output_dir / f"contact_sheet_{page_number:02d}.png"
        page.save(target)
        print(f"wrote {target}", file=sys.stderr)
    return EXIT_OK
