"""The teams' conversation pages: their bots' conversations in published rounds, and each one's
transcript with the final labels, the judges' rationales and the findings at their lines.

What a team reads is what the API gives it (judging/reading/api.py): its own side by name, the opponent by
a stable pseudonym, no human annotation, no moderator's note, no failure detail of the opponent's.
"""

from __future__ import annotations

import dataclasses
import re

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from conversations.models import Conversation
from conversations.selectors import conversations_visible_to
from judging.reading.readers import ConversationReader
from judging.reading.transcript import Transcript, conversation_transcript
from judging.selectors import Outcome, conversations_with_outcome, outcome_q, rounds_labels_confirmed

PAGE_SIZE = 50
# A round id as the filter takes it: ASCII digits, at most 18 (an id past 64 bits overflows SQLite).
ROUND_ID = re.compile(r"[0-9]{1,18}")


def _team_transcript(transcript: Transcript, conversation: Conversation, viewer: ConversationReader) -> Transcript:
    """The transcript as a team may read it: opponent renamed, moderators' notes and the opponent's
    failure details (they can name its address) removed."""
    if viewer.organizer:
        return transcript
    turns = tuple(
        turn if viewer.may_see_details_of(conversation, turn.speaker) else dataclasses.replace(turn, error_detail="")
        for turn in transcript.turns
    )
    return dataclasses.replace(
        transcript,
        attacker=viewer.bot_label(conversation, "attacker"),
        defender=viewer.bot_label(conversation, "defender"),
        failure_detail=transcript.failure_detail
        if viewer.may_see_details_of(conversation, conversation.failure_side)
        else "",
        failure_history=(),
        moderation_reason="",
        moderated_by="",
        turns=turns,
    )


def _visible(request: HttpRequest):
    return conversations_with_outcome(conversations_visible_to(user=request.user, match_ids_first=True)).select_related(
        "match__round__competition", "match__attacker__team", "match__defender__team"
    )


@login_required
@require_GET
def team_conversation_list(request: HttpRequest) -> HttpResponse:
    """Your teams' conversations in published rounds, newest first, filterable by round, outcome, category."""
    conversations = _visible(request)
    # The filters' rounds and categories from one pass over the team's conversations (one query, not
    # one each: each is a scan of every visible conversation, tens of ms at 200,000 on PostgreSQL).
    present = list(
        conversations.order_by()
        .values_list("match__round_id", "match__round__competition__name", "match__round__name", "goal_category")
        .distinct()
    )
    rounds = sorted({row[:3] for row in present})
    categories = {row[3] for row in present}
    chosen = {key: request.GET.get(key, "") for key in ("round", "outcome", "category")}
    if ROUND_ID.fullmatch(chosen["round"]):  # isdigit() takes "²" and ids past 64 bits
        conversations = conversations.filter(match__round_id=int(chosen["round"]))
    if chosen["outcome"] in Outcome.values:
        conversations = conversations.filter(outcome_q(chosen["outcome"]))
    if chosen["category"] and "\x00" not in chosen["category"]:  # PostgreSQL refuses NUL even in a filter
        conversations = conversations.filter(goal_category=chosen["category"])
    ordered = conversations.order_by("-created_at", "-pk")
    # The page's ids first, then its rows: sorting the ids alone is cheap, where sorting whole rows
    # (with their matches' snapshots) took most of a second for a team of 40,000 conversations.
    page = Paginator(ordered.values_list("pk", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    by_id = ordered.in_bulk(list(page.object_list))
    page.object_list = [by_id[pk] for pk in page.object_list if pk in by_id]
    viewer = ConversationReader(request.user)
    rows = [
        {
            "conversation": conversation,
            "short_id": conversation.uuid.hex[:8],
            "attacker": viewer.bot_label(conversation, "attacker"),
            "defender": viewer.bot_label(conversation, "defender"),
            "own_side": viewer.own_side(conversation),
            "outcome": Outcome(conversation.outcome),
        }
        for conversation in page
    ]
    query = "&".join(f"{key}={value}" for key, value in chosen.items() if value)
    confirmed = rounds_labels_confirmed(round_ids=[round_id for round_id, _, _ in rounds])
    return render(
        request,
        "judging/team_conversation_list.html",
        {
            "rows": rows,
            "page": page,
            "rounds": rounds,
            # (competition, round, how many of its final labels a person confirmed): docs/scoring.md.
            "labels_confirmed": [(competition, name, confirmed[round_id]) for round_id, competition, name in rounds],
            "categories": sorted(categories),
            "outcomes": Outcome.choices,
            "chosen": chosen,
            "query": query,
        },
    )


@login_required
@require_GET
def team_conversation_detail(request: HttpRequest, uuid) -> HttpResponse:
    """One conversation's transcript with its labels; another team's conversation is a 404."""
    conversation = get_object_or_404(_visible(request), uuid=uuid)
    viewer = ConversationReader(request.user)
    transcript = conversation_transcript(conversation_id=conversation.pk, include_human_labels=False, for_team=True)
    return render(
        request,
        "judging/team_conversation.html",
        {
            "conversation": conversation,
            "transcript": _team_transcript(transcript, conversation, viewer),
            "outcome": Outcome(conversation.outcome),
            "own_side": viewer.own_side(conversation),
        },
    )
