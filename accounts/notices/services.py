"""Writes of notices: one Notice per person and event, mailed when the person wants that kind by email."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from accounts.mail import mail_queue
from accounts.models import Notice, NoticeKind, NoticePreference
from competition.entries.models import Entry
from competition.models import Match, Round, Standing, StandingRevision
from teams.models import BotHealthCheck, Membership, Team


def email_wanted(*, user_id: int, kind: str) -> bool:
    """Whether the person gets ``kind`` by email (yes unless they turned it off)."""
    return not NoticePreference.objects.filter(user_id=user_id, kind=kind, email=False).exists()


def notice_preference_set(*, user, kind: str, email: bool) -> NoticePreference:
    """Turn one kind of notice by email on or off for ``user`` (recorded in the audit trail)."""
    preference, _ = NoticePreference.objects.get_or_create(user=user, kind=kind, defaults={"email": email})
    if preference.email != email:
        preference.email = email
        preference.save(update_fields=["email"])
    return preference


def notice_send(
    *, users: Iterable, kind: str, event: str, subject: str, body: str, link: str = "", email: bool = True
) -> int:
    """Give each of ``users`` a notice of ``event`` (at most once per person and event) and mail it
    to those who want ``kind`` by email and have an address (``email=False``: the notice is mailed
    otherwise already). Returns the notices written."""
    written = 0
    for user in {user.pk: user for user in users}.values():
        try:
            with transaction.atomic():
                Notice.objects.create(user=user, kind=kind, event=event, subject=subject, body=body, link=link)
        except IntegrityError:
            continue  # this person heard of this event already
        written += 1
        if email and user.is_active and user.email and email_wanted(user_id=user.pk, kind=kind):
            mail_queue(
                to=user.email,
                subject=subject,
                template="notice",
                context={"name": user.get_username(), "body": body, "link": link},
                unsubscribe=(user.pk, kind),
            )
    return written


def team_people(team_ids: Iterable[int]):
    """The active accounts on these teams."""
    return get_user_model().objects.filter(memberships__team_id__in=list(team_ids), is_active=True).distinct()


def _round_team_ids(round_: Round) -> set[int]:
    pairs = Match.objects.filter(round=round_).values_list("attacker__team_id", "defender__team_id")
    playing = {team for pair in pairs for team in pair}
    return set(Team.objects.filter(pk__in=playing, active=True).values_list("pk", flat=True))


def round_started_notify(*, pk: int) -> int:
    round_ = Round.objects.select_related("competition").filter(pk=pk).first()
    if round_ is None:
        return 0
    return notice_send(
        users=team_people(_round_team_ids(round_)),
        kind=NoticeKind.ROUND_STARTED,
        event=f"round:{pk}:started",
        subject=f"{round_} has started",
        body=f"{round_} has started; your team's entered bots are playing it now.",
        link=reverse("competition", args=[round_.competition.slug]),
    )


def round_published_notify(*, pk: int) -> int:
    """Each team's people learn the round is published, with their team's best place in it."""
    round_ = Round.objects.select_related("competition").filter(pk=pk).first()
    if round_ is None:
        return 0
    link = reverse("round-leaderboard", args=[round_.competition.slug, round_.number])
    places: dict[int, list[Standing]] = {}
    for standing in Standing.objects.filter(round=round_).select_related("team", "bot").order_by("rank"):
        places.setdefault(standing.team_id, []).append(standing)
    written = 0
    for team_id, standings in places.items():
        best = standings[0]
        who = best.bot.name if best.bot else best.team.name
        written += notice_send(
            users=team_people([team_id]),
            kind=NoticeKind.ROUND_PUBLISHED,
            event=f"round:{pk}:published",
            subject=f"{round_}: standings published, your team placed {best.rank}",
            body=f"The standings of {round_} are published. {best.team.name} placed {best.rank} "
            f"among the {best.get_side_display().lower()}s ({who}).",
            link=link,
        )
    return written


def standings_revised_notify(*, pk: int) -> int:
    """The teams whose published standings in the round changed (their newest revisions)."""
    round_ = Round.objects.select_related("competition").filter(pk=pk).first()
    if round_ is None:
        return 0
    latest = StandingRevision.objects.filter(round=round_).order_by("-pk").first()
    if latest is None:
        return 0
    batch = StandingRevision.objects.filter(round=round_, reason=latest.reason, changed_at__gte=latest.changed_at)
    team_ids = set(batch.values_list("team_id", flat=True))
    return notice_send(
        users=team_people(team_ids),
        kind=NoticeKind.STANDINGS_REVISED,
        event=f"round:{pk}:revised:{latest.pk}",
        subject=f"{round_}: published standings revised",
        body=f"The published standings of {round_} changed: {latest.reason}.",
        link=reverse("round-leaderboard", args=[round_.competition.slug, round_.number]),
    )


def entry_decided_notify(*, pk: int) -> int:
    """Whoever asked for the entry, and the team's owners, learn the decision (and its reason)."""
    entry = Entry.objects.select_related("team", "competition", "requested_by").filter(pk=pk).first()
    if entry is None or entry.status not in (Entry.Status.APPROVED, Entry.Status.DECLINED):
        return 0
    owners = get_user_model().objects.filter(
        Q(memberships__team=entry.team, memberships__role=Membership.Role.OWNER) | Q(pk=entry.requested_by_id)
    )
    verb = "approved" if entry.status == Entry.Status.APPROVED else "declined"
    body = f"{entry.team.name}'s request to take part in {entry.competition.name} was {verb}."
    if entry.status == Entry.Status.APPROVED:
        body += " Enter your bots on each bot's page: only entered bots play."
    elif entry.reason:
        body += f" The organizers' reason: {entry.reason}"
    return notice_send(
        users=owners.distinct(),
        kind=NoticeKind.ENTRY_DECIDED,
        event=f"entry:{pk}:{entry.status}:{entry.decided_at:%Y%m%d%H%M%S%f}",
        subject=f"{entry.team.name} in {entry.competition.name}: request {verb}",
        body=body,
        link=reverse("entry-list"),
    )


def bot_unhealthy_notify(*, pk: int) -> int:
    """Once per outage: a failed check whose previous check (if any) passed starts an outage; the
    checks that fail after it are the same outage and notify nobody."""
    check = BotHealthCheck.objects.select_related("bot__team").filter(pk=pk, ok=False).first()
    if check is None:
        return 0
    previous = BotHealthCheck.objects.filter(bot=check.bot, pk__lt=check.pk).order_by("-pk").first()
    if previous is not None and not previous.ok:
        return 0
    bot = check.bot
    return notice_send(
        users=team_people([bot.team_id]),
        kind=NoticeKind.BOT_UNHEALTHY,
        event=f"bot:{bot.pk}:outage:{check.pk}",
        subject=f"{bot.name} fails its health checks",
        body=f"The health check of {bot.team.name} / {bot.name} failed ({check.error_kind or 'error'}: "
        f"{check.error[:300]}). You will not be told again until it has passed a check.",
        link=reverse("teams:bot-detail", args=[bot.pk]),
    )
