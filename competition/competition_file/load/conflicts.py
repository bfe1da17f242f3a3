"""What a valid competition file may not do to the rows already stored: a started round's settings, a
name another competition or team holds, a judge with verdicts changed under the same version, an
account spelled with other capitals than a stored one, a reference defender or practice opponent
that exists nowhere, a superuser's account named in a load by someone else. Every problem is
collected, none is written (keep_existing: only the rows the load creates are checked)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from competition.competition_file import CompetitionFile, Problem
from competition.competition_file.load.stored import Stored, changed_values, round_values
from competition.competition_file.practice import practice_conflicts
from competition.models import Competition, Round
from teams.models import Bot, Side, Team

# Rounds in these states have not started, so their settings may still change.
EDITABLE_ROUND_STATUSES = (Round.Status.DRAFT, Round.Status.SCHEDULED)


def conflicts(described: CompetitionFile, stored: Stored, *, keep_existing: bool, by: Any) -> list[Problem]:
    """What the valid file may not do to the rows already stored (keep_existing: to the rows it creates)."""
    problems: list[Problem] = []
    spec = described.competition
    kept_competition = keep_existing and stored.competition is not None
    holder = Competition.objects.filter(name=spec.name).exclude(slug=spec.slug).first()
    if holder is not None and not kept_competition:
        problems.append(
            Problem(f"{spec.where}.name", f"the competition {holder.slug!r} already has this name; names are unique")
        )
    if stored.competition is not None:
        problems += _round_conflicts(described, stored, keep_existing=keep_existing)
        if not keep_existing:
            problems += _judge_conflicts(described, stored)
    file_slugs = {team.slug for team in described.teams}
    holders = {team.name: team.slug for team in Team.objects.filter(name__in=[t.name for t in described.teams])}
    for team in described.teams:
        if keep_existing and team.slug in stored.teams:
            continue
        holder_slug = holders.get(team.name)
        # A team the file also describes may hand its name on; only a team outside the file keeps it.
        if holder_slug is not None and holder_slug != team.slug and holder_slug not in file_slugs:
            problems.append(
                Problem(f"{team.where}.name", f"the team {holder_slug!r} already has this name; names are unique")
            )
    problems += _account_conflicts(described, stored, by=by)
    if not kept_competition:
        problems += _reference_defender_conflicts(described)
        problems += practice_conflicts(spec.practice, file_slugs)
    return problems


def _reference_defender_conflicts(described: CompetitionFile) -> list[Problem]:
    """A reference defender whose team the file leaves out must exist already, as a defender bot.
    (One whose team is in the file was checked with the file: sections/competition.py: reference_defender_check.)"""
    spec = described.competition
    if spec.reference_defender is None:
        return []
    team_slug, bot_name = spec.reference_defender
    if any(team.slug == team_slug for team in described.teams):
        return []
    where = f"{spec.where}.reference_defender"
    team = Team.objects.filter(slug=team_slug).first()
    if team is None:
        return [Problem(f"{where}.team", f"no team {team_slug!r} in this file or in the database")]
    problems = []
    if team.side != Side.DEFENDER:
        problems.append(
            Problem(f"{where}.team", f"{team_slug!r} is an {team.side} team; the reference must be a defender bot")
        )
    if not Bot.objects.filter(team=team, name=bot_name).exclude(kind=Bot.Kind.PROBE).exists():
        names = list(team.bots.exclude(kind=Bot.Kind.PROBE).order_by("name").values_list("name", flat=True))
        listed = ", ".join(repr(name) for name in names) or "none"
        problems.append(Problem(f"{where}.bot", f"the team {team_slug!r} has no bot {bot_name!r} (its bots: {listed})"))
    return problems


def _round_conflicts(described: CompetitionFile, stored: Stored, *, keep_existing: bool) -> list[Problem]:
    problems = []
    file_numbers = {round_.number for round_ in described.rounds}
    slugs_outside_file = {r.slug: r.number for r in stored.rounds.values() if r.number not in file_numbers}
    for spec in described.rounds:
        if spec.slug in slugs_outside_file:
            number = slugs_outside_file[spec.slug]
            problems.append(Problem(f"{spec.where}.slug", f"round {number} already has this slug; slugs are unique"))
        round_ = stored.rounds.get(spec.number)
        if round_ is None or round_.status in EDITABLE_ROUND_STATUSES or keep_existing:
            continue
        changes = changed_values(round_, round_values(spec))
        if changes:
            listed = ", ".join(f"{name} ({getattr(round_, name)!r} -> {value!r})" for name, value in changes.items())
            problems.append(
                Problem(
                    spec.where,
                    f"round {spec.number} has started (status {round_.status}) and cannot be changed: {listed}",
                )
            )
    return problems


def _judge_conflicts(described: CompetitionFile, stored: Stored) -> list[Problem]:
    """A judge's verdicts are keyed by its version, so a judge with verdicts must not change under one."""
    problems = []
    for spec in described.judges:
        judge = stored.judges.get(spec.slug)
        if judge is None or not judge.verdicts.exists():
            continue
        if spec.version < judge.version:
            problems.append(
                Problem(f"{spec.where}.version", f"cannot go down from {judge.version}: the judge has verdicts")
            )
        elif (spec.kind, spec.config) != (judge.kind, judge.config) and spec.version == judge.version:
            problems.append(
                Problem(
                    f"{spec.where}.version",
                    f"the judge has verdicts under version {judge.version}; "
                    f"raise the version to change its kind or config",
                )
            )
    return problems


def _account_conflicts(described: CompetitionFile, stored: Stored, *, by: Any) -> list[Problem]:
    """An account spelled with other capitals than a stored one would be a second, confusable account;
    a superuser's account is not for a load made by someone else (``by``, through the admin)."""
    problems = []
    model = get_user_model()
    people = [*(member for team in described.teams for member in team.members), *described.annotators]
    for member in people:
        account = stored.accounts.get(member.username)
        if account is not None and account.is_superuser and by is not None and not by.is_superuser:
            message = f"{member.username!r} is a superuser's account: only a superuser may load a file naming it"
            problems.append(Problem(f"{member.where}.username", message))
        if account is not None:
            continue
        other = model.objects.filter(username__iexact=member.username).values_list("username", flat=True).first()
        if other is not None:
            problems.append(
                Problem(f"{member.where}.username", f"the account {other!r} exists already; spell it that way")
            )
    return problems
