"""A local HTTP server that plays many arena.v1 bots at once, with faults on demand.

Tests configure each path's behaviour and read back what each bot was sent, how many calls it
served at the same time, and which delivery ids it saw. Real sockets, real threads.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Behaviour:
    latency: float = 0.0
    status: int = 200
    end_after: int | None = None  # attacker: say end=true at this turn_index
    content: str | None = None  # fixed content; default echoes the role and index
    fail_first: int = 0  # answer fail_status to the first N calls
    fail_status: int = 500
    on_call: Callable[[int], None] | None = None  # called with this path's call count, before answering


@dataclass
class Farm:
    server: ThreadingHTTPServer
    behaviours: dict[str, Behaviour] = field(default_factory=lambda: defaultdict(Behaviour))
    requests: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    headers: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    bodies: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    busy: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    peak: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def calls(self, path: str) -> int:
        return len(self.requests[path])


class FarmServer(ThreadingHTTPServer):
    # The listen backlog is fixed when the server starts listening: a class attribute, not a later
    # assignment. The player opens up to 64 connections at once.
    request_queue_size = 128
    daemon_threads = True


def farm_start() -> Farm:
    farm: Farm

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            payload = json.loads(body)
            path = self.path
            with farm.lock:
                behaviour = farm.behaviours[path]
                farm.requests[path].append(payload)
                farm.headers[path].append(dict(self.headers))
                farm.bodies[path].append(body)
                farm.busy[path] += 1
                farm.peak[path] = max(farm.peak[path], farm.busy[path])
                calls = len(farm.requests[path])
            try:
                status, answer = self._answer(behaviour, payload, calls)
            finally:
                # Done before a byte of the answer leaves: once a caller holds its answer, its call
                # no longer counts as busy, so its next call cannot be seen as running alongside it.
                with farm.lock:
                    farm.busy[path] -= 1
            self._send(status, answer)

        def _answer(self, behaviour: Behaviour, payload: dict, calls: int) -> tuple[int, dict]:
            if behaviour.on_call is not None:
                behaviour.on_call(calls)
            time.sleep(behaviour.latency)
            if calls <= behaviour.fail_first or behaviour.status != 200:
                status = behaviour.fail_status if calls <= behaviour.fail_first else behaviour.status
                return status, {"error": "injected failure"}
            if payload.get("type") == "ping":
                return 200, {"ok": True}
            index = payload["turn_index"]
            content = behaviour.content or f"{payload['role']} message {index} of {payload['conversation_id']}"
            answer: dict = {"content": content}
            if behaviour.end_after is not None and index >= behaviour.end_after:
                answer["end"] = True
            return 200, answer

        def _send(self, status: int, payload: dict) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            # The caller may have given up (a timeout, or a killed player): what a real bot sees too.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(raw)

    server = FarmServer(("127.0.0.1", 0), Handler)
    farm = Farm(server=server)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return farm
