"""Interchangeable image-processing backends for the signature engine.

Each backend is described by data (:class:`BackendSpec`: name, module, class,
the modules it needs and the pip extra that provides them) and its module is
imported only when the backend is selected. :func:`get_backend` selects one:

1. an explicit choice: the ``name`` argument (the CLI's ``--backend``), else
   the ``SIGNATURE_ENGINE_BACKEND`` environment variable. A name that is not
   registered raises :class:`~engine.errors.UnknownBackend`; a backend whose
   dependencies are missing raises :class:`~engine.errors.BackendNotAvailable`
   naming the extra to install. An explicit choice never falls back to
   another backend.
2. otherwise the first installed backend in :data:`PREFERENCE_ORDER`:
   ``opencv`` (installed with the package), ``skimage``, ``pillow``.

Other packages add backends through the ``signature_engine.backends`` entry
point group; each entry point is ``name = "module:Class"``, where ``Class``
subclasses :class:`Backend`. Such backends are used only when chosen by name.

Examples
--------
>>> from backends import get_backend
>>> get_backend("pillow").name                      # doctest: +SKIP
'pillow'
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from backends.base import Backend, Components
from engine.errors import BackendNotAvailable, SignatureEngineError, UnknownBackend

__all__ = [
    "BUILTIN_BACKENDS",
    "ENTRY_POINT_GROUP",
    "ENV_VARIABLE",
    "PREFERENCE_ORDER",
    "Backend",
    "BackendPluginNotAvailable",
    "BackendSpec",
    "BackendStatus",
    "Components",
    "backend_statuses",
    "get_backend",
    "register_backend",
    "registered_backends",
    "reset_registry",
]

logger = logging.getLogger(__name__)

ENV_VARIABLE = "SIGNATURE_ENGINE_BACKEND"
ENTRY_POINT_GROUP = "signature_engine.backends"


class BackendPluginNotAvailable(BackendNotAvailable):
    """A backend from another package cannot be imported; the remedy names that package."""

    message_fr = (
        "Le backend {value!r} n'est pas utilisable ({reason}). "
        "Installez ou réparez le paquet qui le fournit : pip install {distribution}"
    )
    message_en = (
        "The {value!r} backend cannot be used ({reason}). "
        "Install or repair the package that provides it: pip install {distribution}"
    )

    def __init__(self, value: str, *, distribution: str, reason: str) -> None:
        # Skip BackendNotAvailable's constructor: its message needs an extra,
        # this one a distribution, and both must be known before formatting.
        SignatureEngineError.__init__(self, value, extra="", reason=reason, distribution=distribution)


@dataclass(frozen=True)
class BackendSpec:
    """How to find, check and build one backend, without importing it.

    Attributes
    ----------
    name : str
        Lower-case name used by ``get_backend``, ``--backend`` and the
        environment variable.
    module, class_name : str
        Where the :class:`Backend` subclass lives; imported on first use.
    requires : tuple of str
        Top-level modules that must be importable (checked with
        ``importlib.util.find_spec``, which imports nothing).
    extra : str or None
        The ``signature-engine`` extra that installs ``requires``; None for a
        backend from another distribution.
    distribution : str or None
        The distribution that registered the backend through an entry point;
        None for built-in backends.
    description : str
        One line for ``signature-engine backends``.
    factory : callable or None
        Builds the backend instead of importing ``module``; meant for tests.
    """

    name: str
    module: str
    class_name: str
    requires: tuple[str, ...] = ()
    extra: str | None = None
    distribution: str | None = None
    description: str = ""
    factory: Callable[[], Backend] | None = field(default=None, compare=False, repr=False)

    @property
    def install_command(self) -> str:
        """The shell command that installs this backend's dependencies."""
        if self.extra is not None:
            return f"pip install 'signature-engine[{self.extra}]'"
        package = self.distribution or (self.requires[0] if self.requires else self.module)
        return f"pip install {package}"

    def missing_modules(self) -> list[str]:
        """Return the required modules that cannot be found, importing none of them."""
        missing = []
        for module in self.requires:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                missing.append(module)
        return missing

    def not_available(self, reason: str) -> BackendNotAvailable:
        """Return the error that says this backend cannot be used and how to install it."""
        if self.extra is None:
            return BackendPluginNotAvailable(
                self.name, distribution=self.distribution or self.module, reason=reason
            )
        return BackendNotAvailable(self.name, extra=self.extra, reason=reason)


