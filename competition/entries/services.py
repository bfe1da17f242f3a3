"""Writes of entries: request, approve, decline, withdraw; enter a bot or take it out; remove a team
that has played nothing.

Every write goes through the model's save (or its historical records are written), so the admin's
History of an entry lists each move with who made it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.utils import timezone
from django.utils.text import slugify

from competition import signals
from competition.entries.models import Entry, EntryBot, Registration
from competition.entries.seats import entry_seats_sync
from competition.models import Competition, Match
from competition.signals import signal_on_commit
from teams.models import Bot, Membership, Team


class EntryError(Exception):
    """An entry change that cannot happen now; the message is written for the person who asked."""


def _seated(entry: Entry) -> None:
    """entry_seats_sync, with the clash said in words (a person on two teams of one competition)."""
    try:
        with transaction.atomic():
            entry_seats_sync(entry=entry)
    except IntegrityError as error:
        raise EntryError(
            f"A member of {entry.team} is on another team in {entry.competition}; "
            "a person plays for one team per competition"
        ) from error


def _status_set(*, entry: Entry, status: str, reason: str = "", note: str) -> Entry:
    entry.status = status
    entry.reason = reason
    entry.decided_at = timezone.now()
    entry._change_reason = note
    entry.save(update_fields=["status", "reason", "decided_at"])
    _seated(entry)
    return entry


@transaction.atomic
def entry_request(*, competition: Competition, team: Team, requested_by=None) -> Entry:
    """Ask for ``team`` to take part in ``competition``. A withdrawn or declined entry is asked for
    again. Raises EntryError when the team has an entry there already (requested or approved)."""
    entry = Entry.objects.select_for_update().filter(competition=competition, team=team).first()
    if entry is None:
        entry = Entry(competition=competition, team=team, requested_by=requested_by)
        entry._change_reason = "Entry requested"
        entry.save()
        _seated(entry)
        return entry
    if entry.status in (Entry.Status.REQUESTED, Entry.Status.APPROVED):
        raise EntryError(f"{team} has an entry in {competition} already ({entry.get_status_display().lower()})")
    entry.requested_by = requested_by
    entry.status = Entry.Status.REQUESTED
    entry.reason = ""
    entry.decided_at = None
    entry._change_reason = "Entry requested again"
    entry.save()
    _seated(entry)
    return entry


@transaction.atomic
def entry_approve(*, entry: Entry) -> Entry:
    """Approve a requested (or declined, or withdrawn) entry: its entered bots play the next rounds."""
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.status == Entry.Status.APPROVED:
        return entry
    entry = _status_set(entry=entry, status=Entry.Status.APPROVED, note="Entry approved")
    signal_on_commit(signals.entry_decided, entry_id=entry.pk)
    return entry


@transaction.atomic
def entry_decline(*, entry: Entry, reason: str = "") -> Entry:
    """Decline a requested entry, with the reason the requester is told. Raises EntryError for an
    approved entry (it is withdrawn instead, so that the rounds it played stay explained)."""
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.status == Entry.Status.APPROVED:
        raise EntryError(f"{entry.team} is approved in {entry.competition}; withdraw the entry instead")
    entry = _status_set(entry=entry, status=Entry.Status.DECLINED, reason=reason, note="Entry declined")
    signal_on_commit(signals.entry_decided, entry_id=entry.pk)
    return entry


@transaction.atomic
def entry_withdraw(*, entry: Entry, reason: str = "") -> Entry:
    """Take the team out of the competition's next rounds; the rounds it played keep their matches."""
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    return _status_set(entry=entry, status=Entry.Status.WITHDRAWN, reason=reason, note="Entry withdrawn")


@transaction.atomic
def entry_bot_enter(*, entry: Entry, bot: Bot) -> EntryBot:
    """Enter ``bot`` into ``entry``: it plays the competition's next rounds while the entry is
    approved. Idempotent. Raises EntryError for a bot of another team or a probe."""
    if bot.team_id != entry.team_id or bot.kind == Bot.Kind.PROBE:
        raise EntryError(f"{bot} is not a bot of {entry.team}")
    return EntryBot.objects.get_or_create(entry=entry, bot=bot)[0]


