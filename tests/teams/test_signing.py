"""Request signatures, checked against a reference HMAC written here from the protocol's text."""

from __future__ import annotations

import hashlib
import hmac
import time

from teams.signing import signature_headers
from tests.signatures import signature_verify

BODY = b'{"protocol":"arena.v1","type":"ping"}'
SECRET = "a" * 64
OLD_SECRET = "b" * 64
NOW = 1_800_000_000


def reference(secret: str, timestamp: int, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_it_signs_the_timestamp_and_raw_body_as_the_protocol_says():
    headers = signature_headers(body=BODY, secrets=[SECRET], delivery_id="d-1", timestamp=NOW)

    assert headers == {
        "Content-Type": "application/json; charset=utf-8",
        "X-Arena-Delivery": "d-1",
        "X-Arena-Timestamp": str(NOW),
        "X-Arena-Signature": reference(SECRET, NOW, BODY),
    }


def test_it_sends_one_signature_per_secret_during_a_rotation():
    headers = signature_headers(body=BODY, secrets=[SECRET, OLD_SECRET, ""], delivery_id="d-1", timestamp=NOW)

    assert headers["X-Arena-Signature"].split(",") == [reference(SECRET, NOW, BODY), reference(OLD_SECRET, NOW, BODY)]


def test_it_uses_the_current_time_by_default():
    headers = signature_headers(body=BODY, secrets=[SECRET], delivery_id="d-1")

    assert abs(int(headers["X-Arena-Timestamp"]) - time.time()) < 5


def test_it_verifies_a_signature_made_with_the_secret():
    headers = signature_headers(body=BODY, secrets=[SECRET], delivery_id="d", timestamp=NOW)

    assert signature_verify(
        body=BODY, header_value=headers["X-Arena-Signature"], timestamp=str(NOW), secret=SECRET, now=NOW
    )


def test_it_rejects_another_secret_or_a_changed_body():
    header = reference(SECRET, NOW, BODY)

    assert not signature_verify(body=BODY, header_value=header, timestamp=str(NOW), secret=OLD_SECRET, now=NOW)
    assert not signature_verify(body=BODY + b" ", header_value=header, timestamp=str(NOW), secret=SECRET, now=NOW)
    assert not signature_verify(body=BODY, header_value=header, timestamp=str(NOW + 1), secret=SECRET, now=NOW)


def test_it_accepts_any_of_several_signatures():
    header = f"{reference(OLD_SECRET, NOW, BODY)}, {reference(SECRET, NOW, BODY)}"

    assert signature_verify(body=BODY, header_value=header, timestamp=str(NOW), secret=SECRET, now=NOW)
    assert signature_verify(body=BODY, header_value=header, timestamp=str(NOW), secret=OLD_SECRET, now=NOW)


def test_it_rejects_a_timestamp_more_than_300_seconds_away():
    for skew, accepted in ((300, True), (-300, True), (301, False), (-301, False)):
        header = reference(SECRET, NOW + skew, BODY)
        assert (
            signature_verify(body=BODY, header_value=header, timestamp=str(NOW + skew), secret=SECRET, now=NOW)
            is accepted
        )


def test_it_rejects_malformed_headers():
    good = reference(SECRET, NOW, BODY)

    assert not signature_verify(body=BODY, header_value=good, timestamp="soon", secret=SECRET, now=NOW)
    assert not signature_verify(
        body=BODY, header_value=good.replace("v1=", "v2="), timestamp=str(NOW), secret=SECRET, now=NOW
    )
    assert not signature_verify(body=BODY, header_value="", timestamp=str(NOW), secret=SECRET, now=NOW)
    assert not signature_verify(body=BODY, header_value=good, timestamp=str(NOW), secret="", now=NOW)
