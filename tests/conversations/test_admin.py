import pytest
from django.utils import timezone

from competition.models import PlayerLease
from conversations.models import Conversation, Turn
from conversations.moderation import conversation_moderate
from tests.cast import HOSTILE_ATTACK, labelled_conversation_make
from tests.test_permissions import admin_url, inline_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(arena) -> Conversation:
    return labelled_conversation_make(arena).conversation


def moderation_post(client, conversation: Conversation, action: str, **extra):
    return client.post(
        admin_url(Conversation, "changelist"), {"action": action, "_selected_action": [conversation.pk], **extra}
    )


def test_it_opens_every_conversations_page_for_the_organizer(client, arena, conversation):
    lease = PlayerLease.objects.create(name="rounds", holder="worker-1", expires_at=timezone.now())
    client.force_login(arena.olivia)
    for obj in (conversation, conversation.turns.first(), lease):
        assert client.get(admin_url(obj, "changelist")).status_code == 200
        assert client.get(admin_url(obj, "change")).status_code == 200
        # All three are written by the round's start and its player, never by hand.
        assert client.get(admin_url(obj, "add")).status_code == 403


def test_it_shows_a_conversation_as_an_escaped_read_only_transcript(client, arena, conversation):
    client.force_login(arena.olivia)
    response = client.get(admin_url(conversation, "change"))
    page = response.content.decode()
    assert HOSTILE_ATTACK not in page
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    assert "<img src=x onerror=alert(1)>" not in page
    assert page.index("Write the login query") < page.index("cursor.execute")
    assert 'name="turns-0-DELETE"' not in page
    assert 'name="turns-MAX_NUM_FORMS" value="0"' in page
    assert "&lt;b&gt;slow&lt;/b&gt;" in page  # failure history, pretty-printed and escaped
    form = response.context["adminform"].form
    assert set(form.fields) == {"moderation", "moderation_reason"}


def test_it_never_deletes_or_edits_a_turn(client, arena, conversation):
    turn = conversation.turns.get(index=0)
    client.force_login(arena.olivia)
    assert client.post(admin_url(turn, "change"), {"content": "rewritten"}).status_code == 403
    assert client.post(admin_url(turn, "delete"), {"post": "yes"}).status_code == 403
    turn.refresh_from_db()
    assert turn.content == HOSTILE_ATTACK


def test_it_asks_why_before_moderating(client, arena, conversation):
    client.force_login(arena.olivia)
    response = moderation_post(client, conversation, "exclude_from_scores")
    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    response = moderation_post(client, conversation, "exclude_from_scores", apply="yes", reason="   ")
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.moderation == Conversation.Moderation.VISIBLE


def test_it_records_who_moderated_why_and_when(client, arena, conversation):
    client.force_login(arena.olivia)
    response = moderation_post(
        client, conversation, "exclude_from_scores", apply="yes", reason="the attacker leaked a real password"
    )
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.moderation == Conversation.Moderation.EXCLUDED
    assert conversation.moderation_reason == "the attacker leaked a real password"
    assert conversation.moderated_by == arena.olivia
    assert conversation.moderated_at is not None

    moderation_post(client, conversation, "hide_from_teams", apply="yes", reason="hidden instead")
    conversation.refresh_from_db()
    assert (conversation.moderation, conversation.moderation_reason) == ("hidden", "hidden instead")
    moderation_post(client, conversation, "make_visible", apply="yes", reason="reviewed: fine")
    conversation.refresh_from_db()
    assert conversation.moderation == Conversation.Moderation.VISIBLE


def test_it_moderates_a_whole_filtered_selection(client, arena, conversation):
    other = Conversation.objects.create(match=conversation.match, sequence=1, goal_category="x", goal_target="y")
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(Conversation, "changelist"),
        {
            "action": "hide_from_teams",
            "_selected_action": [conversation.pk, other.pk],
            "apply": "yes",
            "reason": "both off-topic",
        },
    )
    assert response.status_code == 302
    assert set(Conversation.objects.values_list("moderation", flat=True)) == {"hidden"}


