"""Reads of practice for the site and the API: the practice matches a person may read (their teams'
only; organizers every one), each with its conversations' outcomes from the final labels, and what
practice an owner may start now.

These read judging's labels, so they sit in the acting layer (docs/architecture.md).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import QuerySet

from competition.entries.selectors import bots_entered
from competition.models import Competition
from competition.practice.models import PracticeMatch, PracticeOpponent, PracticePolicy
from competition.practice.services import practice_used_today
from conversations.models import Conversation
from judging.selectors import Outcome, conversations_with_outcome
from teams.models import Bot, Membership, Side


def practice_matches_visible_to(*, user) -> QuerySet[PracticeMatch]:
    """The practice matches `user` may read: of the teams they belong to (any role); organizers
    (view permission on practice matches) read every one; anonymous users none. Newest first."""
    matches = PracticeMatch.objects.select_related("round", "competition", "team", "bot", "opponent__team")
    if not user.is_authenticated:
        return matches.none()
    if user.has_perm("competition.view_practicematch"):
        return matches
    return matches.filter(team__memberships__user=user).distinct()


@dataclass
class PracticeResult:
    """A practice match as its team reads it: each conversation with its outcome, and which of them
    went against the team's bot (an attack that succeeded on its defender; a defended attack of its
    attacker)."""

    match: PracticeMatch
    conversations: list[Conversation]
    outcomes: Counter = field(default_factory=Counter)
    beaten_by: list[Conversation] = field(default_factory=list)


def practice_result(*, match: PracticeMatch) -> PracticeResult:
    conversations = list(
        conversations_with_outcome(Conversation.objects.filter(match__round_id=match.round_id)).order_by("sequence")
    )
    for conversation in conversations:
        conversation.outcome_label = Outcome(conversation.outcome).label
    lost = Outcome.ATTACK_SUCCEEDED if match.team.side == Side.DEFENDER else Outcome.DEFENDED
    return PracticeResult(
        match=match,
        conversations=conversations,
        outcomes=Counter(conversation.outcome for conversation in conversations),
        beaten_by=[conversation for conversation in conversations if conversation.outcome == lost],
    )


@dataclass
class PracticeOffer:
    """What an owner's team may practise in one competition now."""

    competition: Competition
    policy: PracticePolicy
    team_id: int
    bots: list[Bot]
    opponents: list[Bot]
    used_today: int


def practice_offers(*, user) -> list[PracticeOffer]:
    """Per competition with practice set up and per team `user` owns with entered bots there: its
    bots, the opponents of the other side open for practice, and the team's conversations used
    today. A paused or closed competition is listed too (the page says why nothing starts)."""
    if not user.is_authenticated:
        return []
    offers = []
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).select_related("team")
    for policy in PracticePolicy.objects.select_related("competition").order_by("competition__name"):
        for membership in owned:
            team = membership.team
            bots = list(bots_entered(competition_id=policy.competition_id, side=team.side).filter(team=team))
            if not bots:
                continue
            opponents = [
                opening.bot
                for opening in PracticeOpponent.objects.filter(competition_id=policy.competition_id, bot__active=True)
                .exclude(bot__team=team)
                .exclude(bot__team__side=team.side)
                .select_related("bot__team")
            ]
            offers.append(
                PracticeOffer(
                    competition=policy.competition,
                    policy=policy,
                    team_id=team.pk,
                    bots=bots,
                    opponents=opponents,
                    used_today=practice_used_today(team_id=team.pk, competition_id=policy.competition_id),
                )
            )
    return offers


@dataclass(frozen=True)
class PracticeOpening:
    """Whether a bot is open to other teams' practice in one competition that has practice set up
    and where the bot is entered (docs/practice.md)."""

    competition: Competition
    policy: PracticePolicy
    open: bool
    reference: bool  # named by the organizers: open whatever its team says


def practice_openings_of_bot(*, bot: Bot) -> list[PracticeOpening]:
    """Per competition with a practice policy in which `bot` is an active bot of an approved entry,
    whether it is open for other teams' practice there; by competition name."""
    openings = {opening.competition_id: opening for opening in PracticeOpponent.objects.filter(bot=bot).order_by()}
    rows = []
    for policy in PracticePolicy.objects.select_related("competition").order_by("competition__name"):
        if not bots_entered(competition_id=policy.competition_id, side=bot.team.side).filter(pk=bot.pk).exists():
            continue
        opening = openings.get(policy.competition_id)
        rows.append(
            PracticeOpening(
                competition=policy.competition,
                policy=policy,
                open=opening is not None,
                reference=opening is not None and opening.reference,
            )
        )
    return rows
