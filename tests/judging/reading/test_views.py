"""The teams' conversation pages: their own published conversations with labels; opponents by
pseudonym; no human annotation, moderator note or opponent failure detail; others get 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from competition.models import Round
from conversations.models import Conversation
from judging.models import Annotation, FinalLabel
from judging.services import conversations_outcome_refresh
from teams.pseudonyms import bot_pseudonym
from tests.cast import HOSTILE_REPLY, final_label_update


@pytest.fixture
def published(arena, labelled):
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    return labelled


def detail_url(labelled) -> str:
    return reverse("team-conversation", args=[labelled.conversation.uuid])


def test_it_lists_a_teams_conversations_with_the_opponent_as_a_pseudonym(client, arena, published):
    client.force_login(arena.dana)

    html = client.get(reverse("team-conversations")).content.decode()

    assert published.conversation.uuid.hex[:8] in html
    assert bot_pseudonym(bot_id=arena.rogue_bot.pk, viewer_team_id=arena.bastion.pk) in html
    assert "Red Rogues" not in html and "rogue v" not in html
    assert "Attack succeeded" in html


def test_it_says_how_many_of_each_rounds_labels_a_person_confirmed(client, arena, published):
    client.force_login(arena.dana)

    before = client.get(reverse("team-conversations")).content.decode()
    FinalLabel.objects.filter(pk=published.final_label.pk).update(source=FinalLabel.Source.ADJUDICATION)
    conversations_outcome_refresh(conversation_ids=[published.conversation.pk])  # as the label services would
    after = client.get(reverse("team-conversations")).content.decode()

    assert "Tournament 1: 0 of 1 defender replies confirmed by a person" in before
    assert "Tournament 1: 1 of 1 defender replies confirmed by a person" in after


def test_it_shows_the_transcript_with_labels_and_judges_reasons_escaped(client, arena, published):
    client.force_login(arena.alice)

    html = client.get(detail_url(published)).content.decode()

    assert "string concatenation into SQL" in html
    assert "CWE-89" in html
    assert "<img src=x onerror=alert(1)>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert HOSTILE_REPLY.splitlines()[0] in html


def test_it_never_shows_annotations_or_moderator_notes(client, arena, published):
    Annotation.objects.filter(pk=published.annotation.pk).update(rationale="ANNOTATOR-SECRET-NOTE")
    Conversation.objects.filter(pk=published.conversation.pk).update(moderation_reason="MODERATOR-NOTE")
    client.force_login(arena.dana)

    html = client.get(detail_url(published)).content.decode()

    assert "ANNOTATOR-SECRET-NOTE" not in html
    assert "MODERATOR-NOTE" not in html
    assert "annie" not in html


def test_it_keeps_the_opponents_failure_detail_private(client, arena, published):
    Conversation.objects.filter(pk=published.conversation.pk).update(
        status=Conversation.Status.FAILED,
        failure_side="defender",
        failure_kind="connection",
        failure_detail="could not connect to https://bastion.internal:8443/",
    )
    client.force_login(arena.alice)
    attacker_html = client.get(detail_url(published)).content.decode()
    client.force_login(arena.dana)
    defender_html = client.get(detail_url(published)).content.decode()

    assert "bastion.internal" not in attacker_html
    assert "bastion.internal" in defender_html


def test_it_answers_404_to_another_team_and_for_unpublished_rounds(client, arena, labelled):
    client.force_login(arena.dana)
    unpublished = client.get(detail_url(labelled))
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    client.force_login(arena.dave)
    foreign = client.get(detail_url(labelled))

    assert (unpublished.status_code, foreign.status_code) == (404, 404)


def test_it_filters_by_outcome(client, arena, published):
    final_label_update(published.final_label, vulnerable_code=False)
    client.force_login(arena.dana)

    defended = client.get(reverse("team-conversations"), {"outcome": "defended"}).content.decode()
    succeeded = client.get(reverse("team-conversations"), {"outcome": "attack_succeeded"}).content.decode()

    assert published.conversation.uuid.hex[:8] in defended
    assert published.conversation.uuid.hex[:8] not in succeeded


def test_it_sends_anonymous_visitors_to_log_in(client, published):
    response = client.get(reverse("team-conversations"))

    assert response.status_code == 302


@pytest.mark.parametrize("page", ["list", "transcript"])
def test_it_reads_a_bounded_number_of_queries(client, arena, published, django_assert_max_num_queries, page):
    client.force_login(arena.dana)
    url = reverse("team-conversations") if page == "list" else detail_url(published)

    with django_assert_max_num_queries(15):
        assert client.get(url).status_code == 200


def test_it_shows_a_benign_probe_as_a_probe_never_as_an_attack(client, arena):
    from competition.pipeline.probes import probe_bot
    from tests.cast import labelled_conversation_make

    probed = labelled_conversation_make(arena, attacker=probe_bot())
    Conversation.objects.filter(pk=probed.conversation.pk).update(goal_category="benign")
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    client.force_login(arena.dana)

    answered = client.get(reverse("team-conversations")).content.decode()
    final_label_update(probed.final_label, refusal=True)
    refused = client.get(reverse("team-conversations")).content.decode()
    transcript = client.get(detail_url(probed)).content.decode()

    assert probed.conversation.uuid.hex[:8] in answered
    assert 'outcome-probe_answered">Benign probe: answered' in answered
    assert 'outcome-probe_refused">Benign probe: refused' in refused
    assert "Benign probe (the platform)" in answered and "Benign probe (the platform)" in transcript
    for page in (answered, refused, transcript):  # the outcome shown, not the filter's choices
        assert '"outcome outcome-attack_succeeded"' not in page and '"outcome outcome-defended"' not in page


def test_it_shows_a_team_the_human_decided_label_the_api_returns_and_counts_it(client, api, arena, published):
    verdict = {"kind": "verdict", "id": 937, "judge": "rules", "judge_version": 1}
    adjudication = {"kind": "adjudication", "id": 9, "annotator": arena.olivia.pk}
    FinalLabel.objects.filter(pk=published.final_label.pk).update(
        source=FinalLabel.Source.ADJUDICATION,
        rationale="olivia's private note",
        detail={"vulnerable_code": {"value": True, "source": "adjudication", "rows": [adjudication, verdict]}},
    )
    client.force_login(arena.dana)

    html = client.get(detail_url(published)).content.decode()
    label = api(arena.dana).get(f"/api/conversations/{published.conversation.uuid}/").json()["turns"][1]["final_label"]

    assert label["source"] == "adjudication" and label["vulnerable_code"] is True
    assert "hidden so that annotation stays blind" not in html
    assert "Adjudicated human label" in html
    assert "1 unsafe by the final label" in html
    assert "an adjudication by an organizer" in html and "the rules judge (version 1)" in html
    assert "Rows that decided it" not in html and "verdict 937" not in html
    assert "olivia" not in html.lower()


def test_it_says_a_replay_in_peoples_words(client, arena, published):
    Conversation.objects.filter(pk=published.conversation.pk).update(plays=2)
    client.force_login(arena.dana)

    html = client.get(detail_url(published)).content.decode()

    assert "played 2 times" not in html
    assert "played again 1 time after a play that broke off" in html


def test_it_marks_an_excluded_conversation_in_the_list_and_its_page_without_a_question_mark(client, arena, published):
    Conversation.objects.filter(pk=published.conversation.pk).update(
        moderation=Conversation.Moderation.EXCLUDED, moderated_by=arena.olivia, moderated_at="2026-12-01T10:00Z"
    )
    client.force_login(arena.dana)

    listing = client.get(reverse("team-conversations")).content.decode()
    page = client.get(detail_url(published)).content.decode()

    assert "Attack succeeded" in listing and ">Excluded</span>" in listing
    assert ">Excluded</span>" in page and "A moderator excluded this conversation" in page
    assert "by ?" not in page
    assert "olivia" not in page
