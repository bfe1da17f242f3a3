"""How rounds are made and start: a tournament round started by an organizer (its matches, its
conversations with goals spread over the categories, its benign probes), a team's practice match
started at once, and a round of conversations imported from a dataset, which starts in judging."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from competition.entries.selectors import bots_entered
from competition.models import Match, Round
from competition.pipeline.lifecycle.moves import START_FROM, RoundTransitionError, player_enqueue
from competition.pipeline.probes import round_probes_create
from competition.signals import round_started, signal_on_commit
from conversations import services as conversation_services
from conversations.services import ConversationNew
from teams.models import Bot, Side

logger = logging.getLogger(__name__)

Status = Round.Status


def goals_spread(*, goals: dict, index: int) -> tuple[str, str]:
    """The index-th goal of a rotation that visits every category in turn, then every target within it."""
    categories = sorted(goals)
    category = categories[index % len(categories)]
    targets = goals[category]
    return category, targets[(index // len(categories)) % len(targets)]


@transaction.atomic
def round_start(*, round_id: int) -> Round:
    """Freeze the round's settings and bots, create every Match and Conversation, and start playing.

    Precondition: the round is draft or scheduled and at least one attacker and one defender bot
    are entered in the round's competition (approved entries, active bots: competition/entries).
    Goals rotate over categories and targets per pair, offset by the bots' positions, so each
    attacker and each defender sees the categories in equal shares. Every defender also gets one
    benign probe conversation per benign prompt of the competition (competition/pipeline/probes.py).
    """
    round_ = Round.objects.select_for_update().select_related("competition").get(pk=round_id)
    if round_.is_practice_match:
        raise RoundTransitionError(f"{round_} is a practice match; it started when its team asked for it")
    if round_.status not in START_FROM:
        raise RoundTransitionError(
            f"{round_} is {round_.get_status_display().lower()}; only draft or scheduled rounds start"
        )
    competition_id = round_.competition_id
    attackers = list(bots_entered(competition_id=competition_id, side=Side.ATTACKER))
    defenders = list(bots_entered(competition_id=competition_id, side=Side.DEFENDER))
    if not attackers or not defenders:
        raise RoundTransitionError(
            f"{round_} needs at least one active attacker bot and one active defender bot entered in "
            f"{round_.competition} by an approved entry (found {len(attackers)} and {len(defenders)})"
        )
    settings = round_.live_settings()
    matches = Match.objects.bulk_create(
        Match.frozen(round_=round_, attacker=attacker, defender=defender)
        for attacker in attackers
        for defender in defenders
    )
    position = {bot.pk: i for i, bot in enumerate(attackers)} | {bot.pk: i for i, bot in enumerate(defenders)}
    conversations = []
    for match in matches:
        offset = position[match.attacker_id] + position[match.defender_id]
        for sequence in range(settings["conversations_per_pair"]):
            category, target = goals_spread(goals=settings["goals"], index=offset + sequence * len(defenders))
            conversations.append(
                ConversationNew(match_id=match.pk, sequence=sequence, goal_category=category, goal_target=target)
            )
    conversation_services.conversations_create(conversations=conversations)
    probes = round_probes_create(round_=round_, defenders=defenders, prompts=settings["benign_prompts"])
    round_.frozen_settings = settings
    round_.status = Status.RUNNING
    round_.started_at = timezone.now()
    round_._change_reason = "Round action: started"
    round_.save(update_fields=["frozen_settings", "status", "started_at"])
    logger.info(
        "%s started: %d matches, %d conversations, %d benign probes", round_, len(matches), len(conversations), probes
    )
    player_enqueue()
    signal_on_commit(round_started, round_id=round_.pk)
    return round_


def round_imported_create(*, competition_id: int, name: str, slug: str, pairs: list[tuple[Bot, Bot]]) -> Round:
    """A round for conversations imported from a dataset (Round.imported), with a match per
    (attacker, defender) pair frozen at the bots' current versions. It starts in judging: nothing
    is played, and the competition's judges label the imported replies like any others."""
    numbers = Round.objects.filter(competition_id=competition_id).order_by("-number").values_list("number", flat=True)
    now = timezone.now()
    round_ = Round(
        competition_id=competition_id,
        number=(numbers.first() or 0) + 1,
        name=name,
        slug=slug,
        imported=True,
        status=Status.JUDGING,
        started_at=now,
        playing_finished_at=now,
    )
    round_._change_reason = "Imported from a dataset: judging starts"
    round_.save()
    Match.objects.bulk_create([Match.frozen(round_=round_, attacker=a, defender=d) for a, d in dict.fromkeys(pairs)])
    return round_


def round_practice_start(
    *, competition_id: int, attacker: Bot, defender: Bot, conversations: int, max_turns: int, slug: str, name: str
) -> Round:
    """A practice match's round (Round.kind PRACTICE_MATCH, number 0), started at once: one Match of
    the two bots frozen as they are now, `conversations` conversations of at most `max_turns`
    exchanges each with goals rotated over the competition's categories, and a player asked for.
    No benign probes, no notices, no standings: judging labels it like any round and it stops at
    scored. Call inside a transaction (the caller checks who may ask and the caps)."""
    round_ = Round(competition_id=competition_id, number=0, name=name, slug=slug, kind=Round.Kind.PRACTICE_MATCH)
    round_.max_turns = max_turns
    round_.conversations_per_pair = conversations
    round_.frozen_settings = round_.live_settings() | {"benign_prompts": []}
    round_.status = Status.RUNNING
    round_.started_at = timezone.now()
    round_._change_reason = "Practice match asked for: started"
    round_.save()
    match = Match.frozen(round_=round_, attacker=attacker, defender=defender)
    match.save()
    goals = round_.frozen_settings["goals"]
    new = []
    for sequence in range(conversations):
        category, target = goals_spread(goals=goals, index=sequence)
        new.append(ConversationNew(match_id=match.pk, sequence=sequence, goal_category=category, goal_target=target))
    conversation_services.conversations_create(conversations=new)
    player_enqueue()
    return round_
