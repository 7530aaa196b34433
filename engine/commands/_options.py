"""Options shared by the commands that run the pipeline (process, batch, contact-sheet)."""

from __future__ import annotations

import argparse

from engine.errors import InvalidParameter
from engine.render import OutputOptions

__all__ = ["add_engine_options", "add_output_options", "output_options"]


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 600x200, got {text!r}") from error
    return width, height


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", help="image backend (default: SIGNATURE_ENGINE_BACKEND, then opencv)")
    parser.add_argument("--params", metavar="PROFILE", help="parameter profile: a name or a TOML file")
    parser.add_argument("--lang", choices=("fr", "en"), default="fr", help="language of user messages")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--mode", choices=("transparent", "bitonal"), default="transparent",
                       help="transparent RGBA PNG (default) or 1-bit black on white")
    group.add_argument("--ink", default="black", metavar="COLOR",
                       help="ink colour: black (default), original, or #rrggbb")
    group.add_argument("--padding", type=float, default=0.05,
                       help="margin as a fraction of the signature's larger side (default 0.05)")
    group.add_argument("--padding-px", type=int, help="margin in pixels; overrides --padding")
    group.add_argument("--size", type=_size, metavar="WxH", help="fit the signature into a canvas of this size")
    group.add_argument("--aspect", type=float, help="canvas width / height ratio")
    group.add_argument("--dpi", type=int, default=300, help="DPI written in the PNG (default 300)")


def output_options(args: argparse.Namespace) -> OutputOptions:
    """Build :class:`OutputOptions` from parsed arguments; raises InvalidParameter on bad values."""
    return OutputOptions(
        mode=args.mode,
        ink_color=args.ink,
        padding=args.padding,
        padding_px=args.padding_px,
        target_size=args.size,
        aspect_ratio=args.aspect,
        dpi=args.dpi,
    )


def parse_crop(text: str | None) -> tuple[int, int, int, int] | None:
    """Parse ``x,y,width,height``."""
    if text is None:
        return None
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError as error:
        raise InvalidParameter(text, name="crop", reason="expected x,y,width,height in pixels",
                               reason_fr="x,y,largeur,hauteur en pixels attendus") from error
    if len(values) != 4:
        raise InvalidParameter(text, name="crop", reason="expected x,y,width,height in pixels",
                               reason_fr="x,y,largeur,hauteur en pixels attendus")
    return values  # type: ignore[return-value]


def check_png_suffix(path) -> None:
    """Reject an output path in a missing folder, or whose extension is not ``.png``: the output is always a PNG."""
    from pathlib import Path

    if not Path(path).parent.is_dir():
        raise InvalidParameter(
            str(path), name="output",
            reason="the output folder does not exist: create it first",
            reason_fr="le dossier de sortie n'existe pas : créez-le d'abord",
        )
    if Path(path).suffix.lower() != ".png":
        raise InvalidParameter(
            str(path), name="output",
            reason="the output is a PNG image: give a file name ending in .png",
            reason_fr="la sortie est une image PNG : donnez un nom de fichier en .png",
        )
