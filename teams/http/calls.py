"""The one seam for every outbound call the platform makes (bots and judges); sessions.py holds the
sessions the calls go through.

Every URL here was typed by a team, so each call is treated as hostile: the address is checked
before connecting (requests-hardened's IP filter, which also pins the checked IP so DNS cannot
change between check and connect), redirects are never followed, nothing is taken from the
environment (proxies, netrc), no cookies are kept, the body is streamed and cut at a size limit,
and one deadline bounds the whole answer, headers and body, however slowly it trickles in.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from requests_hardened.ip_filter import InvalidIPAddress

from teams.http.retry import NO_RETRY, AttemptFailure, Headers, RetryPolicy
from teams.http.sessions import call_state, session_for
from teams.http.status import status_detail
from teams.models import CallFailure

READ_CHUNK_BYTES = 64 * 1024
ALLOW_SETTING = "ARENA_ALLOW_PRIVATE_URLS"


class CallError(Exception):
    """A call to a team's or judge's endpoint that produced no usable answer.

    ``kind`` is a :class:`teams.models.CallFailure` value, ``detail`` one line a team can act on,
    ``permanent`` says whether retrying can help, ``status`` is the HTTP status when one arrived,
    and ``latency_ms`` the time spent. ``failed_attempts`` are the earlier attempts of the same
    call that failed and were tried again (oldest first; this error is the last attempt's).
    """

    def __init__(self, kind: str, detail: str, *, permanent: bool, status: int | None, latency_ms: int) -> None:
        super().__init__(detail)
        self.kind = str(kind)  # the plain value, not the enum member: it is stored and pickled
        self.detail = detail
        self.permanent = permanent
        self.status = status
        self.latency_ms = latency_ms
        self.failed_attempts: tuple[AttemptFailure, ...] = ()

    def attempt_failure(self) -> AttemptFailure:
        return AttemptFailure(kind=self.kind, detail=self.detail, status=self.status, latency_ms=self.latency_ms)


class OutboundError(CallError):
    """One HTTP call that produced no usable answer (see :class:`CallError`).

    ``body`` is whatever (size-capped) body came with a non-2xx status, kept so organizers and the
    bot's owners can see what their endpoint said. ``attempts`` is how many HTTP attempts were made.
    """

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        permanent: bool,
        status: int | None = None,
        latency_ms: int = 0,
        body: bytes = b"",
    ) -> None:
        super().__init__(kind, detail, permanent=permanent, status=status, latency_ms=latency_ms)
        self.body = body
        self.attempts = 1


@dataclass(frozen=True)
class OutboundResponse:
    """A complete 2xx answer. ``latency_ms`` is the answering attempt's own time; ``attempts`` the HTTP
    attempts made and ``failed_attempts`` the ones before it that failed (oldest first)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    latency_ms: int
    attempts: int = 1
    failed_attempts: tuple[AttemptFailure, ...] = ()


def outbound_post(
    *,
    url: str,
    body: bytes,
    headers: Headers,
    timeout: float,
    max_bytes: int | None = None,
    retry: RetryPolicy = NO_RETRY,
) -> OutboundResponse:
    """POST ``body`` to ``url`` through the guarded session and return the complete 2xx answer.

    ``timeout`` is the total time allowed for connecting, sending and receiving the whole body, per
    attempt. Raises :class:`OutboundError` for every failure, including non-2xx statuses (kind
    ``http_status`` with ``status`` set; ``permanent`` unless 5xx) and 3xx (kind ``redirect``).
    A failed attempt is tried again as ``retry`` allows; ``headers`` may be a callable, called once
    per attempt, so that a signed request gets a fresh timestamp and signature while every other
    header (the delivery id) stays the same. The answer (or the raised error, the last attempt's)
    carries ``attempts`` and the ``failed_attempts`` before it. Safe to call from many threads at once.
    """
    failed: list[AttemptFailure] = []
    attempt = 0
    while True:
        attempt += 1
        attempt_headers = headers() if callable(headers) else headers
        try:
            response = _outbound(
                method="POST", url=url, body=body, headers=attempt_headers, timeout=timeout, max_bytes=max_bytes
            )
        except OutboundError as error:
            if attempt < retry.attempts and retry.retries(error):
                failed.append(error.attempt_failure())
                time.sleep(retry.pause_seconds(attempt))
                continue
            error.attempts = attempt
            error.failed_attempts = tuple(failed)
            raise
        return replace(response, attempts=attempt, failed_attempts=tuple(failed))


def outbound_get(
    *, url: str, headers: Mapping[str, str], timeout: float, max_bytes: int | None = None
) -> OutboundResponse:
    """GET ``url`` once with the same guarantees as :func:`outbound_post` (used by health checks)."""
    return _outbound(method="GET", url=url, body=None, headers=headers, timeout=timeout, max_bytes=max_bytes)


# --- One call -------------------------------------------------------------------------------------
def elapsed_ms(started: float) -> int:
    """Whole milliseconds since ``started``, a time.monotonic() value."""
    return int((time.monotonic() - started) * 1000)


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.1f} s"