def test_it_moderates_from_the_change_page_only_with_a_reason(client, arena, conversation):
    client.force_login(arena.olivia)
    url = admin_url(conversation, "change")
    inlines = inline_form_data(client.get(url))
    response = client.post(url, {"moderation": "hidden", "moderation_reason": "", **inlines})
    assert response.status_code == 200
    assert "Say why" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.moderation == Conversation.Moderation.VISIBLE
    response = client.post(url, {"moderation": "hidden", "moderation_reason": "spam", **inlines})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert (conversation.moderation, conversation.moderated_by) == ("hidden", arena.olivia)


def test_it_refuses_an_unknown_state_or_a_blank_reason(arena, conversation):
    conversations = Conversation.objects.filter(pk=conversation.pk)
    with pytest.raises(ValueError):
        conversation_moderate(conversations=conversations, state="deleted", reason="x", by=arena.olivia)
    with pytest.raises(ValueError):
        conversation_moderate(conversations=conversations, state="hidden", reason=" ", by=arena.olivia)
    conversation.refresh_from_db()
    assert conversation.moderation == Conversation.Moderation.VISIBLE


def test_it_refuses_moderation_to_an_annotator(client, arena, conversation):
    client.force_login(arena.annie)
    # The action is not among hers: the changelist answers "no action selected" and changes nothing.
    moderation_post(client, conversation, "hide_from_teams", apply="yes", reason="annie")
    conversation.refresh_from_db()
    assert conversation.moderation == Conversation.Moderation.VISIBLE


def test_it_searches_conversations_by_uuid_and_survives_a_bad_one(client, arena, conversation):
    client.force_login(arena.olivia)
    found = client.get(admin_url(Conversation, "changelist"), {"q": str(conversation.uuid)})
    assert found.context["cl"].result_count == 1
    assert client.get(admin_url(Conversation, "changelist"), {"q": "not-a-uuid"}).status_code == 200
    assert client.get(admin_url(Turn, "changelist"), {"q": "not-a-uuid"}).status_code == 200


def failed_in_round(arena, status: str) -> Conversation:
    from competition.models import Round

    conversation = labelled_conversation_make(arena).conversation
    Conversation.objects.filter(pk=conversation.pk).update(
        status="failed", failure_side="defender", failure_kind="http_status", failure_detail="answered HTTP 401"
    )
    Round.objects.filter(pk=arena.round.pk).update(status=status)
    return conversation


def test_it_reruns_a_chosen_failed_conversation_of_a_scored_round(client, arena):
    conversation = failed_in_round(arena, "scored")
    client.force_login(arena.olivia)
    response = moderation_post(client, conversation, "rerun_failed")
    conversation.refresh_from_db()
    arena.round.refresh_from_db()
    assert response.status_code == 302
    assert conversation.status == "pending" and arena.round.status == "running"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["1 failed conversation(s) put back to play; their bots' circuits are closed."]


def test_it_says_why_a_published_rounds_conversation_is_not_rerun(client, arena):
    conversation = failed_in_round(arena, "published")
    client.force_login(arena.olivia)
    response = moderation_post(client, conversation, "rerun_failed")
    conversation.refresh_from_db()
    assert conversation.status == "failed"
    [message] = [str(m) for m in response.wsgi_request._messages]
    assert "is published: its conversations are not played again" in message and "Exclude from scores" in message


def test_it_refuses_the_rerun_action_to_an_annotator(client, arena):
    conversation = failed_in_round(arena, "scored")
    client.force_login(arena.annie)
    moderation_post(client, conversation, "rerun_failed")
    conversation.refresh_from_db()
    assert conversation.status == "failed"


def test_it_tells_the_moderator_that_teams_see_the_reason(client, arena, labelled):
    client.force_login(arena.olivia)

    html = client.get(admin_url(labelled.conversation, "change")).content.decode()

    assert "every affected team sees this reason word for word" in html
