"""The keys a competition file may hold, section by section, and the judge constants mirrored here.

The order of each tuple is the order an "unknown key; expected one of ..." problem lists them in.
What each value may be is checked by checks.py against the model fields that will hold it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, Protocol

from competition.models import Round
from competition.scoring import Weights

# The judging app sits above this one, so its models are not imported here (load/, at the top of
# the stack, is the one module of this package allowed to); these mirror judging.models.Judge and a
# test keeps them equal.
JUDGE_KINDS = ("static", "rules", "llm", "http", "learned")
JUDGE_NAME_MAX_LENGTH = 120
JUDGE_SLUG_MAX_LENGTH = 60

TOP_KEYS = ("competition", "rounds", "teams", "judges", "annotators")
COMPETITION_KEYS = (
    "name",
    "slug",
    "description",
    "goals",
    "scoring_weights",
    "benign_prompts",
    "dataset_license",
    "registration",
    "reference_defender",
    "round_defaults",
    "practice",
)
# competition.scoring_weights: the weights scoring reads (competition.scoring.Weights), each a number >= 0.
SCORING_WEIGHT_KEYS = tuple(field.name for field in fields(Weights))
# competition.reference_defender names a bot by its natural key (docs/scoring.md, "Defenders").
REFERENCE_DEFENDER_KEYS = ("team", "bot")
# The round settings a competition keeps a default for (Competition.default_<name>).
ROUND_DEFAULT_KEYS = ("conversations_per_pair", "max_turns", "call_timeout_seconds", "retries", "message_limit")
ROUND_KEYS = ("number", "name", "slug", "practice", *Round.SETTING_FIELDS, "scheduled_at")
TEAM_KEYS = ("name", "slug", "institution", "side", "active", "members", "bots")
MEMBER_KEYS = ("username", "email", "role", "password")
# Annotators: staff accounts in the Annotator group (README, "Annotators"); never team members too.
ANNOTATOR_KEYS = ("username", "email", "password")
BOT_KEYS = (
    "name",
    "kind",
    "url",
    "model",
    "system_prompt",
    "api_key",
    "timeout_seconds",
    "max_concurrency",
    "active",
)
JUDGE_KEYS = ("name", "slug", "kind", "config", "version", "active")


class ConfigKeySchema(Protocol):
    """One key of a judge kind's config schema, as judging declares it next to each judge
    (judging/judges/config.py: ConfigKey): whether the config must hold it, and its check, which
    returns the value or raises ValueError saying what it must be."""

    required: bool

    @property
    def check(self) -> Callable[[Any], Any]: ...


# A judge kind -> its config's keys, in the order an "unknown key" problem lists them. The loader
# (load/) asks judging's registry for them (judging.judges.config_schemas) and hands them to the
# parse: judging sits above this package.
JudgeConfigSchemas = Mapping[str, Mapping[str, ConfigKeySchema]]
