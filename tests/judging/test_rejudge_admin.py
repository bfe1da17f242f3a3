"""Judging again from the admin: the re-judge actions on rounds and conversations, and final labels
that follow the human labels saved or deleted in the admin."""

from dataclasses import dataclass

import pytest
from django.urls import reverse

from competition.models import Competition, Round
from conversations.models import Conversation, Turn
from judging import services
from judging.judges.base import JudgeOutcome
from judging.models import Annotation, FinalLabel, Judge, Verdict
from tests.cast import conversation_make, judge_make
from tests.judging.annotation.campaign_cast import assignments_make
from tests.judging.test_admin import annotation_form
from tests.judging.test_services import RANSOMWARE_REPLY, REFUSAL_REPLY
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db

# Judging's own admins (proxies of Round and Conversation) carry the re-judge actions.
ROUNDS = reverse("admin:judging_judgedround_changelist")
CONVERSATIONS = reverse("admin:judging_judgedconversation_changelist")


@dataclass
class Judged:
    judge: Judge
    first: Conversation
    second: Conversation
    replies: list[Turn]


@pytest.fixture
def judged(arena) -> Judged:
    """A scored round: two conversations (three replies) judged by the rules judge at version 1."""
    first = conversation_make(arena, replies=[REFUSAL_REPLY, RANSOMWARE_REPLY])
    second = conversation_make(arena, replies=[REFUSAL_REPLY], sequence=1)
    judge = judge_make(arena, "rules", "rules")
    replies = list(Turn.objects.filter(speaker="defender").order_by("pk"))
    assert services.turn_judge(turn_ids=[reply.pk for reply in replies], judge=judge) == 3
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.SCORED)
    return Judged(judge=judge, first=first, second=second, replies=replies)


def version_raise(judge: Judge, version: int = 2) -> None:
    Judge.objects.filter(pk=judge.pk).update(version=version)


def verdict_versions(judge: Judge) -> list[tuple[int, int]]:
    return sorted(Verdict.objects.filter(judge=judge).values_list("turn_id", "judge_version"))


def act(client, user, url: str, action: str, objects, **form):
    client.force_login(user)
    return client.post(url, {"action": action, "_selected_action": [obj.pk for obj in objects], **form})


def apply(judge: Judge | None, *, retry_errors: bool = False) -> dict:
    form = {"apply": "yes", "judge": str(judge.pk) if judge is not None else "every-active"}
    return form | ({"retry_errors": "on"} if retry_errors else {})


# --- rounds ----------------------------------------------------------------------------------------


def test_it_asks_which_judge_before_queueing_anything(client, arena, judged, django_capture_on_commit_callbacks):
    inactive = Judge.objects.create(competition=arena.competition, name="Old LLM", slug="old", kind="llm", active=False)
    other = Competition.objects.create(name="Other cup", slug="other-cup")
    Judge.objects.create(competition=other, name="Elsewhere", slug="elsewhere", kind="rules")
    with django_capture_on_commit_callbacks() as callbacks:
        response = act(client, arena.olivia, ROUNDS, "rejudge_rounds", [arena.round])
    assert response.status_code == 200
    assert callbacks == []
    page = response.content.decode()
    assert "Re-judge 1 round" in page and "round(s)" not in page
    assert str(arena.round) in page
    choices = dict(response.context["form"].fields["judge"].choices)
    assert choices == {
        "every-active": "Every active judge of the competition",
        str(inactive.pk): "Old LLM v1: LLM (OpenAI-compatible), Trusted AI 2026 (inactive)",
        str(judged.judge.pk): "rules v1: Rules, Trusted AI 2026",
    }
    assert "raise its <em>version</em>" in page
    assert "never deletes or overwrites a verdict" in page
    assert 'name="retry_errors"' in page


def test_it_rejudges_a_round_at_a_raised_version_and_keeps_the_old_verdicts(
    client, arena, judged, django_capture_on_commit_callbacks
):
    version_raise(judged.judge)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(client, arena.olivia, ROUNDS, "rejudge_rounds", [arena.round], **apply(judged.judge))
    assert response.status_code == 302
    reply_ids = [reply.pk for reply in judged.replies]
    assert verdict_versions(judged.judge) == sorted([(pk, 1) for pk in reply_ids] + [(pk, 2) for pk in reply_ids])
    ransomware = Verdict.objects.get(turn=judged.replies[1], judge=judged.judge, judge_version=2)
    assert ransomware.malicious_assistance is True
    messages = [str(message) for message in client.get(ROUNDS).context["messages"]]
    assert any("Judging queued for 1 round with rules v2" in message for message in messages)


