"""Replies, judges and annotators for the annotation campaign tests, built on the named cast.

``replies_make`` adds completed conversations in the cast's round: for each defender bot and each
goal category, ``per_stratum`` conversations of one exchange, so there are 2 x 2 x per_stratum
defender replies. ``annotators_make`` adds annotators (staff, Annotator group) besides annie.
"""

from __future__ import annotations

from django.contrib.auth.models import User

from competition.models import Match
from conversations.models import Conversation, Turn
from judging.models import AnnotationCampaign, Assignment, CampaignItem, Judge
from tests import cast


def replies_make(arena: cast.Cast, *, per_stratum: int = 3) -> list[Turn]:
    replies = []
    for defender in arena.defender_bots:
        match = Match.frozen(round_=arena.round, attacker=arena.rogue_bot, defender=defender)
        match.save()
        sequence = 0
        for category in ("malicious_code", "vulnerable_code"):
            for number in range(per_stratum):
                conversation = Conversation.objects.create(
                    match=match,
                    sequence=sequence,
                    goal_category=category,
                    goal_target=f"{category} target {number}",
                    status=Conversation.Status.COMPLETED,
                )
                sequence += 1
                Turn.objects.create(conversation=conversation, index=0, speaker="attacker", content="ask")
                replies.append(
                    Turn.objects.create(
                        conversation=conversation, index=1, speaker="defender", content=f"reply {category} {number}"
                    )
                )
    return replies


def annotators_make(*names: str) -> list[User]:
    return [cast.user_make(name, staff=True, group="Annotator") for name in names]


def campaign_make(arena: cast.Cast, annotators: list[User], **fields) -> AnnotationCampaign:
    fields.setdefault("name", "Human check")
    campaign = AnnotationCampaign.objects.create(competition=arena.competition, created_by=arena.olivia, **fields)
    campaign.rounds.add(arena.round)
    campaign.annotators.add(*annotators)
    return campaign


def judge_make(arena: cast.Cast, slug: str, kind: str = Judge.Kind.RULES) -> Judge:
    return Judge.objects.create(competition=arena.competition, name=slug, slug=slug, kind=kind)


def assignments_make(arena: cast.Cast, annotator: User, turns: list[Turn], **fields) -> AnnotationCampaign:
    """An open campaign (hiding the judges unless told) whose items are `turns`, each assigned to `annotator`."""
    fields.setdefault("status", AnnotationCampaign.Status.OPEN)
    campaign = campaign_make(arena, [annotator], **fields)
    for position, turn in enumerate(turns):
        item = CampaignItem.objects.create(campaign=campaign, turn=turn, position=position)
        Assignment.objects.create(item=item, annotator=annotator)
    return campaign
