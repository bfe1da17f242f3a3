"""The rows a competition file names that exist already, read under a lock, and how a description's
values differ from a stored row's (the conflicts and the writes both compare through these)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models

from competition.competition_file import CompetitionFile, RoundDescription
from competition.models import Competition, Round
from judging.models import Judge
from teams.models import Bot, Team


@dataclass
class Stored:
    """The rows the file names that exist already, read under a lock so that nothing moves meanwhile."""

    competition: Competition | None
    rounds: dict[int, Round]
    teams: dict[str, Team]
    accounts: dict[str, Any]
    bots: dict[tuple[str, str], Bot]
    judges: dict[str, Judge]

    @classmethod
    def locked(cls, described: CompetitionFile) -> Stored:
        team_slugs = [team.slug for team in described.teams]
        usernames = [member.username for team in described.teams for member in team.members]
        usernames += [annotator.username for annotator in described.annotators]
        competition = Competition.objects.select_for_update().filter(slug=described.competition.slug).first()
        rounds: dict[int, Round] = {}
        judges: dict[str, Judge] = {}
        if competition is not None:
            rounds = {r.number: r for r in Round.objects.select_for_update().filter(competition=competition)}
            judges = {j.slug: j for j in Judge.objects.select_for_update().filter(competition=competition)}
        teams = {team.slug: team for team in Team.objects.select_for_update().filter(slug__in=team_slugs)}
        bots = {
            (bot.team.slug, bot.name): bot
            for bot in Bot.objects.select_for_update().select_related("team").filter(team__slug__in=team_slugs)
        }
        accounts = {
            user.username: user for user in get_user_model().objects.select_for_update().filter(username__in=usernames)
        }
        return cls(competition, rounds, teams, accounts, bots, judges)


def description_values(description: Any, *, leave_out: tuple[str, ...]) -> dict[str, Any]:
    """The model field values of a description: its fields but its place in the file and leave_out."""
    return {f.name: getattr(description, f.name) for f in fields(description) if f.name not in {"where", *leave_out}}


def round_values(spec: RoundDescription) -> dict[str, Any]:
    return description_values(spec, leave_out=("number",))


def changed_values(instance: models.Model, values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if getattr(instance, name) != value}
