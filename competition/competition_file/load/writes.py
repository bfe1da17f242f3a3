"""Writing a checked competition file: every row created or updated by its natural key (keep_existing:
a row that exists is kept as it is), counted and listed in the load's report; entries and practice
through their own services."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, models, transaction

from competition.competition_file import (
    AnnotatorDescription,
    CompetitionFile,
    CompetitionFileInvalid,
    MemberDescription,
    Problem,
)
from competition.competition_file.load.report import LoadReport, NewBotSecret, Tally
from competition.competition_file.load.stored import Stored, changed_values, description_values, round_values
from competition.competition_file.practice import practice_values
from competition.entries.models import Entry, EntryBot
from competition.entries.services import EntryError, entry_enter_approved
from competition.models import Competition, Round
from competition.practice.services import practice_opponents_set, practice_policy_set
from judging.models import Judge
from teams.models import Bot, Membership, Team

# The staff group of annotators (competition/migrations/0002_groups.py).
ANNOTATOR_GROUP = "Annotator"


def write(described: CompetitionFile, stored: Stored, report: LoadReport) -> None:
    tallies = report.tallies
    path_name = report.path.name
    keep = report.keep_existing
    spec = described.competition
    competition = _save(
        Competition,
        stored.competition,
        {"slug": spec.slug},
        description_values(spec, leave_out=("slug", "reference_defender", "practice")),
        tallies["competition"],
        row=f"competition {spec.slug!r}",
        keep=keep,
    )
    for round_spec in described.rounds:
        _save(
            Round,
            stored.rounds.get(round_spec.number),
            {"competition": competition, "number": round_spec.number},
            round_values(round_spec),
            tallies["rounds"],
            row=f"round {round_spec.number} ({round_spec.slug!r})",
            keep=keep,
        )
    for judge_spec in described.judges:
        _save(
            Judge,
            stored.judges.get(judge_spec.slug),
            {"competition": competition, "slug": judge_spec.slug},
            description_values(judge_spec, leave_out=("slug",)),
            tallies["judges"],
            row=f"judge {judge_spec.slug!r}",
            keep=keep,
        )
    for annotator_spec in described.annotators:
        _annotator_save(stored, annotator_spec, tallies["accounts"], keep=keep)
    for team_spec in described.teams:
        team = _save(
            Team,
            stored.teams.get(team_spec.slug),
            {"slug": team_spec.slug},
            description_values(team_spec, leave_out=("slug", "members", "bots")),
            tallies["teams"],
            row=f"team {team_spec.slug!r}",
            keep=keep,
        )
        for member_spec in team_spec.members:
            account = _account_save(
                stored.accounts.get(member_spec.username), member_spec, tallies["accounts"], keep=keep
            )
            membership = Membership.objects.select_for_update().filter(team=team, user=account).first()
            try:
                with transaction.atomic():
                    _save(
                        Membership,
                        membership,
                        {"team": team, "user": account},
                        {"role": member_spec.role},
                        tallies["memberships"],
                        row=f"membership of {member_spec.username!r} in {team.slug!r}",
                        keep=keep,
                    )
            except IntegrityError as error:  # the seat of competition.entries: one team per competition
                message = f"{member_spec.username!r} is on another team in a competition {team.slug!r} is entered in"
                raise CompetitionFileInvalid(report.path, [Problem(member_spec.where, message)]) from error
        team_bots = []
        for bot_spec in team_spec.bots:
            existing = stored.bots.get((team_spec.slug, bot_spec.name))
            # Through Bot.save(): it raises the version when a versioned field (URL, kind, ...) changes.
            bot = _save(
                Bot,
                existing,
                {"team": team, "name": bot_spec.name},
                description_values(bot_spec, leave_out=("name",)),
                tallies["bots"],
                row=f"bot {team.slug!r} / {bot_spec.name!r}",
                keep=keep,
            )
            if existing is None:
                new = NewBotSecret(team=team.slug, bot=bot.name, url=bot.url, secret=bot.secret)
                report.new_bot_secrets.append(new)
            team_bots.append(bot)
        _entry_save(
            competition, team, team_bots, report, where=team_spec.where, note=f"the competition file {path_name}"
        )
    if keep and stored.competition is not None:
        return  # the competition's reference defender and practice policy stay as they are
    _reference_defender_save(competition, spec.reference_defender, tallies["competition"])
    if spec.practice is not None:
        # Through practice's services, once the file's bots are written (an opponent may be new).
        practice_policy_set(competition_id=competition.pk, **practice_values(spec.practice))
        practice_opponents_set(
            competition_id=competition.pk,
            bot_ids=[
                Bot.objects.get(team__slug=opponent.team, name=opponent.bot).pk for opponent in spec.practice.opponents
            ],
        )


def _entry_save(
    competition: Competition, team: Team, bots: list[Bot], report: LoadReport, *, where: str, note: str
) -> None:
    """A team the file lists takes part in its competition, approved, with the bots the file lists
    (keep_existing: an entry that exists stays as it is, whatever its status and bots)."""
    tally = report.tallies["entries"]
    row = f"entry of {team.slug!r}"
    if report.keep_existing:
        entry = Entry.objects.filter(competition=competition, team=team).first()
        if entry is not None:
            entered = set(EntryBot.objects.filter(entry=entry).values_list("bot_id", flat=True))
            differs = entry.status != Entry.Status.APPROVED or any(bot.pk not in entered for bot in bots)
            tally.count(row, "kept", ("status", "bots")) if differs else tally.count(row, "unchanged")
            return
    try:
        _, entered = entry_enter_approved(competition=competition, team=team, bots=bots, note=f"Entered by {note}")
    except EntryError as error:
        raise CompetitionFileInvalid(report.path, [Problem(where, str(error))]) from error
    tally.count(row, "created") if entered else tally.count(row, "unchanged")


def _reference_defender_save(competition: Competition, reference: tuple[str, str] | None, tally: Tally) -> None:
    """Point the competition at its reference defender once the bots are written (the file may create
    it). Counted with the competition: a competition that was otherwise unchanged is now updated."""
    bot_id = None
    if reference is not None:
        team_slug, bot_name = reference
        bot_id = Bot.objects.get(team__slug=team_slug, name=bot_name).pk
    if competition.reference_defender_id == bot_id:
        return
    competition.reference_defender_id = bot_id
    competition.save(update_fields=["reference_defender"])
    if tally.unchanged:
        tally.unchanged -= 1
        tally.count(f"competition {competition.slug!r}", "updated", ("reference_defender",))
    elif tally.updated:
        last = tally.changes[-1]
        tally.changes[-1] = replace(last, fields=(*last.fields, "reference_defender"))


def _annotator_save(stored: Stored, spec: AnnotatorDescription, tally: Tally, *, keep: bool) -> None:
    """An annotator's account: created if new, made staff and put in the Annotator group (the group
    the migrations make: its permissions are the blind annotator's). keep: an account that exists
    stays as it is."""
    account = stored.accounts.get(spec.username)
    row = f"account {spec.username!r} (annotator)"
    created = account is None
    group = Group.objects.get(name=ANNOTATOR_GROUP)
    if keep and not created:
        differs = not (account.is_staff and account.groups.filter(pk=group.pk).exists()) or account.email != spec.email
        tally.count(row, "kept", ("is_staff", "groups", "email")) if differs else tally.count(row, "unchanged")
        return
    account = _account_save(account, spec, Tally(), keep=False)
    joined = not account.groups.filter(pk=group.pk).exists()
    if not account.is_staff:
        account.is_staff = True
        account.save(update_fields=["is_staff"])
        joined = True
    account.groups.add(group)
    if created:
        tally.count(row, "created")
    elif joined or account.email != spec.email:
        tally.count(row, "updated", ("is_staff", "groups"))
    else:
        tally.count(row, "unchanged")


def _account_save(account: Any, spec: MemberDescription | AnnotatorDescription, tally: Tally, *, keep: bool) -> Any:
    row = f"account {spec.username!r}"
    if account is None:
        tally.count(row, "created")
        # create_user gives an unusable password when password is None.
        return get_user_model().objects.create_user(username=spec.username, email=spec.email, password=spec.password)
    return _save(type(account), account, {}, {"email": spec.email}, tally, row=row, keep=keep)


def _save(
    model: type[models.Model],
    instance: models.Model | None,
    key: dict[str, Any],
    values: dict[str, Any],
    tally: Tally,
    *,
    row: str,
    keep: bool,
) -> models.Model:
    """Create the row (natural key plus values) or update the fields of instance that differ
    (keep: leave them, and count the row as kept)."""
    if instance is None:
        instance = model(**key, **values)
        instance.save()
        tally.count(row, "created")
        return instance
    changes = changed_values(instance, values)
    if not changes:
        tally.count(row, "unchanged")
        return instance
    if keep:
        tally.count(row, "kept", tuple(changes))
        return instance
    for name, value in changes.items():
        setattr(instance, name, value)
    # Only the changed columns (and auto_now stamps) are written, so an edit made to another column
    # elsewhere is not overwritten with what this process read.
    stamps = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    instance.save(update_fields=[*changes, *stamps])
    tally.count(row, "updated", tuple(changes))
    return instance
