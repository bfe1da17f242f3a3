"""The outcome and label counts stored on a conversation (Conversation.labels_outcome, read by the team
pages; labels_labelled and labels_confirmed, summed by the round pages) equal the ones computed from its
final labels (scoring's rule) after every kind of label change."""

from __future__ import annotations

import pytest

from competition.models import Match, Round
from conversations.models import Conversation
from conversations.moderation import conversation_moderate
from judging import services, tasks
from judging.judges import RUNNERS
from judging.judges.base import JudgeOutcome, JudgeRunner, Labels
from judging.models import Annotation, FinalLabel, Judge
from judging.selectors import (
    LabelsConfirmed,
    Outcome,
    conversations_labels_counts,
    conversations_with_computed_outcome,
    conversations_with_outcome,
    judgeable_turns,
    outcome_q,
    rounds_labels_confirmed,
)
from judging.services.annotations import HumanLabels, annotation_delete
from tests.cast import conversation_make, defender_turns

pytestmark = pytest.mark.django_db

SAFE = {"malicious_assistance": False, "vulnerable_code": False, "refusal": True}
UNSAFE = {"malicious_assistance": True, "vulnerable_code": False, "refusal": False}


class ConfiguredRunner(JudgeRunner):
    """A judge that says what its config says (config["labels"]) of every reply."""

    kind = "rules"

    def __init__(self, *, config):
        self.labels = Labels(**config["labels"])

    def judge_many(self, items):
        return [JudgeOutcome(turn_id=item.turn_id, labels=self.labels) for item in items]


def outcomes() -> dict[int, tuple[str, str]]:
    """Conversation id -> (stored outcome, computed outcome)."""
    stored = dict(conversations_with_outcome(Conversation.objects.all()).values_list("pk", "outcome"))
    computed = dict(conversations_with_computed_outcome(Conversation.objects.all()).values_list("pk", "outcome"))
    return {pk: (stored[pk], computed[pk]) for pk in stored}


def counts_checked() -> None:
    """Every conversation's stored label counts equal its computed ones, and every round's confirmed
    labels (summed from them) equal a count over its judgeable replies' final labels."""
    stored = {
        pk: (labelled, confirmed)
        for pk, labelled, confirmed in Conversation.objects.values_list("pk", "labels_labelled", "labels_confirmed")
    }
    assert stored == conversations_labels_counts(conversation_ids=stored)
    round_ids = list(Round.objects.values_list("pk", flat=True))
    expected = {}
    for round_id in round_ids:
        labelled = judgeable_turns().filter(conversation__match__round_id=round_id, final_label__isnull=False)
        confirmed = labelled.filter(final_label__source__in=FinalLabel.HUMAN_SOURCES)
        expected[round_id] = LabelsConfirmed(confirmed=confirmed.count(), labelled=labelled.count())
    assert rounds_labels_confirmed(round_ids=round_ids) == expected


def stored_of(conversation) -> str:
    both = outcomes()
    assert all(stored == computed for stored, computed in both.values()), both
    counts_checked()
    return both[conversation.pk][0]


@pytest.fixture
def judged(arena, monkeypatch):
    """Two conversations of rogue vs bastion (malicious_code goal, two replies each), a failed one,
    and a judge that calls every reply safe; nothing judged yet."""
    monkeypatch.setitem(RUNNERS, "rules", ConfiguredRunner)
    first = conversation_make(arena, replies=["No.", "Still no."], sequence=0)
    second = conversation_make(arena, replies=["No."], sequence=1)
    failed = conversation_make(arena, replies=["lost"], sequence=2)
    Conversation.objects.filter(pk=failed.pk).update(status="failed", failure_side="defender", failure_kind="timeout")
    judge = Judge.objects.create(
        competition=arena.competition, name="j", slug="j", kind="rules", config={"labels": SAFE}
    )
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.JUDGING)
    return first, second, failed, judge


def test_it_stores_the_outcome_a_verdict_gives(arena, judged):
    first, second, failed, judge = judged
    assert stored_of(first) == Outcome.UNLABELLED
    services.turn_judge(turn_ids=[turn.pk for turn in defender_turns(first)], judge=judge)
    assert stored_of(first) == Outcome.DEFENDED
    assert stored_of(second) == Outcome.UNLABELLED
    assert stored_of(failed) == Outcome.FAILED


def test_it_stores_the_outcome_a_rejudging_gives(arena, judged, django_capture_on_commit_callbacks):
    first, second, _, judge = judged
    services.turn_judge(turn_ids=[turn.pk for conv in (first, second) for turn in defender_turns(conv)], judge=judge)
    assert stored_of(first) == Outcome.DEFENDED
    Judge.objects.filter(pk=judge.pk).update(version=2, config={"labels": UNSAFE})
    with django_capture_on_commit_callbacks(execute=True):
        tasks.conversations_rejudge_task([first.pk], judge.pk)
    assert stored_of(first) == Outcome.ATTACK_SUCCEEDED
    assert stored_of(second) == Outcome.DEFENDED


def test_it_stores_the_outcome_annotations_and_adjudications_give(arena, judged):
    first, _, _, judge = judged
    services.turn_judge(turn_ids=[turn.pk for turn in defender_turns(first)], judge=judge)
    last = defender_turns(first)[-1]
    # An organizer stores annie's label (as from a campaign's file): she has no assignment here.
    annotation = services.annotation_submit(
        turn=last, annotator=arena.annie, by=arena.olivia, labels=HumanLabels(malicious_assistance=True)
    )
    assert stored_of(first) == Outcome.ATTACK_SUCCEEDED
    annotation_delete(annotations=Annotation.objects.filter(pk=annotation.pk), by=arena.olivia)
    assert stored_of(first) == Outcome.DEFENDED
    services.adjudication_set(turn=last, by=arena.olivia, labels=HumanLabels(**UNSAFE))
    assert stored_of(first) == Outcome.ATTACK_SUCCEEDED
    services.adjudication_set(turn=last, by=arena.olivia, labels=HumanLabels(**SAFE))
    assert stored_of(first) == Outcome.DEFENDED


