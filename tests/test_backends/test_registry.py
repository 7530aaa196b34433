"""The backend registry: lookup by name, selection order, errors that name the extra, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from backend_testing import installed

from backends import (
    BUILTIN_BACKENDS,
    PREFERENCE_ORDER,
    BackendSpec,
    backend_statuses,
    get_backend,
    register_backend,
    registered_backends,
)
from backends.base import Backend
from backends.pillow import PillowBackend
from engine.errors import BackendNotAvailable, UnknownBackend

REPO = Path(__file__).resolve().parents[2]

MISSING_MODULE = "signature_engine_test_module_that_does_not_exist"


def _unavailable(name: str, extra: str) -> BackendSpec:
    """A built-in-like spec whose required module cannot be found."""
    return BackendSpec(
        name=name, module=f"backends.{name}", class_name="Nothing", requires=(MISSING_MODULE,), extra=extra
    )


def test_builtin_backends_in_preference_order(backend_registry):
    assert [spec.name for spec in BUILTIN_BACKENDS] == list(PREFERENCE_ORDER)


def test_preference_order_documented():
    assert PREFERENCE_ORDER == ("opencv", "skimage", "pillow")


@pytest.mark.parametrize("name", ["opencv", "skimage", "pillow"])
def test_get_backend_by_name(backend_registry, name):
    if not installed(name):
        pytest.skip(f"backend {name} is not installed")
    assert get_backend(name).name == name


def test_get_backend_name_case_insensitive(backend_registry):
    assert get_backend("  Pillow ").name == "pillow"


def test_get_backend_returns_instance_unchanged(backend_registry):
    backend = PillowBackend()
    assert get_backend(backend) is backend


def test_get_backend_caches_instances(backend_registry):
    assert get_backend("pillow") is get_backend("pillow")


def test_get_backend_default_is_first_installed(backend_registry):
    expected = next(name for name in PREFERENCE_ORDER if installed(name))
    assert get_backend().name == expected


def test_environment_variable_selects_backend(backend_registry, monkeypatch):
    monkeypatch.setenv("SIGNATURE_ENGINE_BACKEND", "pillow")
    assert get_backend().name == "pillow"


def test_argument_overrides_environment(backend_registry, monkeypatch):
    monkeypatch.setenv("SIGNATURE_ENGINE_BACKEND", "nonexistent")
    assert get_backend("pillow").name == "pillow"


def test_empty_environment_variable_ignored(backend_registry, monkeypatch):
    monkeypatch.setenv("SIGNATURE_ENGINE_BACKEND", "")
    expected = next(name for name in PREFERENCE_ORDER if installed(name))
    assert get_backend().name == expected


def test_unknown_backend_raises(backend_registry):
    with pytest.raises(UnknownBackend, match="nonexistent"):
        get_backend("nonexistent")


def test_unknown_backend_lists_known_names(backend_registry):
    with pytest.raises(UnknownBackend) as raised:
        get_backend("nonexistent")
    assert "opencv, pillow, skimage" in raised.value.message("en")


def test_unknown_backend_from_environment_raises(backend_registry, monkeypatch):
    monkeypatch.setenv("SIGNATURE_ENGINE_BACKEND", "nonexistent")
    with pytest.raises(UnknownBackend, match="nonexistent"):
        get_backend()


def test_missing_dependency_names_extra(backend_registry):
    register_backend(_unavailable("skimage", "skimage"), replace=True)
    with pytest.raises(BackendNotAvailable, match=r"pip install 'signature-engine\[skimage\]'"):
        get_backend("skimage")


def test_missing_dependency_names_module(backend_registry):
    register_backend(_unavailable("skimage", "skimage"), replace=True)
    with pytest.raises(BackendNotAvailable, match=MISSING_MODULE):
        get_backend("skimage")


def test_missing_dependency_message_in_french(backend_registry):
    register_backend(_unavailable("skimage", "skimage"), replace=True)
    with pytest.raises(BackendNotAvailable) as raised:
        get_backend("skimage")
    assert raised.value.message("fr").startswith("Le backend 'skimage' n'est pas installé")


def test_explicit_choice_never_falls_back(backend_registry, monkeypatch):
    register_backend(_unavailable("opencv", "opencv"), replace=True)
    monkeypatch.setenv("SIGNATURE_ENGINE_BACKEND", "opencv")
    with pytest.raises(BackendNotAvailable, match="opencv"):
        get_backend()


def test_automatic_choice_skips_missing_backend(backend_registry):
    register_backend(_unavailable("opencv", "opencv"), replace=True)
    expected = next(name for name in PREFERENCE_ORDER[1:] if installed(name))
    assert get_backend().name == expected


def test_automatic_choice_skips_broken_backend(backend_registry, caplog):
    broken = BackendSpec(
        name="opencv", module="backends.base", class_name="Components", requires=("numpy",), extra="opencv"
    )
    register_backend(broken, replace=True)
    get_backend()
    assert "Skipping backend 'opencv'" in caplog.text


def test_automatic_choice_fails_when_nothing_installed(backend_registry):
    for name in PREFERENCE_ORDER:
        register_backend(_unavailable(name, name), replace=True)
    with pytest.raises(BackendNotAvailable, match="none of opencv, skimage, pillow is installed"):
        get_backend()


def test_class_that_is_not_a_backend_rejected(backend_registry):
    spec = BackendSpec(name="numbers", module="numpy", class_name="ndarray", requires=("numpy",), extra="all")
    register_backend(spec)
    with pytest.raises(BackendNotAvailable, match="not a Backend subclass"):
        get_backend("numbers")


def test_backend_failing_to_start_raises_not_available(backend_registry):
    def explode() -> Backend:
        raise RuntimeError("no device")

    register_backend(BackendSpec(name="exploding", module="", class_name="", factory=explode))
    with pytest.raises(BackendNotAvailable, match="no device"):
        get_backend("exploding")


def test_module_failing_on_import_raises_not_available(backend_registry, tmp_path, monkeypatch):
    (tmp_path / "signature_engine_broken_plugin.py").write_text("raise RuntimeError('bad build')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = BackendSpec(name="broken_import", module="signature_engine_broken_plugin", class_name="X",
                       requires=("signature_engine_broken_plugin",), distribution="broken-plugin")
    register_backend(spec)
    with pytest.raises(BackendNotAvailable, match="bad build"):
        get_backend("broken_import")


def test_register_backend_refuses_duplicate(backend_registry):
    with pytest.raises(ValueError, match="already registered"):
        register_backend(BUILTIN_BACKENDS[0])


def test_factory_backend_used_by_name(backend_registry):
    class Doubler(PillowBackend):
        name = "doubler"

        def dilate(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
            return image * 2

    register_backend(BackendSpec(name="doubler", module="", class_name="", factory=Doubler))
    assert get_backend("doubler").dilate(np.ones((2, 2), np.uint8), (3, 3)).max() == 2


def test_factory_backend_not_chosen_automatically(backend_registry):
    register_backend(BackendSpec(name="zzz", module="", class_name="", factory=PillowBackend))
    assert get_backend().name in PREFERENCE_ORDER


def test_reset_registry_forgets_registrations(backend_registry):
    register_backend(BackendSpec(name="temporary", module="", class_name="", factory=PillowBackend))
    backend_registry.reset_registry()
    with pytest.raises(UnknownBackend):
        get_backend("temporary")


def test_registered_backends_lists_builtins_first(backend_registry):
    register_backend(BackendSpec(name="aaa", module="", class_name="", factory=PillowBackend))
    names = [spec.name for spec in registered_backends()]
    assert names[:3] == list(PREFERENCE_ORDER)


def test_statuses_report_missing_modules(backend_registry):
    register_backend(_unavailable("skimage", "skimage"), replace=True)
    status = {status.spec.name: status for status in backend_statuses()}["skimage"]
    assert status.missing == (MISSING_MODULE,)


def test_statuses_check_reports_broken_backend(backend_registry):
    broken = BackendSpec(name="broken", module=MISSING_MODULE, class_name="X", requires=("numpy",), extra="all")
    register_backend(broken)
    status = {status.spec.name: status for status in backend_statuses(check=True)}["broken"]
    assert status.error is not None


def test_install_command_of_builtin():
    assert BUILTIN_BACKENDS[1].install_command == "pip install 'signature-engine[skimage]'"


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_selecting_pillow_imports_no_other_library():
    code = (
        "import json, sys\n"
        "from backends import get_backend\n"
        "get_backend('pillow')\n"
        "print(json.dumps(sorted(m for m in ('cv2', 'skimage', 'scipy', 'backends.opencv') if m in sys.modules)))\n"
    )
    completed = _run_python(code)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == []


def test_listing_backends_imports_none():
    code = (
        "import json, sys\n"
        "from backends import backend_statuses\n"
        "backend_statuses()\n"
        "print(json.dumps(sorted(m for m in ('cv2', 'skimage', 'scipy', 'PIL') if m in sys.modules)))\n"
    )
    completed = _run_python(code)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == []


def test_backend_interface_fully_implemented():
    for spec in BUILTIN_BACKENDS:
        if not installed(spec.name):
            continue
        backend_class = type(get_backend(spec.name))
        assert not getattr(backend_class, "__abstractmethods__", None), spec.name


def test_backends_subclass_interface():
    for spec in BUILTIN_BACKENDS:
        if installed(spec.name):
            assert isinstance(get_backend(spec.name), Backend)
