import socket
from collections.abc import Callable

import pytest

from tests.rawserver import RawServer


@pytest.fixture
def raw_server():
    """Start a RawServer per call of ``raw_server(script)``; all are closed after the test."""
    servers = []

    def make(script: Callable[[socket.socket], None]) -> RawServer:
        server = RawServer(script)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()
