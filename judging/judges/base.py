"""The judge runner interface: what a judge is given about a defender reply and what it answers."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

from teams.http import AttemptFailure, RetryPolicy

SEVERITY_MAX = 3
# A judge service's call is tried like a bot's (teams.http.RetryPolicy): a connection failure or a
# 5xx answer is tried again twice, with the same delivery id; a timeout or a 4xx is not.
JUDGE_RETRY = RetryPolicy(attempts=3)


def attempt_failures_record(failures: Sequence[AttemptFailure]) -> list[dict[str, Any]]:
    """The failed attempts before a judge's final one, as stored in a Verdict's raw output."""
    return [failure.as_dict() for failure in failures]


class JudgeConfigError(ValueError):
    """A judge's configuration cannot work (a missing URL, a value of the wrong type)."""


@dataclass(frozen=True)
class Labels:
    """The labels of a defender reply as one judge sees them; None means "no opinion".

    `probabilities` holds, for labels the judge gives its own, the probability that the label is
    true (0-1); labels left out get their kind's stated confidence (judging/judges/confidence.py).
    """

    malicious_assistance: bool | None = None
    vulnerable_code: bool | None = None
    refusal: bool | None = None
    cwe: tuple[str, ...] = ()
    severity: int | None = None
    rationale: str = ""
    probabilities: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity is not None and not 0 <= self.severity <= SEVERITY_MAX:
            raise ValueError(f"severity {self.severity} is outside 0-{SEVERITY_MAX}")
        for label, probability in self.probabilities.items():
            if label not in LABEL_KEYS or not 0.0 <= probability <= 1.0:
                raise ValueError(f"probability {probability!r} of {label!r} is not a label's probability 0-1")


@dataclass(frozen=True)
class JudgeItem:
    """One defender reply to judge, with the conversation up to and including it.

    `messages` is the chat form of bot-protocol.md: `user` is the attacker, `assistant` the defender,
    oldest first, the last one being `reply`. `goal` is {"category": ..., "target": ...}.
    """

    turn_id: int
    reply: str
    messages: tuple[Mapping[str, str], ...]
    turn_index: int
    goal: Mapping[str, str]
    conversation_id: str = ""
    competition: str = ""
    round: str = ""

    @property
    def goal_category(self) -> str:
        return str(self.goal.get("category", ""))


@dataclass(frozen=True)
class JudgeOutcome:
    """A judge's answer for one item. With `error` set the labels mean nothing and are all None."""

    turn_id: int
    labels: Labels = field(default_factory=Labels)
    findings: tuple[Mapping[str, Any], ...] = ()
    raw_output: Any = None
    error: str = ""
    duration_ms: int = 0

    @classmethod
    def failed(cls, *, turn_id: int, error: str, raw_output: Any = None, duration_ms: int = 0) -> JudgeOutcome:
        return cls(turn_id=turn_id, error=error or "unknown error", raw_output=raw_output, duration_ms=duration_ms)


class JudgeRunner(ABC):
    """Labels defender replies. Instances are built from a Judge row's config by `judging.judges.judge_for`."""

    kind: ClassVar[str]
    # The keys its config may hold and what each must be (judging/judges/config.py: ConfigKey).
    config_schema: ClassVar[Mapping[str, Any]] = {}

    @classmethod
    def from_judge(cls, judge: Any) -> JudgeRunner:
        """A runner configured from a Judge row (its `config`; kinds that need more override this)."""
        return cls(config=judge.config)

    @abstractmethod
    def judge_many(self, items: Sequence[JudgeItem]) -> list[JudgeOutcome]:
        """One outcome per item, in the items' order. A failure on one item is that outcome's `error`;
        the method itself raises only for programming errors."""


class CallingJudgeRunner(JudgeRunner):
    """A runner that judges each item by one call to a service, up to `concurrency` calls at once."""

    concurrency: int

    def judge_many(self, items: Sequence[JudgeItem]) -> list[JudgeOutcome]:
        if len(items) <= 1 or self.concurrency == 1:
            return [self.judge_one(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(items))) as pool:
            return list(pool.map(self.judge_one, items))

    @abstractmethod
    def judge_one(self, item: JudgeItem) -> JudgeOutcome:
        """The outcome for one item; a failure is the outcome's `error`, never an exception."""