def test_it_judges_with_every_active_judge_and_leaves_inactive_ones(
    client, arena, judged, django_capture_on_commit_callbacks
):
    second = judge_make(arena, "rules", "rules-b")
    idle = Judge.objects.create(competition=arena.competition, name="Idle", slug="idle", kind="rules", active=False)
    with django_capture_on_commit_callbacks(execute=True):
        act(client, arena.olivia, ROUNDS, "rejudge_rounds", [arena.round], **apply(None))
    assert Verdict.objects.filter(judge=second).count() == 3
    assert not Verdict.objects.filter(judge=idle).exists()
    # The first judge had judged everything at its version: nothing new, nothing replaced.
    assert verdict_versions(judged.judge) == sorted((reply.pk, 1) for reply in judged.replies)


def test_it_refuses_an_inactive_judge_and_a_judge_of_another_competition(
    client, arena, judged, django_capture_on_commit_callbacks
):
    idle = Judge.objects.create(competition=arena.competition, name="Idle", slug="idle", kind="rules", active=False)
    with django_capture_on_commit_callbacks() as callbacks:
        response = act(client, arena.olivia, ROUNDS, "rejudge_rounds", [arena.round], **apply(idle))
    assert response.status_code == 200
    assert "is inactive" in response.content.decode()
    assert callbacks == []

    other = Competition.objects.create(name="Other cup", slug="other-cup")
    other_round = Round.objects.create(competition=other, number=1, name="Cup 1", slug="cup-1", status="scored")
    with django_capture_on_commit_callbacks() as callbacks:
        response = act(
            client, arena.olivia, ROUNDS, "rejudge_rounds", [arena.round, other_round], **apply(judged.judge)
        )
    assert response.status_code == 200
    assert "judges only Trusted AI 2026" in response.content.decode()
    assert callbacks == []


def test_it_skips_rounds_that_are_not_judged_in_their_state(client, arena, judged, django_capture_on_commit_callbacks):
    draft = Round.objects.create(competition=arena.competition, number=2, name="Tournament 2", slug="tournament-2")
    page = act(client, arena.olivia, ROUNDS, "rejudge_rounds", [arena.round, draft]).content.decode()
    assert "skipped: not judged in this state" in page
    version_raise(judged.judge)
    with django_capture_on_commit_callbacks() as callbacks:
        act(client, arena.olivia, ROUNDS, "rejudge_rounds", [arena.round, draft], **apply(judged.judge))
    assert len(callbacks) == 1
    # The round's task queues its batches on commit too: run it, and them.
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    messages = [str(message) for message in client.get(ROUNDS).context["messages"]]
    assert any("Not queued" in message and "Tournament 2 (Draft)" in message for message in messages)
    assert Verdict.objects.filter(judge=judged.judge, judge_version=2).count() == 3


def test_it_retries_errored_verdicts_only_when_asked(client, arena, judged, django_capture_on_commit_callbacks):
    llm = judge_make(arena, "rules", "flaky")
    failed = services.verdict_record(
        turn=judged.replies[0], judge=llm, outcome=JudgeOutcome.failed(turn_id=judged.replies[0].pk, error="timeout")
    )
    with django_capture_on_commit_callbacks(execute=True):
        act(client, arena.olivia, ROUNDS, "rejudge_rounds", [arena.round], **apply(llm))
    failed.refresh_from_db()
    assert failed.error == "timeout"
    assert Verdict.objects.filter(judge=llm).count() == 3

    with django_capture_on_commit_callbacks(execute=True):
        act(client, arena.olivia, ROUNDS, "rejudge_rounds", [arena.round], **apply(llm, retry_errors=True))
    failed.refresh_from_db()
    assert failed.error == ""
    assert failed.refusal is True


# --- conversations ---------------------------------------------------------------------------------


def test_it_rejudges_only_the_selected_conversations(client, arena, judged, django_capture_on_commit_callbacks):
    version_raise(judged.judge)
    page = act(client, arena.olivia, CONVERSATIONS, "rejudge_conversations", [judged.first]).content.decode()
    assert "Re-judge 1 conversation" in page
    assert str(judged.first) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = act(
            client, arena.olivia, CONVERSATIONS, "rejudge_conversations", [judged.first], **apply(judged.judge)
        )
    assert response.status_code == 302
    new = set(Verdict.objects.filter(judge=judged.judge, judge_version=2).values_list("turn__conversation", flat=True))
    assert new == {judged.first.pk}
    assert Verdict.objects.filter(judge=judged.judge, judge_version=1).count() == 3


