"""Request signatures of the arena.v1 protocol: HMAC-SHA256 over "{timestamp}.{raw body}"."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

CONTENT_TYPE = "application/json; charset=utf-8"
SIGNATURE_VERSION = "v1"


def signature_compute(*, body: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"{timestamp}.".encode() + body`` keyed with ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_headers(
    *, body: bytes, secrets: Sequence[str], delivery_id: str, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of a signed request: one ``v1=`` signature per non-empty secret, comma-separated.

    During a secret rotation both the new and the previous secret sign, so a bot that still knows
    only one of them accepts the request. ``timestamp`` defaults to now (Unix seconds).
    """
    signed_at = int(time.time()) if timestamp is None else int(timestamp)
    signatures = ",".join(
        f"{SIGNATURE_VERSION}={signature_compute(body=body, secret=secret, timestamp=signed_at)}"
        for secret in secrets
        if secret
    )
    return {
        "Content-Type": CONTENT_TYPE,
        "X-Arena-Delivery": delivery_id,
        "X-Arena-Timestamp": str(signed_at),
        "X-Arena-Signature": signatures,
    }