def _url_refusal(url: str) -> str:
    """Why ``url`` may not be called at all, or "" when it may."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return "the URL is not a valid http(s) URL"
    if parts.scheme not in {"http", "https"}:
        return "only http:// and https:// URLs can be called"
    if not hostname:
        return "the URL has no host name"
    return ""


def _outbound(
    *, method: str, url: str, body: bytes | None, headers: Mapping[str, str], timeout: float, max_bytes: int | None
) -> OutboundResponse:
    started = time.monotonic()
    limit = settings.ARENA_MAX_RESPONSE_BYTES if max_bytes is None else max_bytes
    refusal = _url_refusal(url)
    if refusal:
        raise OutboundError(CallFailure.BLOCKED_ADDRESS, refusal, permanent=True)
    guarded = not settings.ARENA_ALLOW_PRIVATE_URLS
    request_headers = {"Accept-Encoding": "identity", **headers}
    connect_timeout = min(float(settings.ARENA_CONNECT_TIMEOUT), timeout)
    call_state.deadline = started + timeout
    try:
        response = session_for(guarded=guarded).request(
            method,
            url,
            data=body,
            headers=request_headers,
            timeout=(connect_timeout, timeout),
            stream=True,
            allow_redirects=False,
        )
        try:
            # The body of an error status is only kept for display: cut it rather than fail the call
            # as too_large, so a 5xx with a huge error page stays a (retryable) http_status.
            payload = _body_read(response, limit=limit, started=started, truncate=not 200 <= response.status_code < 300)
        finally:
            response.close()
    except OutboundError:
        raise
    except InvalidIPAddress as exc:
        raise OutboundError(
            CallFailure.BLOCKED_ADDRESS,
            "the URL resolves to a loopback, private, link-local or reserved address, which the platform does not "
            f"call; for local development an organizer can set {ALLOW_SETTING}=1",
            permanent=True,
        ) from exc
    except Exception as exc:
        raise _transport_error(exc, started=started, timeout=timeout, connect_timeout=connect_timeout) from exc
    finally:
        call_state.deadline = None
    latency_ms = elapsed_ms(started)
    status = response.status_code
    if 300 <= status < 400:
        raise OutboundError(
            CallFailure.REDIRECT,
            f"answered HTTP {status} (a redirect) after {_seconds(latency_ms)}; redirects are not followed: "
            "register the final URL",
            permanent=True,
            status=status,
            latency_ms=latency_ms,
            body=payload,
        )
    if not 200 <= status < 300:
        raise OutboundError(
            CallFailure.HTTP_STATUS,
            status_detail(f"answered HTTP {status} after {_seconds(latency_ms)}", status=status, body=payload),
            permanent=status < 500,
            status=status,
            latency_ms=latency_ms,
            body=payload,
        )
    return OutboundResponse(status=status, headers=response.headers, body=payload, latency_ms=latency_ms)


def _body_read(response: requests.Response, *, limit: int, started: float, truncate: bool) -> bytes:
    """The body, streamed; over ``limit`` bytes it is cut (``truncate``) or the call fails as too_large."""
    too_large = OutboundError(
        CallFailure.TOO_LARGE,
        f"answer body is larger than {limit:,} bytes",
        permanent=True,
        status=response.status_code,
    )
    declared = response.headers.get("Content-Length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        too_large.latency_ms = elapsed_ms(started)
        raise too_large
    chunks = []
    size = 0
    # urllib3 2.x bounds each decoded chunk by the requested amount, so a compressed body cannot
    # expand past the limit in memory before it is counted.
    for chunk in response.raw.stream(READ_CHUNK_BYTES, decode_content=True):
        size += len(chunk)
        if size > limit:
            if truncate:
                chunks.append(chunk[: len(chunk) - (size - limit)])
                break
            too_large.latency_ms = elapsed_ms(started)
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


_TIMEOUTS = (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError)


def _transport_error(exc: Exception, *, started: float, timeout: float, connect_timeout: float) -> OutboundError:
    """Map what requests, urllib3 or the socket raised to one OutboundError; re-raise anything else."""
    latency_ms = elapsed_ms(started)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return OutboundError(
            CallFailure.CONNECTION,
            f"could not connect within {connect_timeout:g} s",
            permanent=False,
            latency_ms=latency_ms,
        )
    if isinstance(exc, _TIMEOUTS):
        return OutboundError(
            CallFailure.TIMEOUT, f"no complete answer within {timeout:g} s", permanent=False, latency_ms=latency_ms
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return OutboundError(
            CallFailure.CONNECTION,
            "TLS handshake failed (check the certificate and its host name)",
            permanent=True,
            latency_ms=latency_ms,
        )
    if isinstance(exc, requests.exceptions.ContentDecodingError | urllib3.exceptions.DecodeError):
        return OutboundError(
            CallFailure.BAD_JSON,
            "answer body could not be decoded (bad Content-Encoding)",
            permanent=True,
            latency_ms=latency_ms,
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        return OutboundError(CallFailure.BLOCKED_ADDRESS, "the URL is not a valid http(s) URL", permanent=True)
    if isinstance(exc, requests.exceptions.RequestException | urllib3.exceptions.HTTPError | OSError):
        return OutboundError(
            CallFailure.CONNECTION,
            f"connection failed after {_seconds(latency_ms)} ({_connection_reason(exc)})",
            permanent=False,
            latency_ms=latency_ms,
        )
    raise exc


def _connection_reason(exc: BaseException) -> str:
    text = repr(exc).lower()
    for needle, reason in (
        ("refused", "connection refused"),
        ("resolve", "host name could not be resolved"),
        ("reset", "connection reset by peer"),
        ("incompleteread", "answer ended before its declared length"),
        ("remotedisconnected", "server closed the connection without answering"),
        ("aborted", "server closed the connection without answering"),
    ):
        if needle in text:
            return reason
    return "network error"
