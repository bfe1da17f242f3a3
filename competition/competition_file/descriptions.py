"""What a valid competition file describes, as plain frozen dataclasses (no database rows).

Every description keeps ``where``, its place in the file, so load/ can name the part of
the file a database conflict comes from. Defaults are already filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from competition.competition_file.practice import PracticeDescription


@dataclass(frozen=True)
class CompetitionDescription:
    where: str
    name: str
    slug: str
    description: str
    goals: dict[str, list[str]]
    scoring_weights: dict[str, float]
    benign_prompts: list[str]
    dataset_license: str
    registration: str  # Registration: open, approval or closed
    # (team slug, bot name) of the reference defender for utility; None: no reference.
    reference_defender: tuple[str, str] | None
    default_conversations_per_pair: int
    default_max_turns: int
    default_call_timeout_seconds: float
    default_retries: int
    default_message_limit: int
    # The practice section (competition_file/practice.py); None: the file leaves practice alone.
    practice: PracticeDescription | None = None


@dataclass(frozen=True)
class RoundDescription:
    where: str
    number: int
    name: str
    slug: str
    practice: bool
    conversations_per_pair: int
    max_turns: int
    call_timeout_seconds: float
    retries: int
    message_limit: int
    circuit_breaker_failures: int
    scheduled_at: datetime | None


@dataclass(frozen=True)
class MemberDescription:
    where: str
    username: str
    email: str
    role: str
    # None: the account is created with an unusable password (the person sets one by a reset).
    password: str | None


@dataclass(frozen=True)
class AnnotatorDescription:
    where: str
    username: str
    email: str
    # None: the account is created with an unusable password (the person sets one by a reset).
    password: str | None


@dataclass(frozen=True)
class BotDescription:
    where: str
    name: str
    kind: str
    url: str
    model: str
    system_prompt: str
    api_key: str
    timeout_seconds: float | None
    max_concurrency: int
    active: bool


@dataclass(frozen=True)
class TeamDescription:
    where: str
    name: str
    slug: str
    institution: str
    side: str
    active: bool
    members: tuple[MemberDescription, ...]
    bots: tuple[BotDescription, ...]


@dataclass(frozen=True)
class JudgeDescription:
    where: str
    name: str
    slug: str
    kind: str
    config: dict
    version: int
    active: bool


@dataclass(frozen=True)
class CompetitionFile:
    """A valid competition file: everything in it, checked, with the place each part came from."""

    path: Path
    competition: CompetitionDescription
    rounds: tuple[RoundDescription, ...]
    teams: tuple[TeamDescription, ...]
    judges: tuple[JudgeDescription, ...]
    annotators: tuple[AnnotatorDescription, ...] = ()
