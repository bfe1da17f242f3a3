"""Each judge kind's config schema, declared next to the judge: what the runner reads and what a
competition file is checked against (judging/judges/config.py)."""

from __future__ import annotations

import pytest

from judging.judges import RUNNERS, JudgeConfigError, config_schemas
from judging.judges.http import HttpJudge
from judging.judges.llm import LlmJudge
from judging.models import Judge


def test_it_hands_out_a_schema_for_every_kind_each_with_the_ensemble_weight():
    schemas = config_schemas()
    assert set(schemas) == set(RUNNERS) == set(Judge.Kind.values)
    assert all("ensemble_weight" in schema for schema in schemas.values())
    assert list(schemas["rules"]) == ["ensemble_weight"]


def test_it_reads_defaults_from_the_schema():
    judge = LlmJudge(config={"base_url": "https://models.example.org/v1/", "model": "m"})
    assert (judge.base_url, judge.timeout, judge.max_tokens, judge.response_format) == (
        "https://models.example.org/v1",
        60.0,
        600,
        "none",
    )
    assert LlmJudge(config={"base_url": "https://x.example.org", "model": "m", "json_mode": True}).response_format == (
        "json_object"
    )


@pytest.mark.parametrize(
    "runner, config, message",
    [
        (LlmJudge, {"base_url": "ftp://x", "model": "m"}, "config key 'base_url' must be an http:// or https:// URL"),
        (LlmJudge, {"base_url": "https://x.example.org"}, "config key 'model' is required"),
        (HttpJudge, {"url": "https://x.example.org", "secret": "s", "timeout": 0}, "'timeout' must be a number from"),
    ],
)
def test_it_refuses_a_config_its_schema_refuses(runner, config, message):
    with pytest.raises(JudgeConfigError, match=message):
        runner(config=config)