@dataclass(frozen=True)
class BackendStatus:
    """Whether a registered backend can be used here, as ``signature-engine backends`` shows it.

    ``installed`` means every required module is found; with ``checked``, the
    backend was also imported and built, and ``error`` holds the reason when
    that failed.
    """

    spec: BackendSpec
    installed: bool
    missing: tuple[str, ...] = ()
    checked: bool = False
    error: str | None = None

    @property
    def usable(self) -> bool:
        return self.installed and self.error is None


BUILTIN_BACKENDS: tuple[BackendSpec, ...] = (
    BackendSpec(
        name="opencv",
        module="backends.opencv",
        class_name="OpenCVBackend",
        requires=("cv2",),
        extra="opencv",
        description="OpenCV (opencv-python-headless), installed with the package; the fastest",
    ),
    BackendSpec(
        name="skimage",
        module="backends.skimage",
        class_name="SkimageBackend",
        requires=("skimage", "scipy"),
        extra="skimage",
        description="scikit-image and SciPy",
    ),
    BackendSpec(
        name="pillow",
        module="backends.pillow",
        class_name="PillowBackend",
        requires=("PIL",),
        extra="pillow",
        description="Pillow and NumPy only, for hosts without OpenCV or SciPy",
    ),
)

# Automatic selection takes the first of these whose modules are installed.
PREFERENCE_ORDER: tuple[str, ...] = ("opencv", "skimage", "pillow")


