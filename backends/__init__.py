"""Interchangeable image-processing backends for the signature engine.

``get_backend(name)`` returns a ready backend instance. With no name it uses the
``SIGNATURE_ENGINE_BACKEND`` environment variable, then the default.
"""

from __future__ import annotations

import importlib
import os

from backends.base import Backend, Components

__all__ = ["Backend", "Components", "get_backend"]

DEFAULT_BACKEND = "opencv"

# name -> (module, class, pip extra that provides its dependencies)
_BACKENDS = {
    "opencv": ("backends.opencv", "OpenCVBackend", "opencv"),
}

_instances: dict[str, Backend] = {}


def get_backend(name: str | Backend | None = None) -> Backend:
    """Return the backend called ``name`` (or ``name`` itself when it already is one)."""
    from engine.errors import BackendNotAvailable, UnknownBackend

    if isinstance(name, Backend):
        return name
    name = name or os.environ.get("SIGNATURE_ENGINE_BACKEND") or DEFAULT_BACKEND
    if name in _instances:
        return _instances[name]
    if name not in _BACKENDS:
        raise UnknownBackend(name, known=sorted(_BACKENDS))

    module_name, class_name, extra = _BACKENDS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise BackendNotAvailable(name, extra=extra, reason=str(error)) from error
    backend = getattr(module, class_name)()
    _instances[name] = backend
    return backend
