"""The receiving side of the arena.v1 signature (teams/signing.py signs; bots verify): what the tests
check our signed requests with."""

from __future__ import annotations

import hmac
import time

from teams.signing import SIGNATURE_VERSION, signature_compute


def signature_verify(
    *, body: bytes, header_value: str, timestamp: str, secret: str, now: int | None = None, tolerance: int = 300
) -> bool:
    """Whether one of the ``v1=`` values in ``header_value`` signs ``body`` at ``timestamp`` with ``secret``.

    False as well when the timestamp is not an integer or lies more than ``tolerance`` seconds from
    ``now`` (default: the current time), which stops an old captured request from being replayed.
    """
    if not secret:
        return False
    try:
        signed_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = int(time.time()) if now is None else now
    if abs(current - signed_at) > tolerance:
        return False
    expected = signature_compute(body=body, secret=secret, timestamp=signed_at)
    for part in (header_value or "").split(","):
        version, _, value = part.strip().partition("=")
        if version == SIGNATURE_VERSION and hmac.compare_digest(value.encode(), expected.encode()):
            return True
    return False
