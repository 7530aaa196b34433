"""signature-engine: turn a photo or scan of a handwritten signature into a clean signature image.

The main entry point is :func:`process`, which takes the bytes of an upload and
returns a :class:`Result` with the PNG and a JSON-serialisable record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import SignatureEngineError
from engine.result import Box, QualityWarning, Result

__version__ = "0.1.0"

__all__ = [
    "Box",
    "QualityWarning",
    "Result",
    "SignatureEngineError",
    "__version__",
    "binarize_image",
    "process",
]

if TYPE_CHECKING:
    from engine.pipeline import binarize_image, process


def __getattr__(name: str) -> Any:
    # The pipeline pulls in NumPy-heavy modules; import it on first use only.
    if name in ("process", "binarize_image"):
        from engine import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
