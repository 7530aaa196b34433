"""The Pillow backend on a host where OpenCV, scikit-image and SciPy cannot be imported.

Each test runs Python in a subprocess whose first ``sys.meta_path`` finder
raises ImportError for ``cv2``, ``skimage`` and ``scipy``, as if they were not
installed, then goes through the public entry points.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "photo" / "signature_photo.jpg"

BLOCKER = """
import sys

BLOCKED = ("cv2", "skimage", "scipy")


class BlockedImports:
    # Raising from find_spec makes both "import cv2" and importlib.util.find_spec("cv2") fail.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None


sys.meta_path.insert(0, BlockedImports())
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ)
    environment.pop("SIGNATURE_ENGINE_BACKEND", None)
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code), *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _json(completed: subprocess.CompletedProcess):
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_blocker_hides_opencv():
    completed = _run("import cv2")
    assert "blocked by the test" in completed.stderr


def test_pillow_backend_processes_photo():
    code = f"""
        import json, sys
        import engine
        result = engine.process({str(SAMPLE)!r}, backend="pillow")
        print(json.dumps({{
            "backend": result.backend,
            "png": result.image_bytes[:8] == b"\\x89PNG\\r\\n\\x1a\\n",
            "ink": int(result.ink_mask.sum()),
            "loaded": sorted(m for m in ("cv2", "skimage", "scipy") if m in sys.modules),
        }}))
    """
    outcome = _json(_run(code))
    assert outcome["backend"] == "pillow"
    assert outcome["png"] is True
    assert outcome["ink"] > 0
    assert outcome["loaded"] == []


def test_pillow_backend_matches_opencv_without_it():
    # The OpenCV result comes from this process, where OpenCV is available.
    import engine

    expected = engine.process(SAMPLE, backend="opencv")
    code = f"""
        import json
        import engine
        result = engine.process({str(SAMPLE)!r}, backend="pillow")
        print(json.dumps([result.crop_box.as_list(), result.angle, result.warning_codes]))
    """
    box, angle, warnings = _json(_run(code))
    assert box == expected.crop_box.as_list()
    assert abs(angle - expected.angle) <= 0.3
    assert warnings == expected.warning_codes


def test_automatic_choice_is_pillow_without_opencv():
    code = """
        import json
        from backends import get_backend
        print(json.dumps(get_backend().name))
    """
    assert _json(_run(code)) == "pillow"


def test_default_process_uses_pillow_without_opencv():
    code = f"""
        import json
        import engine
        print(json.dumps(engine.process({str(SAMPLE)!r}).backend))
    """
    assert _json(_run(code)) == "pillow"


def test_opencv_request_names_missing_extra():
    code = """
        import json
        from backends import get_backend
        from engine.errors import BackendNotAvailable
        try:
            get_backend("opencv")
        except BackendNotAvailable as error:
            print(json.dumps(error.message("en")))
    """
    message = _json(_run(code))
    assert "pip install 'signature-engine[opencv]'" in message


def test_skimage_request_names_missing_extra():
    code = """
        import json
        from backends import get_backend
        from engine.errors import BackendNotAvailable
        try:
            get_backend("skimage")
        except BackendNotAvailable as error:
            print(json.dumps(error.message("en")))
    """
    message = _json(_run(code))
    assert "pip install 'signature-engine[skimage]'" in message


def test_process_command_with_pillow_backend(tmp_path):
    output = tmp_path / "signature.png"
    code = "import sys; from engine.cli import main; sys.exit(main(sys.argv[1:]))"
    completed = _run(code, "process", str(SAMPLE), "-o", str(output), "--backend", "pillow")
    assert completed.returncode == 0, completed.stderr
    assert output.read_bytes()[:4] == b"\x89PNG"


def test_backends_command_shows_missing_extras():
    code = "import sys; from engine.cli import main; sys.exit(main(sys.argv[1:]))"
    listed = {row["name"]: row for row in _json(_run(code, "backends", "--json"))["backends"]}
    assert listed["skimage"]["installed"] is False
