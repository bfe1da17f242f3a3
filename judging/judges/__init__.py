"""The judge kinds: a registry from Judge.kind to its runner class, and `judge_for` to build one.

Adding a kind: write a JudgeRunner subclass in its own module (with a `from_judge` classmethod if
it needs more than the config), add it to RUNNERS and to Judge.Kind (a model change), and document
its config keys in docs/judges.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from judging.judges.base import JudgeConfigError, JudgeItem, JudgeOutcome, JudgeRunner, Labels
from judging.judges.config import ConfigKey
from judging.judges.http import HttpJudge
from judging.judges.learned import LearnedJudge
from judging.judges.llm import LlmJudge
from judging.judges.rules import RulesJudge
from judging.judges.static import StaticJudge

if TYPE_CHECKING:
    from judging.models import Judge

__all__ = [
    "RUNNERS",
    "ConfigKey",
    "JudgeConfigError",
    "JudgeItem",
    "JudgeOutcome",
    "JudgeRunner",
    "Labels",
    "config_schemas",
    "judge_for",
]

RUNNERS: dict[str, type[JudgeRunner]] = {
    StaticJudge.kind: StaticJudge,
    RulesJudge.kind: RulesJudge,
    LlmJudge.kind: LlmJudge,
    HttpJudge.kind: HttpJudge,
    LearnedJudge.kind: LearnedJudge,
}


def config_schemas() -> dict[str, Mapping[str, ConfigKey]]:
    """Each kind's config schema (judging/judges/config.py), in the registry's order: what the
    competition file checks a judge's config against."""
    return {kind: runner.config_schema for kind, runner in RUNNERS.items()}


def judge_for(judge: Judge) -> JudgeRunner:
    """The runner for a Judge row, configured from its `config`.

    Raises JudgeConfigError when the kind is unknown or the config cannot work.
    """
    try:
        runner_class = RUNNERS[judge.kind]
    except KeyError:
        raise JudgeConfigError(f"no judge kind {judge.kind!r}") from None
    if not isinstance(judge.config, dict):
        raise JudgeConfigError("a judge's config must be a JSON object")
    return runner_class.from_judge(judge)
