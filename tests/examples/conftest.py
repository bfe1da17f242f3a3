"""Fixtures of the example-bot tests: the bots' secrets and a running example bot server."""

from __future__ import annotations

import secrets

import pytest

from examples.bots.server import serve
from examples.bots.strategies import STRATEGIES


@pytest.fixture(autouse=True)
def private_ok(settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def bot_secrets() -> dict[str, str]:
    return {path: secrets.token_hex(32) for path in STRATEGIES}


@pytest.fixture
def example_bots(bot_secrets):
    server = serve(host="127.0.0.1", port=0, latency=0, failure_rate=0, secrets=bot_secrets)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
