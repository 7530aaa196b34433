"""The command line's contract for scripts: exit codes, JSON, and no output on rejection."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "photo" / "signature_photo.jpg"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_process_json_success(tmp_path):
    output = tmp_path / "signature.png"
    completed = run_cli("process", str(SAMPLE), "-o", str(output), "--json")
    assert completed.returncode == 0, completed.stderr
    record = json.loads(completed.stdout)
    assert record["input"]["format"] == "JPEG"
    assert output.read_bytes().startswith(b"\x89PNG")


def test_cli_process_rejection_writes_nothing(tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image at all")
    output = tmp_path / "signature.png"
    completed = run_cli("process", str(bad), "-o", str(output), "--json", "--lang", "en")
    assert completed.returncode == 1
    payload = json.loads(completed.stdout)
    assert payload["code"] == "unsupported_format"
    assert "PNG" in payload["message"]
    assert not output.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_cli_process_message_french_by_default(tmp_path):
    empty = tmp_path / "vide.jpg"
    empty.write_bytes(b"")
    completed = run_cli("process", str(empty), "-o", str(tmp_path / "out.png"), "--json")
    assert json.loads(completed.stdout)["code"] == "empty_file"
    assert "vide" in json.loads(completed.stdout)["message"]


def test_cli_batch_goes_on_past_bad_files(tmp_path):
    bad = tmp_path / "inputs" / "broken.jpg"
    bad.parent.mkdir()
    bad.write_bytes(b"\xff\xd8\xff\xe0broken")
    (tmp_path / "inputs" / "good.jpg").write_bytes(SAMPLE.read_bytes())
    summary = tmp_path / "summary.csv"
    completed = run_cli("batch", str(tmp_path / "inputs"), "-o", str(tmp_path / "out"),
                        "--summary", str(summary), "--no-progress")
    assert completed.returncode == 1
    assert (tmp_path / "out" / "good.png").exists()
    assert not (tmp_path / "out" / "broken.png").exists()
    assert "broken.jpg" in completed.stderr
    assert summary.read_text().count("\n") == 3


def test_cli_help_lists_commands():
    completed = run_cli("--help")
    assert completed.returncode == 0
    for command in ("process", "batch", "contact-sheet"):
        assert command in completed.stdout


@pytest.mark.parametrize("args", [["process"], ["process", "x.jpg"]])
def test_cli_usage_error_exit_code(args):
    assert run_cli(*args).returncode == 2


def test_cli_contact_sheet_writes_pages(tmp_path):
    completed = run_cli("contact-sheet", str(SAMPLE), "-o", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "contact_sheet_01.png").exists()


def test_cli_process_folder_input_rejected(tmp_path):
    completed = run_cli("process", str(tmp_path), "-o", str(tmp_path / "out.png"), "--json")
    assert completed.returncode == 1
    payload = json.loads(completed.stdout)
    assert payload["code"] == "file_not_readable"
    assert "dossier" in payload["message"]
    assert "Traceback" not in completed.stderr


def test_cli_bad_option_is_usage_error_in_french(tmp_path):
    completed = run_cli("process", str(SAMPLE), "-o", str(tmp_path / "out.png"), "--ink", "pink", "--json")
    assert completed.returncode == 2
    message = json.loads(completed.stdout)["message"]
    assert "attendu" in message
    assert "expected" not in message


def test_cli_output_must_be_png(tmp_path):
    completed = run_cli("process", str(SAMPLE), "-o", str(tmp_path / "out.jpg"))
    assert completed.returncode == 2
    assert not (tmp_path / "out.jpg").exists()


def test_cli_output_readable_by_others(tmp_path):
    output = tmp_path / "signature.png"
    assert run_cli("process", str(SAMPLE), "-o", str(output)).returncode == 0
    assert output.stat().st_mode & 0o044 == 0o044


def test_cli_batch_reports_non_images_in_folder(tmp_path):
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an image")
    completed = run_cli("batch", str(folder), "-o", str(tmp_path / "out"), "--no-progress", "--lang", "en")
    assert completed.returncode == 1
    assert "notes.txt: unsupported_format" in completed.stderr


def test_cli_batch_summary_suffix_checked(tmp_path):
    completed = run_cli("batch", str(SAMPLE), "-o", str(tmp_path / "out"), "--summary",
                        str(tmp_path / "summary.txt"), "--no-progress")
    assert completed.returncode == 2
    assert not (tmp_path / "summary.txt").exists()


def test_cli_output_folder_must_exist(tmp_path):
    target = tmp_path / "missing" / "signature.png"
    completed = run_cli("process", str(SAMPLE), "-o", str(target))
    assert completed.returncode == 2
    assert not (tmp_path / "missing").exists()
