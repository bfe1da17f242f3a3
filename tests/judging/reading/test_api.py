"""The conversations API: a team reads its own published conversations with labels, never an
opponent's name, never a human annotation; organizers read everything."""

from __future__ import annotations

import pytest

from competition.models import Round
from conversations.models import Conversation
from judging.models import FinalLabel
from teams.pseudonyms import bot_pseudonym
from tests.cast import final_label_update, labelled_conversation_make


@pytest.fixture
def published(arena, labelled):
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    return labelled


def test_it_shows_a_team_its_conversation_with_labels_and_verdicts(arena, published, api):
    body = api(arena.dana).get(f"/api/conversations/{published.conversation.uuid}/").json()

    reply = body["turns"][1]
    assert body["outcome"] == "attack_succeeded"
    assert body["defender"]["name"] == "bastion"
    assert reply["content"] == published.reply.content
    assert reply["final_label"]["vulnerable_code"] is True
    assert [verdict["rationale"] for verdict in reply["verdicts"]] == ["string concatenation into SQL"]


def test_it_names_the_opponent_by_a_stable_pseudonym_only(arena, published, api):
    response = api(arena.dana).get(f"/api/conversations/{published.conversation.uuid}/")

    text = response.content.decode()
    assert response.json()["attacker"] == {
        "side": "attacker",
        "pseudonym": bot_pseudonym(bot_id=arena.rogue_bot.pk, viewer_team_id=arena.bastion.pk),
    }
    assert "rogue" not in text.lower()
    assert "red-rogues" not in text


def test_it_never_shows_human_annotations(arena, published, api):
    final_label_update(
        published.final_label, source=FinalLabel.Source.HUMAN_MAJORITY, rationale="annie says: injectable"
    )

    text = api(arena.alice).get(f"/api/conversations/{published.conversation.uuid}/").content.decode()

    assert "annie" not in text


def test_it_hides_conversations_of_unpublished_rounds_from_teams(arena, labelled, api):
    assert api(arena.dana).get("/api/conversations/").json()["results"] == []
    assert api(arena.dana).get(f"/api/conversations/{labelled.conversation.uuid}/").status_code == 404


def test_it_hides_another_teams_conversations(arena, published, api):
    assert api(arena.dave).get("/api/conversations/").json()["results"] == []
    assert api(arena.carl).get(f"/api/conversations/{published.conversation.uuid}/").status_code == 404


def test_it_hides_conversations_a_moderator_hid(arena, published, api):
    Conversation.objects.filter(pk=published.conversation.pk).update(moderation=Conversation.Moderation.HIDDEN)

    assert api(arena.alice).get("/api/conversations/").json()["results"] == []


def test_it_shows_organizers_every_conversation_with_bot_names(arena, labelled, api):
    body = api(arena.olivia).get("/api/conversations/").json()

    assert [row["attacker"]["name"] for row in body["results"]] == ["rogue"]


def test_it_refuses_annotators_outside_the_admin(arena, labelled, api):
    assert api(arena.annie).get("/api/conversations/").json()["results"] == []


def test_it_keeps_an_opponents_failure_detail_private(arena, published, api):
    Conversation.objects.filter(pk=published.conversation.pk).update(
        status=Conversation.Status.FAILED,
        failure_side="defender",
        failure_kind="connection",
        failure_detail="could not connect to https://bastion.internal:8443/",
    )

    attacker_view = api(arena.alice).get(f"/api/conversations/{published.conversation.uuid}/").json()
    defender_view = api(arena.dana).get(f"/api/conversations/{published.conversation.uuid}/").json()

    assert (attacker_view["failure_kind"], attacker_view["failure_detail"]) == ("connection", "")
    assert "bastion.internal" in defender_view["failure_detail"]
    assert attacker_view["outcome"] == "failed"


def test_it_filters_by_outcome_and_category(arena, published, api):
    second = labelled_conversation_make(arena, attacker=arena.crimson_bot)
    final_label_update(second.final_label, vulnerable_code=False)

    dana = api(arena.dana)
    succeeded = dana.get("/api/conversations/", {"outcome": "attack_succeeded"}).json()["results"]
    defended = dana.get("/api/conversations/", {"outcome": "defended"}).json()["results"]
    malicious = dana.get("/api/conversations/", {"category": "malicious_code"}).json()["results"]

    assert [row["id"] for row in succeeded] == [str(published.conversation.uuid)]
    assert [row["id"] for row in defended] == [str(second.conversation.uuid)]
    assert malicious == []


def test_it_pages_conversations_with_a_cursor(arena, published, api):
    for sequence in (1, 2):
        Conversation.objects.create(
            match=published.match, sequence=sequence, goal_category="malicious_code", goal_target="a keylogger"
        )

    first = api(arena.olivia).get("/api/conversations/", {"page_size": 2}).json()
    second = api(arena.olivia).get(first["next"]).json()

    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
    assert {row["id"] for row in first["results"]}.isdisjoint({row["id"] for row in second["results"]})


def test_it_finds_a_conversation_by_the_short_id_pages_show(arena, published, api):
    short = published.conversation.uuid.hex[:8]

    body = api(arena.dana).get(f"/api/conversations/{short}/").json()

    assert body["id"] == str(published.conversation.uuid)
    assert body["short_id"] == short


def test_it_hides_another_teams_conversation_by_its_short_id_too(arena, published, api):
    short = published.conversation.uuid.hex[:8]

    response = api(arena.carl).get(f"/api/conversations/{short}/")

    assert response.status_code == 404


@pytest.mark.parametrize("page_size", ["false", "", "0", "-1", "2.5", "\uff12", "a lot"])
def test_it_refuses_a_page_size_that_is_not_a_whole_number_from_one(arena, published, api, page_size):
    response = api(arena.olivia).get("/api/conversations/", {"page_size": page_size})

    assert response.status_code == 400
    assert "page_size" in response.json()["error"]["fields"]


def test_it_cuts_a_page_size_above_the_maximum_to_it(arena, published, api):
    assert api(arena.olivia).get("/api/conversations/", {"page_size": 5000}).status_code == 200


def test_it_finds_a_conversation_by_its_uuid_or_a_short_id_of_up_to_32_digits(arena, published, api):
    uuid = published.conversation.uuid
    for written in (str(uuid), str(uuid).upper(), uuid.hex, uuid.hex[:8], uuid.hex[:20]):
        response = api(arena.dana).get(f"/api/conversations/{written}/")

        assert response.status_code == 200, written
        assert response.json()["id"] == str(uuid)


def test_it_answers_404_to_an_id_the_schema_does_not_describe(arena, published, api):
    # Python's UUID reads these too; the schema promises a UUID or a short id.
    uuid = published.conversation.uuid
    for written in (f"urn:uuid:{uuid}", f"%7B{uuid}%7D", f"{uuid.hex[:8]}-{uuid.hex[8:]}", uuid.hex[:7]):
        response = api(arena.dana).get(f"/api/conversations/{written}/")

        assert response.status_code == 404, written
        assert response.json()["error"]["code"] == "not_found"
