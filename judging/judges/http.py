"""The HTTP judge: a judge service speaking the arena.v1 envelope with `"type": "judge"`.

The request is signed like a bot's (teams.signing) and goes out only through teams.http. The answer
must be the labels object of bot-protocol.md ("Judges"); anything else is the item's error.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from config.hostile import HostileJson, json_loads
from judging.judges.base import (
    JUDGE_RETRY,
    CallingJudgeRunner,
    JudgeItem,
    JudgeOutcome,
    MalformedAnswer,
    attempt_failures_record,
    labels_from_answer,
)
from judging.judges.config import ENSEMBLE_WEIGHT, ConfigKey, config_read, http_url, number, text
from teams.http import OutboundError, elapsed_ms, outbound_post
from teams.protocol import PROTOCOL
from teams.signing import signature_headers

RAW_BODY_MAX = 4000
# Delivery ids are derived, not random: a repeated call for the same judge version and turn reuses
# its id, so a judge service can de-duplicate as bots do.
_DELIVERY_NAMESPACE = uuid.UUID("6f1c8a52-3f0e-4c57-9a8e-2f4b7d1e9c30")


def judge_request_body(item: JudgeItem) -> dict[str, Any]:
    """The request body of bot-protocol.md for judging one defender reply."""
    return {
        "protocol": PROTOCOL,
        "type": "judge",
        "competition": item.competition,
        "round": item.round,
        "conversation_id": item.conversation_id,
        "turn_index": item.turn_index,
        "goal": {"category": item.goal.get("category", ""), "target": item.goal.get("target", "")},
        "messages": [{"role": message["role"], "content": message["content"]} for message in item.messages],
    }


class HttpJudge(CallingJudgeRunner):
    """Config: `url`, `secret` (signs requests), `previous_secret` (optional, during a rotation),
    `timeout` (45 s), `concurrency` (4 calls at once)."""

    kind = "http"
    config_schema: ClassVar[dict[str, ConfigKey]] = {
        "url": ConfigKey(http_url, required=True),
        "secret": ConfigKey(text(), required=True),
        "previous_secret": ConfigKey(text(blank=True), default=""),
        "timeout": ConfigKey(number(low=0.1, high=600), default=45.0),
        "concurrency": ConfigKey(number(low=1, high=64), default=4.0),
        "ensemble_weight": ENSEMBLE_WEIGHT,
    }

    def __init__(self, *, config: Mapping[str, Any], judge_key: str = "") -> None:
        values = config_read(self.config_schema, config)
        self.url = values["url"]
        self.secret = values["secret"]
        self.previous_secret = values["previous_secret"]
        self.timeout = values["timeout"]
        self.concurrency = int(values["concurrency"])
        self.judge_key = judge_key

    @classmethod
    def from_judge(cls, judge: Any) -> HttpJudge:
        return cls(config=judge.config, judge_key=f"{judge.pk}:{judge.version}")

    def delivery_id(self, item: JudgeItem) -> str:
        return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{self.judge_key}:{self.url}:{item.turn_id}"))

    def judge_one(self, item: JudgeItem) -> JudgeOutcome:
        started = time.monotonic()
        body = json.dumps(judge_request_body(item), ensure_ascii=False).encode()
        delivery_id = self.delivery_id(item)
        secrets = [self.secret, self.previous_secret]

        def headers() -> dict[str, str]:
            # Signed afresh for every attempt (a new timestamp), always with the same delivery id.
            return signature_headers(body=body, secrets=secrets, delivery_id=delivery_id)

        try:
            response = outbound_post(url=self.url, body=body, headers=headers, timeout=self.timeout, retry=JUDGE_RETRY)
        except OutboundError as exc:
            raw_error: dict[str, Any] = {"delivery_id": delivery_id, "status": exc.status}
            if exc.failed_attempts:
                raw_error["failed_attempts"] = attempt_failures_record(exc.failed_attempts)
            return JudgeOutcome.failed(
                turn_id=item.turn_id,
                error=f"{exc.kind}: {exc.detail}",
                raw_output=raw_error,
                duration_ms=elapsed_ms(started),
            )
        raw = {
            "delivery_id": delivery_id,
            "status": response.status,
            "body": response.body[:RAW_BODY_MAX].decode("utf-8", "replace"),
            "latency_ms": response.latency_ms,
        }
        if response.failed_attempts:
            raw["failed_attempts"] = attempt_failures_record(response.failed_attempts)
        try:
            # The one guard for hostile JSON (depth, NaN); text is made storable where it is kept.
            answer = json_loads(response.body, storable=False, what="the answer")
        except HostileJson:
            return JudgeOutcome.failed(
                turn_id=item.turn_id,
                error="bad_json: the answer is not JSON",
                raw_output=raw,
                duration_ms=elapsed_ms(started),
            )
        try:
            labels = labels_from_answer(answer)
        except MalformedAnswer as exc:
            return JudgeOutcome.failed(
                turn_id=item.turn_id, error=f"bad_content: {exc}", raw_output=raw, duration_ms=elapsed_ms(started)
            )
        return JudgeOutcome(turn_id=item.turn_id, labels=labels, raw_output=raw, duration_ms=elapsed_ms(started))
