"""The HTTP API over real HTTP on loopback.

A uvicorn server runs the app in a thread; `signature-engine serve` runs in a child process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from service_testing import API_TOKEN, LiveServer, auth_headers

from engine.service.api import MULTIPART_OVERHEAD_BYTES, create_app, upload_limit_bytes

SIGNATURE_PATH = "/v1/accounts/acc-1/signature"


@pytest.fixture
def server(service) -> Iterator[LiveServer]:
    with LiveServer(create_app(service, api_token=API_TOKEN)) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        yield client


def upload(content: bytes, name: str = "signature.jpg") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, "image/jpeg")}


def test_http_full_lifecycle(http, signature_jpeg):
    preview = http.post(
        SIGNATURE_PATH + "/preview", headers=auth_headers(), files=upload(signature_jpeg(1))
    )
    added = http.post(
        SIGNATURE_PATH,
        headers=auth_headers(),
        files=upload(signature_jpeg(1)),
        data={"consent": "true"},
    )
    modified = http.put(
        SIGNATURE_PATH,
        headers=auth_headers(),
        files=upload(signature_jpeg(2)),
        data={"consent": "true"},
    )
    image = http.get(SIGNATURE_PATH + ".png", headers=auth_headers())
    deleted = http.delete(SIGNATURE_PATH, headers=auth_headers(), params={"confirm": "true"})
    events = http.get("/v1/accounts/acc-1/events", headers=auth_headers())

    assert preview.status_code == 200
    assert added.status_code == 201
    assert added.json()["image_sha256"] == preview.json()["image_sha256"]
    assert modified.status_code == 200
    assert image.content.startswith(b"\x89PNG")
    assert deleted.status_code == 204
    assert [e["type"] for e in events.json()["events"]] == [
        "signature_deleted",
        "signature_modified",
        "signature_added",
    ]


def test_http_health(http):
    response = http.get("/healthz")

    assert response.json() == {"status": "ok", "database": "ok"}


def test_http_weak_auth_403(http, signature_jpeg):
    response = http.post(
        SIGNATURE_PATH,
        headers=auth_headers(method="password"),
        files=upload(signature_jpeg(1)),
        data={"consent": "true"},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "strong_auth_required"


def test_http_declared_oversize_rejected_unread(server):
    # Declare a body over the cap but send none of it: the 413 must come
    # without the server waiting for the body.
    declared = upload_limit_bytes() + MULTIPART_OVERHEAD_BYTES + 1
    request = (
        f"POST {SIGNATURE_PATH} HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\n"
        f"Authorization: Bearer {API_TOKEN}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(request.encode("ascii"))
        # The server sends its response and closes the connection, so read until the close.
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    reply = b"".join(chunks).decode("utf-8", "replace")

    assert reply.startswith("HTTP/1.1 413")
    assert '"code":"file_too_large"' in reply


def test_http_chunked_oversize_cut_off(http):
    sent = 0
    chunk = b"\0" * (256 * 1024)
    limit = upload_limit_bytes() + MULTIPART_OVERHEAD_BYTES

    def endless_body() -> Iterator[bytes]:
        nonlocal sent
        yield b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n\r\n'
        # Up to four times the cap: the server should stop reading long before the end.
        while sent < 4 * limit:
            sent += len(chunk)
            yield chunk

    headers = {**auth_headers(), "Content-Type": "multipart/form-data; boundary=xyz"}
    try:
        response = http.post(SIGNATURE_PATH, headers=headers, content=endless_body())
    except httpx.TransportError:
        pytest.fail(f"the server dropped the connection without a 413 after {sent} bytes")

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"


def test_http_parallel_changes_consistent(http, service, cps, signature_jpeg):
    http.post(
        SIGNATURE_PATH,
        headers=auth_headers(),
        files=upload(signature_jpeg(1)),
        data={"consent": "true"},
    )

    def call(index: int) -> int:
        if index % 2:
            return http.delete(
                SIGNATURE_PATH, headers=auth_headers(), params={"confirm": "true"}
            ).status_code
        return http.put(
            SIGNATURE_PATH,
            headers=auth_headers(),
            files=upload(signature_jpeg(40 + index)),
            data={"consent": "true"},
        ).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(call, range(12)))

    successes = sum(status in (200, 204) for status in statuses)
    history = service.history("acc-1", auth=cps, limit=100).events
    assert set(statuses) <= {200, 204, 404}
    assert len(history) == successes + 1
    assert service.verify_history().intact


# -- the serve command, as a user starts it ------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "serve", *args]


def child_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNATURE_ENGINE_")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    env.update(overrides)
    return env


class ServeProcess:
    """`signature-engine serve` in a child process; reads its stdout until the server is up."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        # stderr goes to a file, because an unread pipe could fill up and block the server.
        self.stderr_path = cwd / "serve.stderr"
        with self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(
                serve_command(*args),
                env=env,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self.stdout_lines: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.stdout_lines.append(line)
            if line.startswith("Serving on "):
                self.ready.set()

    def wait_ready(self, port: int) -> None:
        self.ready.wait(timeout=60)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(
            f"serve did not start: {''.join(self.stdout_lines)} {self.stderr_path.read_text()}"
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def test_serve_without_token_rejected(tmp_path):
    result = subprocess.run(
        serve_command("--port", str(free_port())),
        env=child_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2
    assert "SIGNATURE_ENGINE_API_TOKEN" in result.stderr


def test_serve_short_token_rejected(tmp_path):
    result = subprocess.run(
        serve_command("--port", str(free_port())),
        env=child_env(SIGNATURE_ENGINE_API_TOKEN="short"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2


def test_serve_with_token_and_database_url(database_url, tmp_path, signature_jpeg):
    port = free_port()
    env = child_env(
        SIGNATURE_ENGINE_API_TOKEN=API_TOKEN, SIGNATURE_ENGINE_DATABASE_URL=database_url
    )
    serve = ServeProcess(["--port", str(port), "--workers", "1"], env, tmp_path)
    try:
        serve.wait_ready(port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            added = http.post(
                SIGNATURE_PATH,
                headers=auth_headers(),
                files=upload(signature_jpeg(1)),
                data={"consent": "true"},
            )
            unauthorized = http.get(SIGNATURE_PATH)
    finally:
        serve.stop()

    assert added.status_code == 201
    assert unauthorized.status_code == 401
    assert any(line.startswith("Database: ") for line in serve.stdout_lines)
    assert "1 image worker" in "".join(serve.stdout_lines)


def test_serve_dev_prints_token_and_default_database(tmp_path):
    port = free_port()
    serve = ServeProcess(["--port", str(port), "--dev"], child_env(), tmp_path)
    try:
        serve.wait_ready(port)
        token_line = next(
            line for line in serve.stdout_lines if line.startswith("Development API token")
        )
        token = token_line.rsplit(" ", 1)[1].strip()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            response = http.get(
                "/v1/accounts/acc-1/events",
                headers={**auth_headers(), "Authorization": f"Bearer {token}"},
            )
    finally:
        serve.stop()

    database_file = tmp_path / "signature-engine.sqlite3"
    assert response.status_code == 200
    assert database_file.is_file()
    assert f"Database: sqlite:///{database_file}\n" in serve.stdout_lines
