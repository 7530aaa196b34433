"""Helpers of the service tests: headers, a clock, synthetic images, log capture, a live server."""

from __future__ import annotations

import json
import logging
import socket
import threading
from datetime import datetime
from typing import Any

import cv2
import numpy as np
import uvicorn

API_TOKEN = "test-token-0123456789abcdef"


class FixedClock:
    """A clock for the service that returns ``now`` and can be moved."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def auth_headers(
    method: str = "cps", actor: str = "actor-1", session: str = "session-1"
) -> dict[str, str]:
    """Return the headers of an authenticated API call."""
    return {
        "Authorization": f"Bearer {API_TOKEN}",
        "X-Auth-Method": method,
        "X-Actor-Id": actor,
        "X-Session-Id": session,
    }


def draw_signature_jpeg(seed: int, width: int = 640, height: int = 280) -> bytes:
    """Draw a cursive-like signature on off-white paper and return it as JPEG bytes.

    The signature is two words of looped strokes, in a ``width`` × ``height`` pixel image.

    Each seed gives a different stroke, ink colour and paper noise, so two seeds
    give two different processed images.
    """
    rng = np.random.default_rng(seed)
    paper = np.full((height, width, 3), 245, np.int16) + rng.integers(-6, 7, (height, width, 3))
    canvas = paper.clip(0, 255).astype(np.uint8)
    ink = tuple(int(c) for c in rng.integers(20, 60, 3))

    x_start = 0.1 * width
    for _word in range(2):
        loops = int(rng.integers(3, 6))
        t = np.linspace(0.0, loops * 2 * np.pi, 120 * loops)
        step = rng.uniform(16, 22)
        radius = rng.uniform(9, 14)
        tall = rng.uniform(28, 45)
        # A prolate cycloid makes the loops; the slow sine varies their height.
        x = x_start + step * t / (2 * np.pi) * 2.2 - radius * np.sin(t)
        y = 0.5 * height - tall * (0.5 - 0.5 * np.cos(t)) * (
            1 + 0.6 * np.sin(t / loops + rng.uniform(0, 3))
        )
        y += rng.uniform(-8, 8)
        points = np.stack([x, y], axis=1).round().astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [points], False, ink, thickness=3, lineType=cv2.LINE_AA)
        x_start = float(x.max()) + rng.uniform(25, 45)

    ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return encoded.tobytes()


class ServiceLogs(logging.Handler):
    """Capture the ``engine.service`` log lines and parse them as JSON."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_records:
            self.records.append(record)

    @property
    def lines(self) -> list[str]:
        return [record.getMessage() for record in self.records]

    @property
    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    def clear(self) -> None:
        self.records.clear()


class LiveServer:
    """A uvicorn server running an app in a thread, on a free 127.0.0.1 port."""

    def __init__(self, app: Any) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        started = threading.Event()
        for _ in range(500):
            if self._server.started:
                started.set()
                break
            started.wait(0.01)
        if not started.is_set():
            raise RuntimeError("the test server did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