class _Registry:
    """The specs known to this process, the plugin discovery state, and the built instances."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.specs: dict[str, BackendSpec] = {spec.name: spec for spec in BUILTIN_BACKENDS}
            self.instances: dict[str, Backend] = {}
            self.plugins_loaded = False

    def register(self, spec: BackendSpec, *, replace: bool = False) -> None:
        with self._lock:
            name = _normalise(spec.name)
            if name in self.specs and not replace:
                raise ValueError(f"backend {name!r} is already registered; pass replace=True to override it")
            self.specs[name] = spec
            self.instances.pop(name, None)

    def load_plugins(self) -> None:
        """Register the backends of the entry point group, once per process (or reset)."""
        with self._lock:
            if self.plugins_loaded:
                return
            self.plugins_loaded = True
            for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                spec = _spec_from_entry_point(entry_point)
                if spec is None:
                    continue
                if spec.name in self.specs:
                    logger.warning(
                        "Ignoring backend entry point %r from %s: the name is already registered",
                        spec.name,
                        spec.distribution,
                    )
                    continue
                self.specs[spec.name] = spec
                logger.debug("Registered backend %r from %s (%s)", spec.name, spec.distribution, entry_point.value)

    def spec(self, name: str) -> BackendSpec:
        if name not in self.specs:
            self.load_plugins()
        try:
            return self.specs[name]
        except KeyError:
            raise UnknownBackend(name, known=sorted(self.specs)) from None

    def build(self, name: str) -> Backend:
        with self._lock:
            instance = self.instances.get(name)
            if instance is not None:
                return instance
            spec = self.spec(name)
            instance = _build(spec)
            self.instances[name] = instance
            return instance


def _normalise(name: str) -> str:
    return name.strip().lower()


def _spec_from_entry_point(entry_point: importlib.metadata.EntryPoint) -> BackendSpec | None:
    module, _, class_name = entry_point.value.partition(":")
    module = module.strip()
    class_name = class_name.strip()
    distribution = entry_point.dist.name if entry_point.dist is not None else None
    if not module or not class_name:
        logger.warning(
            "Ignoring backend entry point %r from %s: expected 'module:Class', got %r",
            entry_point.name,
            distribution,
            entry_point.value,
        )
        return None
    return BackendSpec(
        name=_normalise(entry_point.name),
        module=module,
        class_name=class_name,
        requires=(module.split(".")[0],),
        extra=None,
        distribution=distribution or module.split(".")[0],
        description=f"from the {distribution or module} package",
    )


def _build(spec: BackendSpec) -> Backend:
    """Import and instantiate the backend of ``spec``, or raise BackendNotAvailable.

    Any failure to import or build it, from a missing module to a plugin's
    own bug, becomes BackendNotAvailable with the original error chained.
    """
    if spec.factory is not None:
        return _instantiate(spec, spec.factory)

    missing = spec.missing_modules()
    if missing:
        raise spec.not_available(f"module {', '.join(missing)} not found")
    try:
        module = importlib.import_module(spec.module)
    except ImportError as error:
        raise spec.not_available(str(error)) from error
    except Exception as error:  # a broken wheel or plugin can raise anything on import
        raise spec.not_available(f"importing {spec.module} failed: {error!r}") from error
    backend_class = getattr(module, spec.class_name, None)
    if not (isinstance(backend_class, type) and issubclass(backend_class, Backend)):
        raise spec.not_available(f"{spec.module}:{spec.class_name} is not a Backend subclass")
    if inspect.isabstract(backend_class):
        missing = ", ".join(sorted(backend_class.__abstractmethods__))
        raise spec.not_available(f"{spec.module}:{spec.class_name} does not implement {missing}")
    logger.debug("Backend %r loaded from %s", spec.name, spec.module)
    return _instantiate(spec, backend_class)


def _instantiate(spec: BackendSpec, factory: Callable[[], Backend]) -> Backend:
    try:
        return factory()
    except Exception as error:
        raise spec.not_available(f"creating the backend failed: {error!r}") from error


_registry = _Registry()


def get_backend(name: str | Backend | None = None) -> Backend:
    """Return a ready backend: the one named, else the environment's choice, else the first installed.

    Parameters
    ----------
    name : str, Backend or None
        A backend name (case-insensitive), or a backend instance, which is
        returned as is. None (or an empty string) defers to the
        ``SIGNATURE_ENGINE_BACKEND`` environment variable, then to the first
        installed backend in :data:`PREFERENCE_ORDER`.

    Returns
    -------
    Backend
        One shared instance per name; backends hold no per-call state.

    Raises
    ------
    engine.errors.UnknownBackend
        The name is neither built in nor provided by an entry point.
    engine.errors.BackendNotAvailable
        The chosen backend's modules are missing or fail to import; the message
        names the extra (or package) to install. Automatic selection raises it
        only when no backend in the preference order can be imported.
    """
    if isinstance(name, Backend):
        return name
    chosen = _normalise(name) if name else _normalise(os.environ.get(ENV_VARIABLE, ""))
    if chosen:
        return _registry.build(chosen)

    failures: list[BackendNotAvailable] = []
    for candidate in PREFERENCE_ORDER:
        spec = _registry.spec(candidate)
        if spec.missing_modules():
            continue
        try:
            return _registry.build(candidate)
        except BackendNotAvailable as error:
            # Found but broken (a bad wheel, a missing system library): say so,
            # then try the next one, since nobody asked for this backend by name.
            logger.warning("Skipping backend %r: %s", candidate, error.context.get("reason"))
            failures.append(error)
    if failures:
        raise failures[0]
    raise _registry.spec(PREFERENCE_ORDER[0]).not_available(
        f"none of {', '.join(PREFERENCE_ORDER)} is installed"
    )


def register_backend(spec: BackendSpec, *, replace: bool = False) -> None:
    """Add a backend to this process's registry (tests, applications embedding the engine).

    Packages should prefer the ``signature_engine.backends`` entry point group.

    Raises
    ------
    ValueError
        ``spec.name`` is already registered and ``replace`` is False.
    """
    _registry.register(spec, replace=replace)


def registered_backends() -> list[BackendSpec]:
    """Return every known backend: built-in ones in preference order, then entry points by name."""
    _registry.load_plugins()
    builtin = [_registry.specs[name] for name in PREFERENCE_ORDER if name in _registry.specs]
    others = sorted(
        (spec for name, spec in _registry.specs.items() if name not in PREFERENCE_ORDER),
        key=lambda spec: spec.name,
    )
    return builtin + others


def backend_statuses(*, check: bool = False) -> list[BackendStatus]:
    """Tell, for each registered backend, whether its modules are installed.

    Parameters
    ----------
    check : bool
        Also import and build each installed backend, to catch broken installs.
    """
    statuses = []
    for spec in registered_backends():
        missing = tuple(spec.missing_modules()) if spec.factory is None else ()
        error = None
        if check and not missing:
            try:
                _registry.build(spec.name)
            except BackendNotAvailable as failure:
                error = str(failure.context.get("reason") or failure)
        statuses.append(
            BackendStatus(spec=spec, installed=not missing, missing=missing, checked=check, error=error)
        )
    return statuses


def reset_registry() -> None:
    """Forget registered plugins, entry point discovery and built instances (for tests)."""
    _registry.reset()