def test_it_keeps_the_stored_outcome_equal_through_moderation(arena, judged):
    first, second, _, judge = judged
    services.turn_judge(turn_ids=[turn.pk for turn in defender_turns(first)], judge=judge)
    chosen = Conversation.objects.filter(pk__in=[first.pk, second.pk])
    for state, labelled in (("excluded", 0), ("hidden", 2), ("visible", 2)):
        conversation_moderate(conversations=chosen, state=state, reason="checking", by=arena.olivia)
        assert stored_of(first) == Outcome.DEFENDED
        assert stored_of(second) == Outcome.UNLABELLED
        # An excluded conversation's labels leave the round's count, and come back with it.
        assert rounds_labels_confirmed(round_ids=[arena.round.pk])[arena.round.pk].labelled == labelled


def test_it_fills_the_outcome_of_labels_written_in_bulk_when_asked(arena, judged):
    from judging.models import FinalLabel

    first, _, _, _ = judged
    FinalLabel.objects.bulk_create(
        FinalLabel(turn=turn, source="judge_ensemble", **UNSAFE) for turn in defender_turns(first)
    )
    assert outcomes()[first.pk] == (Outcome.UNLABELLED, Outcome.ATTACK_SUCCEEDED)
    assert rounds_labels_confirmed(round_ids=[arena.round.pk])[arena.round.pk].labelled == 0  # not refreshed yet
    assert services.conversations_outcome_refresh(conversation_ids=[first.pk]) == 1
    assert stored_of(first) == Outcome.ATTACK_SUCCEEDED
    assert services.conversations_outcome_refresh(conversation_ids=[first.pk]) == 0


def test_it_filters_on_the_stored_columns_as_on_the_outcome(arena, judged):
    first, _, _, judge = judged
    services.turn_judge(turn_ids=[turn.pk for turn in defender_turns(first)], judge=judge)
    conversation_make(arena, replies=["later"], sequence=3, status=Conversation.Status.RUNNING)
    annotated = conversations_with_outcome(Conversation.objects.all())
    for outcome in Outcome.values:
        expected = set(annotated.filter(outcome=outcome).values_list("pk", flat=True))
        assert set(annotated.filter(outcome_q(outcome)).values_list("pk", flat=True)) == expected, outcome
    assert {outcome for outcome in Outcome.values if annotated.filter(outcome_q(outcome)).exists()} == {
        Outcome.DEFENDED,
        Outcome.UNLABELLED,
        Outcome.FAILED,
        Outcome.NOT_FINISHED,
    }


def test_it_plans_the_team_list_on_its_indexes_on_postgresql(arena, judged):
    """EXPLAIN of the list's query (a team member's conversations by outcome, newest first) on
    PostgreSQL, over 6,000 conversations in 6 matches with the table analysed: the outcome is an index
    condition on conversation_match_outcome, not a filter computed per row."""
    from django.db import connection

    from conversations.selectors import conversations_visible_to
    from tests.cast import match_make

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (DATABASE_URL=postgres://...): the plans checked are PostgreSQL's")
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    pairs = [(attacker, defender) for attacker in (arena.rogue_bot, arena.crimson_bot)
             for defender in (arena.bastion_bot, arena.aegis_bot)]  # fmt: skip
    for attacker, defender in pairs:
        match = Match.objects.filter(attacker=attacker, defender=defender).first() or match_make(
            arena, attacker=attacker, defender=defender
        )
        Conversation.objects.bulk_create(
            Conversation(
                match=match,
                sequence=100 + n,
                goal_category="malicious_code",
                status="completed",
                labels_outcome="attack_succeeded" if n % 20 == 0 else "defended",
            )
            for n in range(1500)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_conversation")
    visible = conversations_with_outcome(conversations_visible_to(user=arena.carl))
    plan = visible.filter(outcome_q(Outcome.ATTACK_SUCCEEDED)).order_by("-created_at", "-pk")[:50].explain()
    assert "Index Scan using conversation_match_outcome" in plan or "conversation_match_outcome" in plan, plan
    assert "Seq Scan on conversations_conversation" not in plan, plan


@pytest.mark.django_db(transaction=True)  # VACUUM cannot run in a transaction
def test_it_sums_a_rounds_confirmed_labels_from_one_index_on_postgresql(arena, judged):
    """EXPLAIN of rounds_labels_confirmed's query on PostgreSQL over 6,000 vacuumed conversations of
    the round (as autovacuum keeps a live table): it reads the index conversation_match_labels alone
    (an index-only scan), never the turns or the final labels (counting those took 2.6 s per page at
    200,000 conversations, bench/pages.py) nor the conversations' rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (DATABASE_URL=postgres://...): the plans checked are PostgreSQL's")
    Conversation.objects.bulk_create(
        Conversation(
            match=judged[0].match,
            sequence=100 + n,
            goal_category="malicious_code",
            status="completed",
            labels_labelled=5,
            labels_confirmed=n % 2,
        )
        for n in range(6000)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE conversations_conversation")
    with CaptureQueriesContext(connection) as queries:
        assert rounds_labels_confirmed(round_ids=[arena.round.pk])[arena.round.pk] == LabelsConfirmed(3000, 30000)
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using conversation_match_labels" in plan, plan
    assert "conversations_turn" not in plan and "judging_finallabel" not in plan, plan
