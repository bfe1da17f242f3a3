"""Judging's own admin pages on its proxy models: transcripts and rounds to judge."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from competition.models import Round
from conversations.models import Conversation
from judging.models import JudgedConversation, JudgedRound
from judging.reading.admin import RoundToJudgeAdmin, TranscriptAdmin
from tests import cast

pytestmark = pytest.mark.django_db

TRANSCRIPTS = reverse("admin:judging_judgedconversation_changelist")
ROUNDS_TO_JUDGE = reverse("admin:judging_judgedround_changelist")


def test_it_registers_the_transcripts_and_rounds_to_judge_on_judgings_own_proxies():
    assert isinstance(admin.site._registry[JudgedConversation], TranscriptAdmin)
    assert isinstance(admin.site._registry[JudgedRound], RoundToJudgeAdmin)
    assert JudgedConversation._meta.proxy and JudgedConversation._meta.concrete_model is Conversation
    assert JudgedRound._meta.proxy and JudgedRound._meta.concrete_model is Round
    # The apps below judging no longer carry its actions.
    assert "rejudge_conversations" not in admin.site._registry[Conversation].actions
    assert "rejudge_rounds" not in admin.site._registry[Round].actions


def test_it_shows_the_transcripts_and_the_rejudge_action_to_the_organizer(client, arena, labelled):
    client.force_login(arena.olivia)
    page = client.get(TRANSCRIPTS).content.decode()
    assert reverse("admin:judging_judgedconversation_transcript", args=[labelled.conversation.pk]) in page
    assert "rejudge_conversations" in page
    assert "rejudge_rounds" in client.get(ROUNDS_TO_JUDGE).content.decode()


def test_it_lets_a_reader_read_transcripts_but_not_rejudge_and_an_annotator_neither(client, arena, labelled):
    client.force_login(cast.reader_make("rita", "conversations.view_conversation"))
    response = client.get(TRANSCRIPTS)
    assert response.status_code == 200
    assert "rejudge_conversations" not in response.content.decode()
    assert client.get(ROUNDS_TO_JUDGE).status_code == 403
    client.force_login(arena.annie)  # blind: the transcripts name the bots
    assert client.get(TRANSCRIPTS).status_code == 403


def test_it_refuses_the_transcripts_to_staff_without_view_permission_on_conversations(client, arena, labelled):
    client.force_login(cast.user_make("clerk", staff=True))
    assert client.get(TRANSCRIPTS).status_code == 403
    assert client.get(ROUNDS_TO_JUDGE).status_code == 403


def test_it_opens_the_transcript_for_a_transcripts_change_page_and_edits_nothing(client, arena, labelled):
    client.force_login(arena.olivia)
    change = reverse("admin:judging_judgedconversation_change", args=[labelled.conversation.pk])
    transcript = reverse("admin:judging_judgedconversation_transcript", args=[labelled.conversation.pk])
    assert client.get(change)["Location"] == transcript
    response = client.post(change, {"moderation": "excluded", "moderation_reason": "via the proxy"})
    assert response.status_code == 302
    labelled.conversation.refresh_from_db()
    assert labelled.conversation.moderation == Conversation.Moderation.VISIBLE


def test_it_sends_a_round_to_judge_to_the_rounds_own_page(client, arena):
    client.force_login(arena.olivia)
    response = client.get(reverse("admin:judging_judgedround_change", args=[arena.round.pk]))
    assert response["Location"] == reverse("admin:competition_round_change", args=[arena.round.pk])


def failed(labelled, round_status: str) -> Conversation:
    conversation = labelled.conversation
    Conversation.objects.filter(pk=conversation.pk).update(
        status="failed", failure_side="defender", failure_kind="http_status", failure_detail="answered HTTP 401"
    )
    Round.objects.filter(pk=conversation.match.round_id).update(status=round_status)
    return conversation


def test_it_reruns_a_failed_conversation_from_its_transcript(client, arena, labelled):
    conversation = failed(labelled, "judging")
    transcript = reverse("admin:judging_judgedconversation_transcript", args=[conversation.pk])
    rerun = reverse("admin:judging_judgedconversation_rerun", args=[conversation.pk])
    client.force_login(arena.olivia)
    page = client.get(transcript).content.decode()
    assert rerun in page and "Re-run this conversation" in page

    response = client.post(rerun)

    assert response["Location"] == transcript
    conversation.refresh_from_db()
    assert conversation.status == "pending"
    assert Round.objects.get(pk=conversation.match.round_id).status == "running"
    assert "Re-run this conversation" not in client.get(transcript).content.decode()


def test_it_offers_no_rerun_on_a_published_rounds_transcript_and_says_what_can_be_done(client, arena, labelled):
    conversation = failed(labelled, "published")
    client.force_login(arena.olivia)
    page = client.get(reverse("admin:judging_judgedconversation_transcript", args=[conversation.pk])).content.decode()
    assert "Re-run this conversation" not in page
    assert "its conversations are not played again" in page


def test_it_refuses_a_rerun_from_the_transcript_to_the_annotator(client, arena, labelled):
    conversation = failed(labelled, "judging")
    client.force_login(arena.annie)
    assert client.post(reverse("admin:judging_judgedconversation_rerun", args=[conversation.pk])).status_code == 403
    conversation.refresh_from_db()
    assert conversation.status == "failed"
