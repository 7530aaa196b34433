"""Backends added by other packages through the ``signature_engine.backends`` entry point group.

Each test builds a small installed-looking package in ``tmp_path`` (a module plus
a ``.dist-info`` folder with ``entry_points.txt``) and runs Python in a
subprocess with that folder on ``sys.path``, so discovery reads a fresh
``importlib.metadata`` and the test process's registry is left alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FAKE_MODULE = '''
"""A third-party backend for the tests: the Pillow backend under another name."""
from backends.pillow import PillowBackend


class FakeBackend(PillowBackend):
    name = "fake"
    marker = "from the fake package"
'''

ENTRY_POINTS = """
[signature_engine.backends]
fake = fake_signature_backend:FakeBackend
needs_missing = fake_signature_backend_missing:Backend
opencv = fake_signature_backend:FakeBackend
malformed = fake_signature_backend
"""


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    """Return a folder holding the fake package and its dist-info, as a site-packages would."""
    (tmp_path / "fake_signature_backend.py").write_text(FAKE_MODULE, encoding="utf-8")
    dist_info = tmp_path / "fake_signature_backend-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-signature-backend\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    return tmp_path


def _run(code: str, plugin_path: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(plugin_path)}
    environment.pop("SIGNATURE_ENGINE_BACKEND", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _json(completed: subprocess.CompletedProcess):
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_entry_point_backend_selected_by_name(plugin_path):
    code = """
        import json
        from backends import get_backend
        backend = get_backend("fake")
        print(json.dumps([backend.name, backend.marker]))
    """
    assert _json(_run(code, plugin_path)) == ["fake", "from the fake package"]


def test_entry_point_backend_runs_pipeline(plugin_path):
    code = """
        import json
        import engine
        result = engine.process("samples/photo/signature_photo.jpg", backend="fake")
        print(json.dumps(result.backend))
    """
    assert _json(_run(code, plugin_path)) == "fake"


def test_entry_point_backend_listed_with_distribution(plugin_path):
    code = """
        import json
        from backends import registered_backends
        print(json.dumps({spec.name: spec.distribution for spec in registered_backends()}))
    """
    listed = _json(_run(code, plugin_path))
    assert listed["fake"] == "fake-signature-backend"


def test_entry_point_cannot_replace_builtin(plugin_path):
    code = """
        import json
        from backends import get_backend
        print(json.dumps(type(get_backend("opencv")).__name__))
    """
    completed = _run(code, plugin_path)
    assert _json(completed) == "OpenCVBackend"


def test_entry_point_name_clash_logged(plugin_path):
    code = """
        import json, logging
        logging.basicConfig(level=logging.WARNING)
        from backends import registered_backends
        registered_backends()
        print(json.dumps("done"))
    """
    completed = _run(code, plugin_path)
    assert "Ignoring backend entry point 'opencv'" in completed.stderr


def test_malformed_entry_point_ignored(plugin_path):
    code = """
        import json
        from backends import registered_backends
        print(json.dumps(sorted(spec.name for spec in registered_backends())))
    """
    assert "malformed" not in _json(_run(code, plugin_path))


def test_entry_point_missing_module_names_distribution(plugin_path):
    code = """
        import json
        from backends import get_backend
        from engine.errors import BackendNotAvailable
        try:
            get_backend("needs_missing")
        except BackendNotAvailable as error:
            print(json.dumps([error.code, error.message("en")]))
    """
    code_value, message = _json(_run(code, plugin_path))
    assert code_value == "backend_not_available"
    assert "pip install fake-signature-backend" in message


def test_entry_point_never_chosen_automatically(plugin_path):
    code = """
        import json
        from backends import get_backend
        print(json.dumps(get_backend().name))
    """
    assert _json(_run(code, plugin_path)) == "opencv"


def test_backends_command_lists_entry_point(plugin_path):
    completed = _run(
        "import sys; from engine.cli import main; sys.exit(main(sys.argv[1:]))",
        plugin_path,
        "backends",
        "--json",
    )
    listed = {row["name"]: row for row in _json(completed)["backends"]}
    assert listed["fake"]["provided_by"] == "fake-signature-backend"
