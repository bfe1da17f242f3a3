"""Load a competition file into the database: create or update by natural keys, all or nothing.

Natural keys: competition slug; round (competition, number); team slug; account username (team
members and annotators, who are made staff in the Annotator group);
membership (team, account); bot (team, bot name); entry (competition, team); judge (competition,
judge slug). Every team the file lists is entered in its competition, approved, with the bots the
file lists for it (an entry counts as created when the load entered the team or one of its bots). The file is the
truth for every key it describes (a key left out takes its default), with three exceptions kept on
purpose: nothing is ever deleted, a password only sets the password of an account the load creates
(people change their own), and a round's status is never touched (starting rounds is the lifecycle's
job). A round that has started keeps its settings: a file that would change them is refused.

Two ways to load short of that: a dry run (``dry_run``) checks and writes everything, reports what
changed, and rolls it all back (the admin's upload shows it before the load); ``keep_existing`` only
adds what the database lacks and leaves every row that exists as it is, reporting those that differ
from the file as kept (the demo: a second run keeps what an organizer edited in the admin).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import IntegrityError, models, transaction

from competition.competition_file import (
    AnnotatorDescription,
    CompetitionFile,
    CompetitionFileInvalid,
    MemberDescription,
    Problem,
    RoundDescription,
    competition_file_parse,
)
from competition.competition_file.practice import practice_conflicts, practice_values
from competition.entries.models import Entry, EntryBot
from competition.entries.services import EntryError, entry_enter_approved
from competition.models import Competition, Round
from competition.practice.services import practice_opponents_set, practice_policy_set

# The one import against the arrows (judging depends on competition, not the reverse): a competition
# file describes the whole competition, its judges included, and loads in one transaction.
from judging.judges import config_schemas
from judging.models import Judge
from teams.models import Bot, Membership, Side, Team

# The staff group of annotators (competition/migrations/0002_groups.py).
ANNOTATOR_GROUP = "Annotator"
KINDS = ("competition", "rounds", "teams", "accounts", "memberships", "bots", "entries", "judges")

# Rounds in these states have not started, so their settings may still change.
EDITABLE_ROUND_STATUSES = (Round.Status.DRAFT, Round.Status.SCHEDULED)


@dataclass(frozen=True)
class RowChange:
    """One row a load created, updated, or kept as it was though the file says otherwise
    (``keep_existing``): the row by its natural key, and the fields that differ."""

    row: str  # e.g. "team 'stone-wall'", "bot 'stone-wall' / 'careful'"
    change: str  # "created", "updated" or "kept"
    fields: tuple[str, ...] = ()


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # rows that differ from the file, left as they are (keep_existing)
    changes: list[RowChange] = field(default_factory=list)

    def count(self, row: str, change: str, fields: tuple[str, ...] = ()) -> None:
        """Count one row as ``change`` ("created", "updated", "unchanged" or "kept"); list it unless unchanged."""
        setattr(self, change, getattr(self, change) + 1)
        if change != "unchanged":
            self.changes.append(RowChange(row=row, change=change, fields=fields))


@dataclass(frozen=True)
class NewBotSecret:
    """The signing secret of a bot this load created: shown to the organizer once, to hand to its team."""

    team: str  # the team's slug
    bot: str  # the bot's name
    url: str
    secret: str


@dataclass
class LoadReport:
    """What one load did, counted per kind of row, and the secrets of the bots it created."""

    path: Path
    competition_slug: str
    dry_run: bool = False
    keep_existing: bool = False
    tallies: dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in KINDS})
    new_bot_secrets: list[NewBotSecret] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(tally.created or tally.updated for tally in self.tallies.values())

    @property
    def kept(self) -> list[tuple[str, RowChange]]:
        """The rows that differ from the file and were left as they are (keep_existing), with their kind."""
        return [
            (kind, change)
            for kind, tally in self.tallies.items()
            for change in tally.changes
            if change.change == "kept"
        ]

    def lines(self) -> list[str]:
        """A small table of created / updated / unchanged counts, one kind a line (and kept, when any was)."""
        kept = any(tally.kept for tally in self.tallies.values())
        rows = [f"{'':<12} {'created':>8} {'updated':>8} {'unchanged':>10}" + (f" {'kept':>6}" if kept else "")]
        rows += [
            f"{kind:<12} {tally.created:>8} {tally.updated:>8} {tally.unchanged:>10}"
            + (f" {tally.kept:>6}" if kept else "")
            for kind, tally in self.tallies.items()
        ]
        return rows


def competition_file_load(
    *, path: Path, dry_run: bool = False, keep_existing: bool = False, by: AbstractBaseUser | None = None
) -> LoadReport:
    """Create or update everything the competition file at path describes, or change nothing at all.

    The file is validated in full before anything is written, then checked against the database
    (rows it would change but must not: a started round's settings, a name another row holds, a judge
    with verdicts changed without a new version). Raises CompetitionFileInvalid listing every problem;
    a database error raised during the writes rolls the whole load back as well. Loading the same file
    twice changes nothing the second time and reports every row unchanged.

    ``dry_run``: the same checks and writes, then all rolled back; the report says what the load would
    do (no bot is made, so it holds no secret). ``keep_existing``: rows that exist are left as they
    are (counted as kept when they differ from the file, RowChange lists them); only missing rows are
    created, and only those are checked against the database. ``by``: the person loading through the
    admin; a file naming a superuser's account is refused unless they are a superuser too (the load
    sets the email of the accounts it names, and an organizer may not change a superuser's).
    """
    # Every judge's config is checked against its kind's schema, declared next to the judge.
    described = competition_file_parse(path=path, judge_configs=config_schemas())
    report = LoadReport(
        path=path, competition_slug=described.competition.slug, dry_run=dry_run, keep_existing=keep_existing
    )
    with transaction.atomic():
        stored = _Stored.locked(described)
        problems = _conflicts(described, stored, keep_existing=keep_existing, by=by)
        if problems:
            raise CompetitionFileInvalid(path, problems)
        _write(described, stored, report)
        if dry_run:
            transaction.set_rollback(True)
            report.new_bot_secrets.clear()
    return report


@dataclass
class _Stored:
    """The rows the file names that exist already, read under a lock so that nothing moves meanwhile."""

    competition: Competition | None
    rounds: dict[int, Round]
    teams: dict[str, Team]
    accounts: dict[str, Any]
    bots: dict[tuple[str, str], Bot]
    judges: dict[str, Judge]

    @classmethod
    def locked(cls, described: CompetitionFile) -> _Stored:
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


def _conflicts(described: CompetitionFile, stored: _Stored, *, keep_existing: bool, by: Any) -> list[Problem]:
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
    (One whose team is in the file was checked with the file: sections.reference_defender_check.)"""
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


