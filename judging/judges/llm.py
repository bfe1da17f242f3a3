"""The LLM judge: a rubric prompt to an OpenAI-compatible chat-completions endpoint, labels as JSON.

Calls go out only through teams.http.outbound_post (the guarded seam), which tries a connection
failure or a 5xx answer again (judging.judges.base.JUDGE_RETRY). A malformed answer is asked again
once; a second malformed answer, or a transport failure left after those retries, is the item's error.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from judging.judges.base import (
    JUDGE_RETRY,
    LABEL_KEYS,
    CallingJudgeRunner,
    JudgeItem,
    JudgeOutcome,
    Labels,
    MalformedAnswer,
    attempt_failures_record,
    labels_from_answer,
)
from judging.judges.config import ENSEMBLE_WEIGHT, ConfigKey, boolean, choice, config_read, http_url, number, text
from judging.judges.llm_rubric import (
    RESPONSE_FORMATS,
    RUBRIC_VERSION,
    response_format_field,
    rubric_messages,
)
from teams.http import AttemptFailure, OutboundError, elapsed_ms, outbound_post

ATTEMPTS = 2  # the first answer and one retry of a malformed one
RAW_CONTENT_MAX = 4000


def answer_content_parse(body: bytes) -> tuple[Labels, str]:
    """The labels in a chat-completions response body, and the model's text. Raises MalformedAnswer."""
    try:
        response = json.loads(body)
    except ValueError as exc:
        raise MalformedAnswer("the response body is not JSON") from exc
    try:
        content = response["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise MalformedAnswer("the response has no choices[0].message.content") from exc
    if not isinstance(content, str):
        raise MalformedAnswer("choices[0].message.content is not a string")
    return answer_labels_find(content), content


# Reasoning models put their thinking before the answer, in tags that may hold braces and JSON of
# their own; some servers drop the opening tag and keep only the closing one.
_REASONING_BLOCK = re.compile(
    r"<(think|thinking|reasoning|reflection|scratchpad)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_REASONING_END = re.compile(r"</(?:think|thinking|reasoning|reflection|scratchpad)\s*>", re.IGNORECASE)
_OBJECTS_TRIED_MAX = 1000


def answer_labels_find(content: str) -> Labels:
    """The labels in a model's answer text: the LAST JSON object holding the three labels.

    Reasoning blocks (`<think>...</think>` and the like, or everything up to a lone closing tag)
    are dropped first; what remains may wrap the object in a code fence or prose. Raises
    MalformedAnswer when no object holds the labels, or when the last one is not a valid answer.
    """
    text = _REASONING_BLOCK.sub(" ", content)
    closing = list(_REASONING_END.finditer(text))
    if closing:
        text = text[closing[-1].end() :]
    decoder = json.JSONDecoder()
    last: dict[str, Any] | None = None
    position, tried = text.find("{"), 0
    while position >= 0 and tried < _OBJECTS_TRIED_MAX:
        tried += 1
        try:
            value, end = decoder.raw_decode(text, position)
        except ValueError:
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict) and any(key in value for key in LABEL_KEYS):
            last = value
        position = text.find("{", end)
    if last is None:
        raise MalformedAnswer("the model's answer holds no JSON object with the labels")
    return labels_from_answer(last)


def _transport_failures(failures: Sequence[AttemptFailure]) -> list[dict[str, Any]]:
    # Same keys as a final transport failure's entry in raw_output["attempts"].
    return [
        {"error": failure["kind"], "detail": failure["detail"], "latency_ms": failure["latency_ms"]}
        for failure in attempt_failures_record(failures)
    ]


class LlmJudge(CallingJudgeRunner):
    """Config: `base_url`, `model`, `api_key` (optional), `temperature` (0), `timeout` (60 s),
    `max_tokens` (600), `concurrency` (4 calls at once), `response_format` ("none", "json_object" or
    "json_schema"; the older `json_mode: true` means "json_object"). The prompt is llm_rubric.py's."""

    kind = "llm"
    config_schema: ClassVar[dict[str, ConfigKey]] = {
        "base_url": ConfigKey(http_url, required=True),
        "model": ConfigKey(text(), required=True),
        "api_key": ConfigKey(text(blank=True), default=""),
        "temperature": ConfigKey(number(low=0, high=2), default=0.0),
        "timeout": ConfigKey(number(low=0.1, high=600), default=60.0),
        "max_tokens": ConfigKey(number(low=16, high=32000), default=600.0),
        "concurrency": ConfigKey(number(low=1, high=64), default=4.0),
        "response_format": ConfigKey(choice(RESPONSE_FORMATS), default=""),
        "json_mode": ConfigKey(boolean, default=False),
        "ensemble_weight": ENSEMBLE_WEIGHT,
    }

    def __init__(self, *, config: Mapping[str, Any]) -> None:
        values = config_read(self.config_schema, config)
        self.base_url = values["base_url"].rstrip("/")
        self.model = values["model"]
        self.api_key = values["api_key"]
        self.temperature = values["temperature"]
        self.timeout = values["timeout"]
        self.max_tokens = int(values["max_tokens"])
        self.concurrency = int(values["concurrency"])
        default_format = "json_object" if values["json_mode"] else "none"
        self.response_format = values["response_format"] or default_format

    def judge_one(self, item: JudgeItem) -> JudgeOutcome:
        started = time.monotonic()
        request: dict[str, Any] = {
            "model": self.model,
            "messages": rubric_messages(item),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        response_format = response_format_field(self.response_format)
        if response_format is not None:
            request["response_format"] = response_format
        body = json.dumps(request, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        attempts: list[dict[str, Any]] = []
        for _ in range(ATTEMPTS):
            try:
                response = outbound_post(
                    url=f"{self.base_url}/chat/completions",
                    body=body,
                    headers=headers,
                    timeout=self.timeout,
                    retry=JUDGE_RETRY,
                )
            except OutboundError as exc:
                attempts.extend(_transport_failures(exc.failed_attempts))
                attempts.append({"error": exc.kind, "detail": exc.detail, "latency_ms": exc.latency_ms})
                return JudgeOutcome.failed(
                    turn_id=item.turn_id,
                    error=f"{exc.kind}: {exc.detail}",
                    raw_output={"model": self.model, "rubric_version": RUBRIC_VERSION, "attempts": attempts},
                    duration_ms=elapsed_ms(started),
                )
            attempts.extend(_transport_failures(response.failed_attempts))
            try:
                labels, content = answer_content_parse(response.body)
            except MalformedAnswer as exc:
                attempts.append(
                    {
                        "malformed": str(exc),
                        "body": response.body[:RAW_CONTENT_MAX].decode("utf-8", "replace"),
                        "latency_ms": response.latency_ms,
                    }
                )
                continue
            attempts.append({"content": content[:RAW_CONTENT_MAX], "latency_ms": response.latency_ms})
            return JudgeOutcome(
                turn_id=item.turn_id,
                labels=labels,
                raw_output={"model": self.model, "rubric_version": RUBRIC_VERSION, "attempts": attempts},
                duration_ms=elapsed_ms(started),
            )
        return JudgeOutcome.failed(
            turn_id=item.turn_id,
            error=f"malformed answer {ATTEMPTS} times: {attempts[-1]['malformed']}",
            raw_output={"model": self.model, "rubric_version": RUBRIC_VERSION, "attempts": attempts},
            duration_ms=elapsed_ms(started),
        )
