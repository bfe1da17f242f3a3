"""The re-judging service: what may be re-judged, and the tasks it queues once the transaction commits."""

from __future__ import annotations

import pytest

from competition.models import Competition, Round
from conversations.models import Conversation
from judging import services
from judging.models import Judge
from tests.cast import conversation_make, judge_make
from tests.judging.test_services import RANSOMWARE_REPLY, REFUSAL_REPLY

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(arena):
    first = conversation_make(arena, replies=[REFUSAL_REPLY, RANSOMWARE_REPLY])
    second = conversation_make(arena, replies=[REFUSAL_REPLY], sequence=1, status=Conversation.Status.CANCELLED)
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.SCORED)
    arena.round.refresh_from_db()
    return first, second


def test_it_queues_the_judgeable_rounds_only_after_commit(arena, scored, django_capture_on_commit_callbacks):
    draft = Round.objects.create(competition=arena.competition, number=2, name="Draft", slug="draft")
    judge = judge_make(arena, "rules", "rules")
    with django_capture_on_commit_callbacks() as callbacks:
        done = services.rounds_rejudge(rounds=[arena.round, draft], judge=judge, retry_errors=False)
    assert (done.queued, done.skipped) == ((arena.round,), (draft,))
    assert len(callbacks) == 1


def test_it_queues_nothing_for_a_judge_that_cannot_judge_the_selection(
    arena, scored, django_capture_on_commit_callbacks
):
    inactive = Judge.objects.create(competition=arena.competition, name="Old", slug="old", kind="rules", active=False)
    other = Judge.objects.create(
        competition=Competition.objects.create(name="Other cup", slug="other-cup"), name="E", slug="e", kind="rules"
    )
    with django_capture_on_commit_callbacks() as callbacks:
        for judge in (inactive, other):
            with pytest.raises(services.RejudgeRefused):
                services.rounds_rejudge(rounds=[arena.round], judge=judge, retry_errors=False)
            with pytest.raises(services.RejudgeRefused):
                services.conversations_rejudge(conversation_ids=[scored[0].pk], judge=judge, retry_errors=False)
    assert callbacks == []


def test_it_queues_one_task_for_the_judgeable_conversations_and_counts_the_rest(
    arena, scored, django_capture_on_commit_callbacks
):
    first, cancelled = scored
    with django_capture_on_commit_callbacks() as callbacks:
        done = services.conversations_rejudge(conversation_ids=[first.pk, cancelled.pk], judge=None, retry_errors=True)
    assert (done.queued_ids, done.skipped_count) == ((first.pk,), 1)
    assert len(callbacks) == 1


def test_it_queues_nothing_when_no_conversation_is_judgeable(arena, scored, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        done = services.conversations_rejudge(conversation_ids=[scored[1].pk], judge=None, retry_errors=False)
    assert (done.queued_ids, done.skipped_count) == ((), 1)
    assert callbacks == []
