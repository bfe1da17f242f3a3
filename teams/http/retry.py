"""How an outbound call is tried again: the retry policy, and the record of each failed attempt."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from teams.models import CallFailure

if TYPE_CHECKING:
    from teams.http.calls import OutboundError


@dataclass(frozen=True)
class AttemptFailure:
    """One failed HTTP attempt of a call that was tried again: what went wrong, kept for the record."""

    kind: str
    detail: str
    status: int | None
    latency_ms: int

    def as_dict(self) -> dict:
        """The JSON-storable form (Turn/Verdict raw output, failure history)."""
        return {"kind": self.kind, "detail": self.detail, "status": self.status, "latency_ms": self.latency_ms}


# Connection failures and 5xx answers may pass; a timeout already spent the caller's whole budget,
# and every other kind (4xx, redirect, blocked address, too large) is the endpoint's fixed answer.
TRANSIENT_KINDS = frozenset({CallFailure.CONNECTION.value, CallFailure.HTTP_STATUS.value})


@dataclass(frozen=True)
class RetryPolicy:
    """How often one outbound call is tried and how long to pause between tries.

    ``attempts`` is the total number of HTTP attempts (1 = no retry). An attempt is retried only
    when its error is not ``permanent`` and its kind is in ``transient_kinds`` (a 5xx is transient,
    a 4xx permanent: see :func:`outbound_post`). The pause before retry n (1-based) is
    ``min(backoff_seconds * 2 ** (n - 1), backoff_max_seconds)``.
    """

    attempts: int = 1
    backoff_seconds: float = 0.25
    backoff_max_seconds: float = 2.0
    transient_kinds: frozenset[str] = TRANSIENT_KINDS

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"a retry policy needs at least one attempt, not {self.attempts}")

    def retries(self, error: OutboundError) -> bool:
        """Whether a failed attempt with ``error`` may be tried again (attempts left aside)."""
        return not error.permanent and error.kind in self.transient_kinds

    def pause_seconds(self, retry: int) -> float:
        """The pause before the ``retry``-th retry (1-based)."""
        return min(self.backoff_seconds * 2 ** (retry - 1), self.backoff_max_seconds)


NO_RETRY = RetryPolicy(attempts=1)

Headers = Mapping[str, str] | Callable[[], Mapping[str, str]]
