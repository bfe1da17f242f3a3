"""The one seam for every outbound call the platform makes (bots and judges).

- calls.py: ``outbound_post`` / ``outbound_get`` and their errors: the guarded session, the total
  deadline, the size limit, and the failure kinds;
- retry.py: the retry policy ``outbound_post`` takes, and the record of each failed attempt.

Every public name is importable from here.
"""

from teams.http.calls import (
    ALLOW_SETTING,
    USER_AGENT,
    CallError,
    OutboundError,
    OutboundResponse,
    elapsed_ms,
    outbound_get,
    outbound_post,
)
from teams.http.retry import NO_RETRY, TRANSIENT_KINDS, AttemptFailure, Headers, RetryPolicy

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
