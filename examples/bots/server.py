"""Example arena.v1 bots: one small HTTP server that plays several attackers and defenders by path.

    python -m examples.bots.server --secrets secrets.json          # http://127.0.0.1:8701
    python -m examples.bots.server --no-verify --latency 0.5 --failure-rate 0.05

Attackers: /attackers/direct, /attackers/roleplay, /attackers/escalation, /attackers/completion.
Defenders: /defenders/refuser, /defenders/careless, /defenders/careful.

Every request must carry a valid X-Arena-Signature made with that path's secret (the --secrets
file maps path -> secret); without a secret for the path the bot answers 401, unless the server
was started with --no-verify. It answers pings and turn requests as docs/bot-protocol.md says.

Standard library only (no Django), so teams can copy it as a starting point.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from examples.bots.strategies import STRATEGIES, message_for

PROTOCOL = "arena.v1"
MAX_REQUEST_BYTES = 2 * 1024 * 1024
TIMESTAMP_TOLERANCE_SECONDS = 300


def signature_valid(*, body: bytes, header_value: str, timestamp: str, secret: str, now: float | None = None) -> bool:
    """Whether a request is signed with ``secret`` (any of the comma-separated ``v1=`` values) and fresh.

    The signature is hex HMAC-SHA256 over ``"{timestamp}.".encode() + body``; a timestamp more than
    300 s from this machine's clock is refused so a captured request cannot be replayed later.
    """
    try:
        signed_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - signed_at) > TIMESTAMP_TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{signed_at}.".encode() + body, hashlib.sha256).hexdigest()
    return any(
        part.strip().startswith("v1=") and hmac.compare_digest(part.strip()[3:].encode(), expected.encode())
        for part in (header_value or "").split(",")
    )


@dataclass
class ServerConfig:
    latency: float = 0.0
    latency_jitter: float = 0.0
    failure_rate: float = 0.0
    secrets: dict[str, str] = field(default_factory=dict)
    verify: bool = True
    quiet: bool = True


class BotHandler(BaseHTTPRequestHandler):
    # Keep-alive: the platform reuses connections, which saves a handshake per message.
    protocol_version = "HTTP/1.1"
    server_version = "ArenaExampleBots/1"
    # An idle keep-alive connection is closed after this long, freeing its thread.
    timeout = 60
    # Headers and body go out in separate writes; with Nagle's algorithm on, the client's delayed
    # ACK would hold the body back ~40 ms per answer.
    disable_nagle_algorithm = True

    server: BotServer

    def log_message(self, format: str, *args) -> None:
        if not self.server.config.quiet:
            super().log_message(format, *args)

    def _answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/":
            self._answer(200, {"protocol": PROTOCOL, "bots": sorted(STRATEGIES)})
        else:
            self._answer(405, {"error": "bots answer POST requests only"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        length_header = self.headers.get("Content-Length", "")
        if not length_header.isdigit():
            self.close_connection = True
            self._answer(411, {"error": "Content-Length required"})
            return
        length = int(length_header)
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            self._answer(413, {"error": "request body too large"})
            return
        body = self.rfile.read(length)
        if path not in STRATEGIES:
            self._answer(404, {"error": f"no bot at this path; bots: {', '.join(sorted(STRATEGIES))}"})
            return
        refusal = self._signature_refusal(path, body)
        if refusal:
            self._answer(401, {"error": refusal})
            return
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or payload.get("protocol") != PROTOCOL:
            self._answer(400, {"error": f"body must be a JSON object with protocol {PROTOCOL!r}"})
            return
        config = self.server.config
        pause = config.latency + (random.uniform(0, config.latency_jitter) if config.latency_jitter else 0.0)
        if pause > 0:
            time.sleep(pause)
        if config.failure_rate and random.random() < config.failure_rate:
            self._answer(500, {"error": "simulated failure (--failure-rate)"})
            return
        kind = payload.get("type")
        if kind == "ping":
            self._answer(200, {"ok": True})
        elif kind == "turn":
            content, end = message_for(path, payload)
            self._answer(200, {"content": content, "end": end})
        else:
            self._answer(400, {"error": f"unknown request type {kind!r}"})

    def _signature_refusal(self, path: str, body: bytes) -> str:
        """Why the request is refused, or "" when it may be answered."""
        config = self.server.config
        secret = config.secrets.get(path)
        if secret is None:
            if config.verify:
                return "no secret is configured for this bot (give it in --secrets, or start with --no-verify)"
            return ""
        valid = signature_valid(
            body=body,
            header_value=self.headers.get("X-Arena-Signature", ""),
            timestamp=self.headers.get("X-Arena-Timestamp", ""),
            secret=secret,
        )
        return "" if valid else "invalid signature or timestamp more than 300 s away"


class BotServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The platform calls with up to ~64 connections at once; a short listen queue would refuse some.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], config: ServerConfig) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.config = config
        super().__init__(address, BotHandler)


def server_build(
    *,
    host: str = "127.0.0.1",
    port: int = 8701,
    latency: float = 0.0,
    failure_rate: float = 0.0,
    secrets: dict[str, str] | None = None,
    verify: bool = True,
    latency_jitter: float = 0.0,
    quiet: bool = True,
) -> BotServer:
    """A bound, not yet serving, bot server (port 0 picks a free port: see ``server_address``)."""
    config = ServerConfig(
        latency=latency,
        latency_jitter=latency_jitter,
        failure_rate=failure_rate,
        secrets=dict(secrets or {}),
        verify=verify,
        quiet=quiet,
    )
    return BotServer((host, port), config)


def serve(**options: Any) -> ThreadingHTTPServer:
    """Start a bot server in a background daemon thread and return it.

    ``options`` are those of ``server_build`` (keywords only). Stop it with ``server.shutdown()``
    then ``server.server_close()``.
    """
    server = server_build(**options)
    threading.Thread(target=server.serve_forever, name="example-bots", daemon=True).start()
    return server


def secrets_load(path: str) -> dict[str, str]:
    """The path -> secret mapping of a JSON file; raises ValueError when the file is not one."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{path} must hold a JSON object mapping bot paths to secret strings")
    unknown = sorted(set(data) - set(STRATEGIES))
    if unknown:
        raise ValueError(f"{path} names paths no bot serves: {', '.join(unknown)}")
    return data


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.bots.server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8701)
    parser.add_argument("--latency", type=_seconds, default=0.0, metavar="SECONDS", help="pause before answering")
    parser.add_argument("--latency-jitter", type=_seconds, default=0.0, metavar="SECONDS", help="extra random pause")
    parser.add_argument("--failure-rate", type=_fraction, default=0.0, metavar="FRACTION", help="answer 500 this often")
    parser.add_argument("--secrets", metavar="FILE", help='JSON object: {"/attackers/direct": "secret", ...}')
    parser.add_argument("--no-verify", action="store_true", help="answer bots without a secret unsigned requests")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    options = parser.parse_args(argv)
    try:
        secrets = secrets_load(options.secrets) if options.secrets else {}
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    server = server_build(
        host=options.host,
        port=options.port,
        latency=options.latency,
        failure_rate=options.failure_rate,
        secrets=secrets,
        verify=not options.no_verify,
        latency_jitter=options.latency_jitter,
        quiet=options.quiet,
    )
    host, port = server.server_address[:2]
    shown_host = f"[{host}]" if ":" in host else host
    print(f"Example bots on http://{shown_host}:{port}: {', '.join(sorted(STRATEGIES))}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
