"""Page layout on the analysis image: the sheet on a desk, ruled lines, and which ink is the signature."""

from engine.layout.lines import remove_lines
from engine.layout.selection import select_signature
from engine.layout.sheet import find_sheet

__all__ = ["find_sheet", "remove_lines", "select_signature"]