@transaction.atomic
def entry_bot_leave(*, entry: Entry, bot: Bot) -> bool:
    """Take ``bot`` out of ``entry`` (rounds already started keep it). True when it was entered."""
    entry_bot = EntryBot.objects.filter(entry=entry, bot=bot).first()
    if entry_bot is None:
        return False
    entry_bot.delete()
    return True


@transaction.atomic
def entry_enter_approved(*, competition: Competition, team: Team, bots: list[Bot], note: str) -> tuple[Entry, bool]:
    """What an organizer's own listing does (the competition file): ``team`` is approved in
    ``competition`` with ``bots`` entered. Returns the entry and whether anything changed."""
    entry = Entry.objects.select_for_update().filter(competition=competition, team=team).first()
    changed = False
    if entry is None:
        entry = Entry(competition=competition, team=team, status=Entry.Status.APPROVED, decided_at=timezone.now())
        entry._change_reason = note
        entry.save()
        _seated(entry)
        changed = True
    elif entry.status != Entry.Status.APPROVED:
        _status_set(entry=entry, status=Entry.Status.APPROVED, note=note)
        changed = True
    entered = set(EntryBot.objects.filter(entry=entry).values_list("bot_id", flat=True))
    for bot in bots:
        if bot.pk not in entered:
            entry_bot_enter(entry=entry, bot=bot)
            changed = True
    return entry, changed


def team_has_played(*, team: Team) -> bool:
    """Whether any bot of the team is in a match of any round (then it cannot be removed)."""
    return Match.objects.filter(Q(attacker__team=team) | Q(defender__team=team)).exists()


@transaction.atomic
def team_remove(*, team: Team) -> None:
    """Delete a team made by mistake, with its bots, memberships and entries. Raises EntryError when
    any of its bots has played a match or has standings (its record must stay)."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    if team_has_played(team=team) or team.standings.exists():
        raise EntryError(f"{team} has played matches and cannot be removed; make it inactive instead")
    # Bots are PROTECTed from a team's deletion on purpose: only this check may remove them.
    Bot.objects.filter(team=team).delete()
    try:
        team.delete()
    except (ProtectedError, RestrictedError) as error:  # a row that keeps the team (a standing's revision)
        raise EntryError(f"{team} cannot be removed: {error}") from error


def _free_slug(name: str) -> str:
    base = slugify(name)[:50] or "team"
    slug, number = base, 1
    while Team.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


@transaction.atomic
def team_request(*, competition: Competition, user, name: str, institution: str, side: str) -> Entry:
    """A signed-in person asks to register a new team for ``competition``: the team is made with
    them as its owner, and its entry is requested (approved at once when the competition's
    registration is open). Raises EntryError when registration is closed or the name is taken."""
    if competition.registration == Registration.CLOSED:
        raise EntryError(f"Registration for {competition} is closed; ask its organizers")
    if Team.objects.filter(name__iexact=name.strip()).exists():
        raise EntryError(f"A team named {name.strip()!r} exists already; choose another name")
    team = Team.objects.create(name=name.strip(), slug=_free_slug(name), institution=institution.strip(), side=side)
    Membership.objects.create(team=team, user=user, role=Membership.Role.OWNER)
    entry = entry_request(competition=competition, team=team, requested_by=user)
    if competition.registration == Registration.OPEN:
        entry = entry_approve(entry=entry)
    return entry


def entry_request_by_owner(*, competition: Competition, team: Team, user) -> Entry:
    """An owner asks for their existing team to take part in ``competition`` (approved at once when
    registration is open). Raises EntryError when registration is closed."""
    if competition.registration == Registration.CLOSED:
        raise EntryError(f"Registration for {competition} is closed; ask its organizers")
    entry = entry_request(competition=competition, team=team, requested_by=user)
    if competition.registration == Registration.OPEN:
        entry = entry_approve(entry=entry)
    return entry
