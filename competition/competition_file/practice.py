"""The competition file's practice section (issue 25): which bots are open for practice, the daily
cap and the pause.

    competition:
      practice:
        opponents: [{team: blue-bastion, bot: bastion}]   # the reference bots teams practise against
        daily_conversations: 10       # per team and UTC day; 0 closes practice
        conversations_per_match: 2
        max_turns: 3
        paused: false

Every key is checked and every problem located; an opponent whose team the file describes must be
one of its bots in the file, any other must exist in the database when the file is loaded. A file
without the section leaves the stored practice as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from competition.competition_file import checks
from competition.competition_file.problems import Problem, place_of
from competition.practice.models import PracticePolicy
from teams.models import Bot, Team

if TYPE_CHECKING:
    from competition.competition_file.descriptions import TeamDescription
    from competition.competition_file.sections import SectionReader

PRACTICE_KEYS = ("opponents", "daily_conversations", "conversations_per_match", "max_turns", "paused")
OPPONENT_KEYS = ("team", "bot")


@dataclass(frozen=True)
class OpponentDescription:
    where: str
    team: str
    bot: str


@dataclass(frozen=True)
class PracticeDescription:
    where: str
    opponents: tuple[OpponentDescription, ...]
    daily_conversations: int
    conversations_per_match: int
    max_turns: int
    paused: bool


def practice_read(reader: SectionReader, data: dict, where: str) -> PracticeDescription | None:
    """The `practice` mapping of the competition section; None when absent or null."""
    if data.get("practice") is None:
        return None
    where = place_of(where, "practice")
    value = reader.mapping(data["practice"], where, keys=PRACTICE_KEYS)
    field = PracticePolicy._meta.get_field
    opponents = []
    seen: dict = {}
    for index, item in enumerate(reader.sequence(value, "opponents", where)):
        at = f"{place_of(where, 'opponents')}[{index}]"
        opponent = reader.mapping(item, at, keys=OPPONENT_KEYS, required=("team", "bot"))
        team = reader.read(opponent, "team", at, checks.slug(Team._meta.get_field("slug")), "")
        bot = reader.read(opponent, "bot", at, checks.text(Bot._meta.get_field("name"), required=True), "")
        if team and bot:
            reader.unique(seen, (team, bot), at, "practice opponent")
            opponents.append(OpponentDescription(where=at, team=team, bot=bot))
    return PracticeDescription(
        where=where,
        opponents=tuple(opponents),
        **{
            key: reader.read(value, key, where, checks.whole(field(key)), field(key).default)
            for key in ("daily_conversations", "conversations_per_match", "max_turns")
        },
        paused=reader.read(value, "paused", where, checks.boolean, False),
    )


def practice_check(
    reader: SectionReader, practice: PracticeDescription | None, teams: tuple[TeamDescription, ...]
) -> None:
    """An opponent whose team the file describes must be one of that team's bots in the file."""
    for opponent in practice.opponents if practice else ():
        team = next((team for team in teams if team.slug == opponent.team), None)
        if team is None:
            continue  # looked up in the database at load (practice_conflicts)
        names = [bot.name for bot in team.bots]
        if opponent.bot not in names:
            listed = ", ".join(repr(name) for name in names) or "none"
            reader.problem(
                place_of(opponent.where, "bot"),
                f"the team {opponent.team!r} has no bot {opponent.bot!r} in this file (its bots: {listed})",
            )


def practice_conflicts(practice: PracticeDescription | None, file_team_slugs: set[str]) -> list[Problem]:
    """An opponent whose team the file leaves out must exist already."""
    problems = []
    for opponent in practice.opponents if practice else ():
        if opponent.team in file_team_slugs:
            continue
        if not Bot.objects.filter(team__slug=opponent.team, name=opponent.bot).exclude(kind=Bot.Kind.PROBE).exists():
            problems.append(
                Problem(
                    opponent.where,
                    f"no bot {opponent.bot!r} of a team {opponent.team!r} in this file or in the database",
                )
            )
    return problems


def practice_values(practice: PracticeDescription) -> dict[str, Any]:
    return {
        "daily_conversations": practice.daily_conversations,
        "conversations_per_match": practice.conversations_per_match,
        "max_turns": practice.max_turns,
        "paused": practice.paused,
    }
