"""A hostile arena.v1 bot server of the project's own: one misbehaviour per path.

Standard library only (http.server, threaded). Signatures are not checked: the server plays bots
that break the protocol, not careful ones. Every answer is recorded (``sent``) so a test can compare
what was stored with exactly what the bot sent.

Paths (``_Handler``):

- ``/ok``: a valid answer (attackers and defenders) after ``ok_delay_seconds`` (none by default, a
  slow but valid bot keeps a round going long enough to hurt it mid-round); ``/ok-end`` also says
  ``end`` at once.
- ``/hang``: never answers within any deadline (sleeps ``hang_seconds``).
- ``/status-503``: always HTTP 503 (retried, then http_status).
- ``/not-json``: HTTP 200 with an HTML page.
- ``/wrong-types``: HTTP 200, ``content`` is a number and ``end`` a string.
- ``/huge``: a valid JSON body over 1 MiB.
- ``/gzip-huge``: a small gzip body that inflates to over 1 MiB (Content-Encoding: gzip).
- ``/drip``: sends its valid body one byte every ``drip_seconds`` (past the deadline).
- ``/redirect``: HTTP 302 to ``/ok``.
- ``/reset``: closes the connection with an RST before answering.
- ``/random``: answers 503 or a valid message, drawn from a generator seeded with ``seed``.
- ``/html``, ``/formula-eq``, ``/formula-plus``, ``/formula-minus``, ``/formula-at``, ``/rtl``:
  valid answers whose content is hostile text (``HOSTILE_TEXTS``), to be stored byte for byte.
- ``/nul``: content with a NUL character (bad_content: never stored).
- ``/long``: 100,000 characters of content (over the message limit: bad_content).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import random
import socket
import struct
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MIB = 1024 * 1024
HOSTILE_TEXTS = {
    "/html": "<script>alert('x')</script><img src=x onerror=alert(1)> & <b>bold</b>",
    "/formula-eq": "=cmd|' /C calc'!A0",
    "/formula-plus": "+1+cmd|' /C calc'!A0",
    "/formula-minus": "-2+3+cmd|' /C calc'!A0",
    "/formula-at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "/rtl": "safe \u202etxt.exe\u202c and \u200f\u0645\u0631\u062d\u0628\u0627\u200e \u2067isolated\u2069 end",
}
NUL_TEXT = "before\u0000after"
LONG_TEXT = "A" * 100_000


@dataclass
class HostileServer:
    server: ThreadingHTTPServer
    seed: int = 1
    hang_seconds: float = 5.0
    drip_seconds: float = 0.3
    ok_delay_seconds: float = 0.0
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # (path, X-Arena-Delivery, content) of every valid-looking 200 answer sent.
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    """Answers each path with its misbehaviour (the module docstring); the server's ``hostile`` is the
    HostileServer that holds the settings and records the calls."""

    protocol_version = "HTTP/1.1"
    server: _Server

    # The paths that break the protocol itself, each by one method; every other path answers content.
    FAULTS = {
        "/hang": "_hang",
        "/status-503": "_unavailable",
        "/not-json": "_not_json",
        "/wrong-types": "_wrong_types",
        "/huge": "_huge",
        "/gzip-huge": "_gzip_huge",
        "/drip": "_drip",
        "/redirect": "_redirect",
        "/reset": "_reset",
    }

    @property
    def hostile(self) -> HostileServer:
        return self.server.hostile

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        payload = json.loads(body)
        path = self.path
        with self.hostile.lock:
            self.hostile.calls[path] += 1
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(path, payload)

    def _answer(self, path: str, payload: dict) -> None:
        if payload.get("type") == "ping":
            self._json(200, {"ok": True})
        elif path in self.FAULTS:
            getattr(self, self.FAULTS[path])()
        elif path == "/random" and self._unlucky():
            self._json(503, {"error": "random failure"})
        else:
            content = self._content_of(path, payload)
            if content is None:
                self._json(404, {"error": "no such bot"})
            else:
                self._content(path, content)

    def _unlucky(self) -> bool:
        with self.hostile.lock:
            return self.hostile.random.random() < 0.5

    def _content_of(self, path: str, payload: dict) -> str | None:
        """The content a path answers with, or None for a path no bot plays."""
        if path == "/random":
            return f"random luck for turn {payload['turn_index']}"
        if path in HOSTILE_TEXTS:
            return HOSTILE_TEXTS[path]
        if path == "/nul":
            return NUL_TEXT
        if path == "/long":
            return LONG_TEXT
        if path in ("/ok", "/ok-end"):
            time.sleep(self.hostile.ok_delay_seconds)
            return f"{payload['role']} says hello at {payload['turn_index']}"
        return None

    # --- the faults ----------------------------------------------------------------------------------

    def _hang(self) -> None:
        time.sleep(self.hostile.hang_seconds)
        self._json(200, {"content": "too late"})

    def _unavailable(self) -> None:
        self._json(503, {"error": "down for maintenance"})

    def _not_json(self) -> None:
        self._raw(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")

    def _wrong_types(self) -> None:
        self._json(200, {"content": 12345, "end": "yes"})

    def _huge(self) -> None:
        self._json(200, {"content": "x" * (MIB + 10)})

    def _gzip_huge(self) -> None:
        inflated = json.dumps({"content": "y" * (4 * MIB)}).encode()
        self._raw(200, gzip.compress(inflated), "application/json", extra={"Content-Encoding": "gzip"})

    def _drip(self) -> None:
        raw = json.dumps({"content": "slowly"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        for byte in raw:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(self.hostile.drip_seconds)

    def _redirect(self) -> None:
        self.send_response(302)
        self.send_header("Location", "/ok")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout makes close() send an RST instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    # --- writing answers -----------------------------------------------------------------------------

    def _content(self, path: str, content: str) -> None:
        answer: dict = {"content": content}
        if path == "/ok-end":
            answer["end"] = True
        with self.hostile.lock:
            self.hostile.sent.append((path, self.headers.get("X-Arena-Delivery", ""), content))
        self._json(200, answer)

    def _json(self, status: int, answer: dict) -> None:
        self._raw(status, json.dumps(answer).encode(), "application/json")

    def _raw(self, status: int, raw: bytes, content_type: str, *, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True
    hostile: HostileServer

    def handle_error(self, request, client_address) -> None:
        # A caller that gave up (a timeout) or a connection this server reset on purpose: expected here.
        pass


def hostile_server_start(
    *, seed: int = 1, hang_seconds: float = 5.0, drip_seconds: float = 0.3, ok_delay_seconds: float = 0.0
) -> HostileServer:
    """Start the server on a free loopback port, in a daemon thread; ``stop()`` it after use."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.hostile = HostileServer(
        server=server,
        seed=seed,
        hang_seconds=hang_seconds,
        drip_seconds=drip_seconds,
        ok_delay_seconds=ok_delay_seconds,
    )
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server.hostile
