"""One exchange with a bot of any kind: build the request, send it through teams.http, read the answer.

Rounds (``bot_call``) and "Test this bot" (teams.services.bot_test_exchange) both go through
``bot_exchange``; only what they do with its record differs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from teams.clients import arena, openai
from teams.clients.base import (
    HEALTH_TIMEOUT_SECONDS,
    RETRY_PAUSE_MAX_SECONDS,
    RETRY_PAUSE_SECONDS,
    BotCallError,
    BotReply,
    BotRequest,
    CallLimits,
    TurnRequest,
    answer_object,
    call_time_limit,
    content_check,
)
from teams.clients.probe import probe_reply
from teams.http import (
    AttemptFailure,
    Headers,
    OutboundError,
    OutboundResponse,
    RetryPolicy,
    elapsed_ms,
    outbound_post,
)
from teams.models import Bot, CallFailure


def bot_signing_secrets(*, bot: Bot) -> list[str]:
    """The secrets that sign requests to ``bot``: its secret, and the previous one during a rotation."""
    return [secret for secret in (bot.secret, bot.previous_secret) if secret]


def bot_request_build(
    *,
    snapshot: dict,
    secrets: Sequence[str],
    api_key: str,
    request: TurnRequest,
    delivery_id: str,
    timestamp: int | None = None,
) -> BotRequest:
    """The URL, body and headers of one turn request to the bot described by ``snapshot``.

    arena kind: the protocol's JSON envelope, signed with every secret; the goal is sent to
    attackers only. openai kind: a chat-completions request with the Bearer key, no signature.
    """
    if snapshot["kind"] == Bot.Kind.OPENAI:
        return openai.request_build(snapshot=snapshot, api_key=api_key, request=request)
    return arena.request_build(
        snapshot=snapshot, secrets=secrets, request=request, delivery_id=delivery_id, timestamp=timestamp
    )


def bot_reply_parse(*, kind: str, role: str, body: bytes, message_limit: int) -> tuple[str, bool]:
    """The (content, end) a bot's 200 answer carries; raises BotCallError (bad_json / bad_content).

    A defender's ``end`` is always False; so is an openai bot's.
    """
    answer = answer_object(body)
    client = openai if kind == Bot.Kind.OPENAI else arena
    content, end = client.reply_read(role=role, answer=answer)
    return content_check(content, message_limit=message_limit), end


def bot_retry_policy(*, limits: CallLimits) -> RetryPolicy:
    """Connection errors and 5xx answers are tried again, at most ``limits.retries`` times."""
    return RetryPolicy(
        attempts=limits.retries + 1, backoff_seconds=RETRY_PAUSE_SECONDS, backoff_max_seconds=RETRY_PAUSE_MAX_SECONDS
    )


@dataclass(frozen=True)
class BotExchange:
    """One call to a bot as it went: the request as last sent, what came back, and either a reply or an error.

    ``response_body`` is the bot's raw (size-capped) body, hostile text. ``latency_ms`` covers every
    attempt and pause; it is None only when no call was made (a refused URL).
    """

    request: BotRequest
    status: int | None
    response_body: bytes
    latency_ms: int | None
    reply: BotReply | None
    error: BotCallError | None


def bot_exchange(
    *,
    snapshot: dict,
    secrets: Sequence[str],
    api_key: str,
    request: TurnRequest,
    limits: CallLimits,
    delivery_id: str,
) -> BotExchange:
    """Ask the bot described by ``snapshot`` for one message and record the exchange; never raises for the bot.

    Retries as :func:`bot_retry_policy` says, with the same ``delivery_id`` (X-Arena-Delivery) and a
    fresh timestamp and signature. Each HTTP call may take
    min(limits.timeout_seconds, snapshot['timeout_seconds'] or inf). The answer must be status 200
    and a JSON object whose content is a non-empty string of at most ``limits.message_limit``
    characters (else bad_content; not JSON or not an object: bad_json). A defender's end is ignored.
    """
    sent = [
        bot_request_build(snapshot=snapshot, secrets=secrets, api_key=api_key, request=request, delivery_id=delivery_id)
    ]
    attempts_made = 0

    def attempt_headers() -> dict[str, str]:
        # The first attempt sends what was built above; a retry is signed afresh (the timestamp moved).
        nonlocal attempts_made
        attempts_made += 1
        if attempts_made > 1:
            sent.append(
                bot_request_build(
                    snapshot=snapshot, secrets=secrets, api_key=api_key, request=request, delivery_id=delivery_id
                )
            )
        return sent[-1].headers

    started = time.monotonic()
    try:
        response = _post(sent[0], headers=attempt_headers, limits=limits, snapshot=snapshot)
    except OutboundError as error:
        suffix = f" (after {error.attempts} attempts)" if error.attempts > 1 else ""
        failure = _failure(
            error.kind,
            error.detail + suffix,
            started=started,
            attempts=error.attempts,
            failed_attempts=error.failed_attempts,
            permanent=error.permanent,
            status=error.status,
        )
        failure.__cause__ = error
        called = error.kind != CallFailure.BLOCKED_ADDRESS
        return BotExchange(
            request=sent[-1],
            status=error.status,
            response_body=error.body,
            latency_ms=failure.latency_ms if called else None,
            reply=None,
            error=failure,
        )
    latency_ms = elapsed_ms(started)
    record = {"request": sent[-1], "status": response.status, "response_body": response.body, "latency_ms": latency_ms}
    tried = {"attempts": response.attempts, "failed_attempts": response.failed_attempts}
    if response.status != 200:
        failure = _failure(
            CallFailure.HTTP_STATUS,
            f"answered HTTP {response.status}; the protocol expects 200",
            started=started,
            status=response.status,
            **tried,
        )
        return BotExchange(**record, reply=None, error=failure)
    try:
        content, end = bot_reply_parse(
            kind=snapshot["kind"], role=request.role, body=response.body, message_limit=limits.message_limit
        )
    except BotCallError as error:
        error.latency_ms = latency_ms
        error.attempts = response.attempts
        error.failed_attempts = response.failed_attempts
        error.status = response.status
        return BotExchange(**record, reply=None, error=error)
    reply = BotReply(content=content, end=end, latency_ms=latency_ms, **tried)
    return BotExchange(**record, reply=reply, error=None)


def _post(outgoing: BotRequest, *, headers: Headers, limits: CallLimits, snapshot: dict) -> OutboundResponse:
    return outbound_post(
        url=outgoing.url,
        body=outgoing.body,
        headers=headers,
        timeout=call_time_limit(limits=limits, snapshot=snapshot),
        retry=bot_retry_policy(limits=limits),
    )


def _failure(
    kind: str,
    detail: str,
    *,
    started: float,
    attempts: int,
    failed_attempts: tuple[AttemptFailure, ...],
    permanent: bool = True,
    status: int | None = None,
) -> BotCallError:
    failure = BotCallError(
        kind, detail, latency_ms=elapsed_ms(started), attempts=attempts, permanent=permanent, status=status
    )
    failure.failed_attempts = failed_attempts
    return failure


def bot_call(
    *,
    snapshot: dict,
    secrets: Sequence[str],
    api_key: str,
    request: TurnRequest,
    limits: CallLimits,
    delivery_id: str,
) -> BotReply:
    """One message from a bot: :func:`bot_exchange`'s reply, or its error raised as BotCallError.

    ``snapshot`` is Bot.snapshot() (kind, url, model, system_prompt, timeout_seconds ...).
    ``latency_ms`` is the whole time including retries; ``attempts`` the HTTP calls made.
    The built-in probe attacker (kind `probe`) answers by itself, without a call.
    """
    if snapshot["kind"] == Bot.Kind.PROBE:
        return probe_reply(request=request)
    exchange = bot_exchange(
        snapshot=snapshot, secrets=secrets, api_key=api_key, request=request, limits=limits, delivery_id=delivery_id
    )
    if exchange.error is not None:
        raise exchange.error
    assert exchange.reply is not None
    return exchange.reply


def bot_ping(*, bot: Bot) -> tuple[bool, int | None, str, str]:
    """Whether ``bot`` answers its health check: (ok, latency_ms, error_kind, error).

    arena: the signed POST ``{"protocol": "arena.v1", "type": "ping"}`` answered by 200 ``{"ok": true}``.
    openai: GET ``{base}/models`` with the Bearer key answered by 200 and a JSON object.
    latency_ms is None only when no call was made (a refused URL). Never raises for a bot's failure.
    """
    timeout = min(bot.timeout_seconds or HEALTH_TIMEOUT_SECONDS, HEALTH_TIMEOUT_SECONDS)
    started = time.monotonic()
    openai_kind = bot.kind == Bot.Kind.OPENAI
    try:
        if openai_kind:
            response = openai.ping_send(url=bot.url, api_key=bot.api_key, timeout=timeout)
        else:
            response = arena.ping_send(url=bot.url, secrets=bot_signing_secrets(bot=bot), timeout=timeout)
    except OutboundError as error:
        latency = None if error.kind == CallFailure.BLOCKED_ADDRESS else error.latency_ms
        return False, latency, error.kind, error.detail
    latency_ms = elapsed_ms(started)
    if response.status != 200:
        return False, latency_ms, CallFailure.HTTP_STATUS, f"answered HTTP {response.status}; expected 200"
    try:
        answer = answer_object(response.body)
    except BotCallError as error:
        return False, latency_ms, error.kind, error.detail
    refusal = (openai if openai_kind else arena).ping_refusal(answer)
    if refusal:
        return False, latency_ms, CallFailure.BAD_CONTENT, refusal
    return True, latency_ms, "", ""