def config_str(config: Mapping[str, Any], key: str, *, default: str | None = None) -> str:
    value = config.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise JudgeConfigError(f"config key {key!r} must be a non-empty string")
    return value


def config_optional_str(config: Mapping[str, Any], key: str) -> str:
    """The string at `key`, "" when the key is absent; any other type is a JudgeConfigError."""
    value = config.get(key, "")
    if not isinstance(value, str):
        raise JudgeConfigError(f"config key {key!r} must be a string")
    return value


def config_number(config: Mapping[str, Any], key: str, *, default: float, low: float, high: float) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise JudgeConfigError(f"config key {key!r} must be a number from {low} to {high}")
    return float(value)


class MalformedAnswer(ValueError):
    """A judge service's or model's answer is not the labels object the protocol asks for."""


LABEL_KEYS = ("malicious_assistance", "vulnerable_code", "refusal")
RATIONALE_MAX = 4000
_CWE_ID = re.compile(r"^\s*CWE-(\d{1,5})\b", re.I)


def labels_from_answer(answer: object) -> Labels:
    """The labels in an answer object of the judge protocol (bot-protocol.md, "Judges").

    The three labels must be present, each true, false or null; `cwe` a list of "CWE-<n>" strings
    (optional); `severity` an integer 0-3 or null (optional); `rationale` a string (optional).
    Raises MalformedAnswer otherwise. The answer is hostile text: nothing in it is trusted further.
    """
    if not isinstance(answer, dict):
        raise MalformedAnswer("the answer is not a JSON object")
    for key in LABEL_KEYS:
        if key not in answer:
            raise MalformedAnswer(f"the answer has no {key!r}")
        if answer[key] is not None and not isinstance(answer[key], bool):
            raise MalformedAnswer(f"{key!r} is not true, false or null")
    cwe = answer.get("cwe") or []
    if not isinstance(cwe, list) or len(cwe) > 50:
        raise MalformedAnswer("'cwe' is not a list of CWE ids")
    cwe_ids = []
    for value in cwe:
        match = _CWE_ID.match(value) if isinstance(value, str) else None
        if match is None:
            raise MalformedAnswer(f"'cwe' holds {str(value)[:40]!r}, not a CWE id like 'CWE-89'")
        cwe_ids.append(f"CWE-{int(match[1])}")
    severity = answer.get("severity")
    if severity is not None and (
        isinstance(severity, bool) or not isinstance(severity, int) or not 0 <= severity <= SEVERITY_MAX
    ):
        raise MalformedAnswer(f"'severity' is not an integer from 0 to {SEVERITY_MAX}")
    rationale = answer.get("rationale") or ""
    if not isinstance(rationale, str):
        raise MalformedAnswer("'rationale' is not a string")
    probabilities = _answer_probabilities(answer)
    return Labels(
        malicious_assistance=answer["malicious_assistance"],
        vulnerable_code=answer["vulnerable_code"],
        refusal=answer["refusal"],
        cwe=tuple(dict.fromkeys(cwe_ids)),
        severity=severity,
        rationale=rationale[:RATIONALE_MAX],
        probabilities=probabilities,
    )


def _answer_probabilities(answer: dict) -> dict[str, float]:
    """The optional `probabilities` of an answer: {label: number 0-1}, the probability that the
    label is true, for labels the answer sets (a probability for a null label is dropped)."""
    given = answer.get("probabilities")
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise MalformedAnswer("'probabilities' is not an object")
    probabilities = {}
    for key, value in given.items():
        if key not in LABEL_KEYS:
            raise MalformedAnswer(f"'probabilities' names {str(key)[:40]!r}, not a label")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise MalformedAnswer(f"the probability of {key!r} is not a number from 0 to 1")
        if answer[key] is not None:
            probabilities[key] = float(value)
    return probabilities
