"""Writes of practice: start a practice match (every refusal a sentence for the person who asked),
open a bot for practice (an organizer's reference bot, or a team's opt-in), pause practice.

Caps: a team starts at most `PracticePolicy.daily_conversations` practice conversations per UTC day,
each of at most `max_turns` exchanges, so its turns per day are capped too. The count and the new
match are written under a lock on the team's row, so two requests at once cannot both pass the cap.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from competition.entries.selectors import bots_entered
from competition.models import Competition
from competition.pipeline import lifecycle
from competition.practice.models import PracticeMatch, PracticeOpponent, PracticePolicy
from teams.models import Bot, BotHealthCheck, Membership, Side, Team


class PracticeRefused(Exception):
    """A practice request that cannot be granted now; the message says why, for the person who asked."""


def day_start(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: where a team's daily practice count starts."""
    return datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)


def practice_used_today(*, team_id: int, competition_id: int, now: datetime | None = None) -> int:
    """Practice conversations the team started in the competition since midnight UTC."""
    since = day_start(now or timezone.now())
    used = PracticeMatch.objects.filter(team_id=team_id, competition_id=competition_id, created_at__gte=since)
    return used.aggregate(n=Sum("conversations"))["n"] or 0


def _unhealthy(bot: Bot) -> BotHealthCheck | None:
    """The bot's last health check when it failed (a bot never checked is taken as healthy)."""
    last = BotHealthCheck.objects.filter(bot=bot).order_by("-checked_at").first()
    return last if last is not None and not last.ok else None


def _refuse_unhealthy(bot: Bot, whose: str) -> None:
    failed = _unhealthy(bot)
    if failed is not None:
        raise PracticeRefused(
            f"{whose} {bot.name} failed its last health check ({failed.checked_at:%Y-%m-%d %H:%M} UTC, "
            f"{failed.error_kind or 'error'}); practice waits until it passes one"
        )


def practice_match_start(*, user, competition_id: int, bot_id: int, opponent_id: int) -> PracticeMatch:
    """Start a practice match of the user's team's bot against an opponent open for practice.

    Preconditions, each refused with PracticeRefused and its reason: the competition has practice
    open and not paused; `user` owns the bot's team; the bot is active and entered in an approved
    entry of the competition; the opponent is open for practice there (PracticeOpponent), active,
    of the other side and of another team; both bots passed their last health check (or were never
    checked); the team's conversations today plus this match's stay within the daily cap.
    Returns the PracticeMatch, whose round is running with a player asked for.
    """
    competition = Competition.objects.filter(pk=competition_id).first()
    if competition is None:
        raise PracticeRefused("No such competition")
    policy = PracticePolicy.objects.filter(competition=competition).first()
    if policy is None or policy.daily_conversations == 0:
        raise PracticeRefused(f"{competition} has no practice open")
    if policy.paused:
        raise PracticeRefused(f"Practice in {competition} is paused by the organizers")
    bot = Bot.objects.select_related("team").filter(pk=bot_id).first()
    if (
        bot is None
        or not Membership.objects.filter(user=user, team_id=bot.team_id, role=Membership.Role.OWNER).exists()
    ):
        raise PracticeRefused("Only an owner of the bot's team starts its practice matches")
    if not bots_entered(competition_id=competition.pk, side=bot.team.side).filter(pk=bot.pk).exists():
        raise PracticeRefused(f"{bot.name} is not an active bot entered in {competition} by an approved entry")
    opening = (
        PracticeOpponent.objects.select_related("bot__team")
        .filter(competition=competition, bot_id=opponent_id, bot__active=True)
        .first()
    )
    if opening is None:
        raise PracticeRefused(f"That opponent is not open for practice in {competition}")
    opponent = opening.bot
    if opponent.team_id == bot.team_id or opponent.team.side == bot.team.side:
        raise PracticeRefused(f"{bot.name} practices against a bot of the other side, of another team")
    _refuse_unhealthy(bot, "Your bot")
    _refuse_unhealthy(opponent, "The opponent")
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=bot.team_id).first()
        used = practice_used_today(team_id=bot.team_id, competition_id=competition.pk)
        wanted = policy.conversations_per_match
        if used + wanted > policy.daily_conversations:
            raise PracticeRefused(
                f"Daily practice cap reached: {used} of {policy.daily_conversations} practice conversations "
                f"used today in {competition}, this match needs {wanted}; the count starts again at 00:00 UTC"
            )
        attacker, defender = (bot, opponent) if bot.team.side == Side.ATTACKER else (opponent, bot)
        round_ = lifecycle.round_practice_start(
            competition_id=competition.pk,
            attacker=attacker,
            defender=defender,
            conversations=wanted,
            max_turns=policy.max_turns,
            slug=f"practice-{secrets.token_hex(6)}",
            name=f"Practice: {bot.team.name} / {bot.name}",
        )
        return PracticeMatch.objects.create(
            round=round_,
            competition=competition,
            team=bot.team,
            bot=bot,
            opponent=opponent,
            conversations=wanted,
            requested_by=user,
        )


def practice_policy_set(*, competition_id: int, **fields) -> PracticePolicy:
    """The competition's practice policy with `fields` (daily_conversations, conversations_per_match,
    max_turns, paused) set, made when missing."""
    policy, _ = PracticePolicy.objects.get_or_create(competition_id=competition_id)
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    return policy


def practice_pause(*, competition_id: int, paused: bool) -> PracticePolicy:
    """Pause (or resume) practice in the whole competition: no practice match starts while paused;
    matches already running play on."""
    return practice_policy_set(competition_id=competition_id, paused=paused)


def practice_opponents_set(*, competition_id: int, bot_ids: list[int]) -> None:
    """The organizer's reference bots open for practice are exactly `bot_ids` (teams' opt-ins kept)."""
    PracticeOpponent.objects.filter(competition_id=competition_id, reference=True).exclude(bot_id__in=bot_ids).delete()
    for bot_id in bot_ids:
        PracticeOpponent.objects.update_or_create(
            competition_id=competition_id, bot_id=bot_id, defaults={"reference": True}
        )


def practice_opt_in_set(*, user, competition_id: int, bot_id: int, opted_in: bool) -> bool:
    """An owner opens (or closes) their team's entered bot to other teams' practice in the competition.
    Returns whether it is open now; PracticeRefused when `user` owns no team of the bot or the bot is
    not entered. A reference bot stays open whatever its team says."""
    bot = Bot.objects.select_related("team").filter(pk=bot_id).first()
    if (
        bot is None
        or not Membership.objects.filter(user=user, team_id=bot.team_id, role=Membership.Role.OWNER).exists()
    ):
        raise PracticeRefused("Only an owner of the bot's team opens it for practice")
    if not bots_entered(competition_id=competition_id, side=bot.team.side).filter(pk=bot.pk).exists():
        raise PracticeRefused(f"{bot.name} is not an active bot entered in that competition")
    openings = PracticeOpponent.objects.filter(competition_id=competition_id, bot=bot)
    if opted_in:
        openings.get_or_create(competition_id=competition_id, bot=bot)
        return True
    openings.filter(reference=False).delete()
    return openings.exists()