def test_it_names_the_conversations_it_cannot_judge(client, arena, judged, django_capture_on_commit_callbacks):
    Conversation.objects.filter(pk=judged.second.pk).update(moderation=Conversation.Moderation.EXCLUDED)
    page = act(
        client, arena.olivia, CONVERSATIONS, "rejudge_conversations", [judged.first, judged.second]
    ).content.decode()
    assert "skipped: excluded by a moderator" in page
    version_raise(judged.judge)
    with django_capture_on_commit_callbacks(execute=True):
        act(
            client,
            arena.olivia,
            CONVERSATIONS,
            "rejudge_conversations",
            [judged.first, judged.second],
            **apply(None),
        )
    assert not Verdict.objects.filter(turn__conversation=judged.second, judge_version=2).exists()
    assert Verdict.objects.filter(turn__conversation=judged.first, judge_version=2).count() == 2
    messages = [str(message) for message in client.get(CONVERSATIONS).context["messages"]]
    assert any("Not queued: 1 conversation that" in message for message in messages)


# --- who may --------------------------------------------------------------------------------------


def test_it_refuses_the_rejudge_actions_to_the_annotator(client, arena, judged, django_capture_on_commit_callbacks):
    version_raise(judged.judge)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rounds = act(client, arena.annie, ROUNDS, "rejudge_rounds", [arena.round], **apply(judged.judge))
        conversations = act(
            client, arena.annie, CONVERSATIONS, "rejudge_conversations", [judged.first], **apply(judged.judge)
        )
    assert rounds.status_code == 403
    # The action is not offered to her: the changelist is shown again instead of the judge's choice.
    assert "admin/judging/rejudge.html" not in [template.name for template in conversations.templates]
    assert callbacks == []
    assert not Verdict.objects.filter(judge_version=2).exists()
    assert "rejudge_conversations" not in client.get(CONVERSATIONS).content.decode()
    client.force_login(arena.olivia)
    assert "rejudge_conversations" in client.get(CONVERSATIONS).content.decode()
    assert "rejudge_rounds" in client.get(ROUNDS).content.decode()


# --- final labels follow human labels saved in the admin --------------------------------------------


def test_it_recomputes_the_final_label_when_an_annotator_saves_her_annotation(
    client, arena, labelled, django_capture_on_commit_callbacks
):
    assignments_make(arena, arena.annie, [labelled.reply])  # an annotator labels what is assigned to her
    client.force_login(arena.annie)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            admin_url(labelled.annotation, "change"),
            annotation_form(labelled.reply, vulnerable_code="false", refusal="false"),
        )
    assert response.status_code == 302
    label = FinalLabel.objects.get(turn=labelled.reply)
    assert label.source == FinalLabel.Source.HUMAN_MAJORITY
    assert label.vulnerable_code is False
    assert label.detail["vulnerable_code"]["rows"] == [
        {"kind": "annotation", "id": labelled.annotation.pk, "annotator": arena.annie.pk}
    ]


def test_it_recomputes_the_final_label_when_an_organizer_adjudicates_and_deletes(
    client, arena, labelled, django_capture_on_commit_callbacks
):
    client.force_login(arena.olivia)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            admin_url(Annotation, "add"),
            annotation_form(labelled.reply, refusal="true", vulnerable_code="false") | {"adjudication": "on"},
        )
    adjudication = Annotation.objects.get(turn=labelled.reply, adjudication=True)
    label = FinalLabel.objects.get(turn=labelled.reply)
    assert (label.source, label.refusal, label.vulnerable_code) == ("adjudication", True, False)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(admin_url(adjudication, "delete"), {"post": "yes"})
    label.refresh_from_db()
    assert label.source == FinalLabel.Source.HUMAN_MAJORITY
    assert label.vulnerable_code is True

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            admin_url(Annotation, "changelist"),
            {"action": "delete_selected", "_selected_action": [labelled.annotation.pk], "post": "yes"},
        )
    label.refresh_from_db()
    assert not Annotation.objects.filter(turn=labelled.reply).exists()
    assert label.source == FinalLabel.Source.JUDGE_ENSEMBLE
    assert label.vulnerable_code is True


def test_it_recomputes_the_final_label_inside_the_saves_transaction(client, arena, labelled):
    # One write path (judging.services.annotations.annotation_save): the recompute runs before the
    # save commits, so one that fails stores nothing (tests/judging/test_annotations.py); no callback
    # runs here (the test's transaction never commits) and the label is fresh already.
    assignments_make(arena, arena.annie, [labelled.reply])
    client.force_login(arena.annie)
    client.post(admin_url(labelled.annotation, "change"), annotation_form(labelled.reply, vulnerable_code="false"))
    assert FinalLabel.objects.get(turn=labelled.reply).source == FinalLabel.Source.HUMAN_MAJORITY
