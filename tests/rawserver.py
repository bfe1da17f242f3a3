"""A raw TCP server for the outbound-call tests: each connection runs a script that answers (or
misbehaves) byte by byte, so timeouts, drips and hang-ups can be provoked exactly.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


class RawServer:
    """A TCP server on 127.0.0.1 that runs ``script(conn)`` for each connection and counts them."""

    def __init__(self, script: Callable[[socket.socket], None]) -> None:
        self.script = script
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        # The client hanging up mid-script is what several tests provoke.
        with conn, contextlib.suppress(OSError):
            self.script(conn)

    def url(self, path: str = "/bot") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


def request_read(conn: socket.socket) -> None:
    """Read a request's head (up to its blank line), or until the client hangs up."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (connecting to it is refused)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]