def _round_conflicts(described: CompetitionFile, stored: _Stored, *, keep_existing: bool) -> list[Problem]:
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
        changes = _changes(round_, _round_values(spec))
        if changes:
            listed = ", ".join(f"{name} ({getattr(round_, name)!r} -> {value!r})" for name, value in changes.items())
            problems.append(
                Problem(
                    spec.where,
                    f"round {spec.number} has started (status {round_.status}) and cannot be changed: {listed}",
                )
            )
    return problems


def _judge_conflicts(described: CompetitionFile, stored: _Stored) -> list[Problem]:
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


def _account_conflicts(described: CompetitionFile, stored: _Stored, *, by: Any) -> list[Problem]:
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


def _write(described: CompetitionFile, stored: _Stored, report: LoadReport) -> None:
    tallies = report.tallies
    path_name = report.path.name
    keep = report.keep_existing
    spec = described.competition
    competition = _save(
        Competition,
        stored.competition,
        {"slug": spec.slug},
        _values(spec, leave_out=("slug", "reference_defender", "practice")),
        tallies["competition"],
        row=f"competition {spec.slug!r}",
        keep=keep,
    )
    for round_spec in described.rounds:
        _save(
            Round,
            stored.rounds.get(round_spec.number),
            {"competition": competition, "number": round_spec.number},
            _round_values(round_spec),
            tallies["rounds"],
            row=f"round {round_spec.number} ({round_spec.slug!r})",
            keep=keep,
        )
    for judge_spec in described.judges:
        _save(
            Judge,
            stored.judges.get(judge_spec.slug),
            {"competition": competition, "slug": judge_spec.slug},
            _values(judge_spec, leave_out=("slug",)),
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
            _values(team_spec, leave_out=("slug", "members", "bots")),
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
                _values(bot_spec, leave_out=("name",)),
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


def _annotator_save(stored: _Stored, spec: AnnotatorDescription, tally: Tally, *, keep: bool) -> None:
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


def _values(description: Any, *, leave_out: tuple[str, ...]) -> dict[str, Any]:
    """The model field values of a description: its fields but its place in the file and leave_out."""
    return {f.name: getattr(description, f.name) for f in fields(description) if f.name not in {"where", *leave_out}}


def _round_values(spec: RoundDescription) -> dict[str, Any]:
    return _values(spec, leave_out=("number",))


def _changes(instance: models.Model, values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if getattr(instance, name) != value}


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
    changes = _changes(instance, values)
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
