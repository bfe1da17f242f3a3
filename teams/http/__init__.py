"""The one seam for every outbound call the platform makes (bots and judges).

- calls.py: ``outbound_post`` / ``outbound_get`` and their errors: the URL check, the size limit,
  and the failure kinds;
- sessions.py: the guarded per-thread sessions and the total deadline on every read;
- retry.py: the retry policy ``outbound_post`` takes, and the record of each failed attempt.

Every public name is importable from here.
"""

from teams.http.calls import (
    ALLOW_SETTING,
    CallError,
    OutboundError,
    OutboundResponse,
    elapsed_ms,
    outbound_get,
    outbound_post,
)
from teams.http.retry import NO_RETRY, TRANSIENT_KINDS, AttemptFailure, Headers, RetryPolicy
from teams.http.sessions import USER_AGENT

__all__ = [
    "ALLOW_SETTING",
    "NO_RETRY",
    "TRANSIENT_KINDS",
    "USER_AGENT",
    "AttemptFailure",
    "CallError",
    "Headers",
    "OutboundError",
    "OutboundResponse",
    "RetryPolicy",
    "elapsed_ms",
    "outbound_get",
    "outbound_post",
]
