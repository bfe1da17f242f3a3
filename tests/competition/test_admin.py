import pytest

from competition.models import BotCircuit, Competition, Match, Round
from conversations.models import Conversation
from tests.cast import labelled_conversation_make
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db


def test_it_opens_every_competition_page_for_the_organizer(client, arena):
    labelled = labelled_conversation_make(arena)
    client.force_login(arena.olivia)
    for obj in (arena.competition, arena.round, labelled.match, labelled.circuit):
        assert client.get(admin_url(obj, "changelist")).status_code == 200
        assert client.get(admin_url(obj, "change")).status_code == 200
    for model in (Competition, Round):
        assert client.get(admin_url(model, "add")).status_code == 200
    # Matches and circuits are made by a round's start and its player, never by hand.
    for model in (Match, BotCircuit):
        assert client.get(admin_url(model, "add")).status_code == 403


def test_it_shows_a_rounds_matches_with_how_far_their_conversations_got(client, arena):
    labelled = labelled_conversation_make(arena)
    Conversation.objects.create(
        match=labelled.match,
        sequence=1,
        goal_category="malicious_code",
        goal_target="a keylogger",
        status=Conversation.Status.FAILED,
        failure_side="defender",
        failure_kind="timeout",
    )
    Conversation.objects.create(match=labelled.match, sequence=2, goal_category="malicious_code", goal_target="x")
    client.force_login(arena.olivia)
    response = client.get(admin_url(arena.round, "change"))
    inline = response.context["inline_admin_formsets"][0]
    (match,) = inline.formset.queryset
    assert (match.conversation_total, match.conversation_finished, match.conversation_failed) == (3, 2, 1)
    page = response.content.decode()
    assert "red-rogues / rogue v1" in page
    assert 'name="matches-0-DELETE"' not in page
    changelist = client.get(admin_url(Round, "changelist")).content.decode()
    assert "2 / 3" in changelist


def test_it_shows_frozen_settings_and_snapshots_pretty_and_escaped(client, arena):
    labelled = labelled_conversation_make(arena)
    arena.round.frozen_settings = {"max_turns": 5, "goals": {"malicious_code": ["<script>alert(1)</script>"]}}
    arena.round.save()
    labelled.match.defender_snapshot = {**labelled.match.defender_snapshot, "system_prompt": "<b>be safe</b>"}
    labelled.match.save()
    client.force_login(arena.olivia)
    round_page = client.get(admin_url(arena.round, "change")).content.decode()
    assert "<script>alert(1)</script>" not in round_page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in round_page
    assert "\n  &quot;max_turns&quot;: 5" in round_page
    match_page = client.get(admin_url(labelled.match, "change")).content.decode()
    assert "<b>be safe</b>" not in match_page
    assert "&lt;b&gt;be safe&lt;/b&gt;" in match_page


def test_it_never_edits_a_rounds_status_by_hand(client, arena):
    client.force_login(arena.olivia)
    form = client.get(admin_url(arena.round, "change")).context["adminform"].form
    assert "status" not in form.fields
    assert "max_turns" in form.fields


def test_it_freezes_a_started_rounds_settings_in_the_form(client, arena):
    arena.round.frozen_settings = arena.round.live_settings()
    arena.round.save()
    client.force_login(arena.olivia)
    form = client.get(admin_url(arena.round, "change")).context["adminform"].form
    # Everything frozen at start is read-only, how the round is named and what it counts for too.
    for name in ("max_turns", "call_timeout_seconds", "competition", "number", "status", "name", "practice"):
        assert name not in form.fields


def test_it_edits_competition_goals_as_indented_json(client, arena):
    client.force_login(arena.olivia)
    page = client.get(admin_url(arena.competition, "change")).content.decode()
    assert "{\n  &quot;malicious_code&quot;: [" in page
    response = client.post(
        admin_url(arena.competition, "change"),
        {
            "name": arena.competition.name,
            "slug": arena.competition.slug,
            "description": "",
            "goals": '{"vulnerable_code": ["CWE-89 SQL injection"]}',
            "scoring_weights": '{"safety": 1}',
            "benign_prompts": "[]",
            "default_conversations_per_pair": 1,
            "default_max_turns": 5,
            "default_call_timeout_seconds": 45,
            "default_retries": 2,
            "default_message_limit": 20000,
            "registration": "approval",
            "rounds-TOTAL_FORMS": 1,
            "rounds-INITIAL_FORMS": 1,
            "rounds-0-id": arena.round.pk,
            "rounds-0-competition": arena.competition.pk,
            "rounds-0-number": 1,
            "rounds-0-name": arena.round.name,
            "rounds-0-slug": arena.round.slug,
        },
    )
    assert response.status_code == 302
    arena.competition.refresh_from_db()
    assert arena.competition.goals == {"vulnerable_code": ["CWE-89 SQL injection"]}


def new_competition_form(**fields) -> dict:
    """The admin's add form for a competition with no rounds; `fields` replace its values."""
    return {
        "name": "Quiet",
        "slug": "quiet",
        "goals": '{"vulnerable_code": ["CWE-89 SQL injection"]}',
        "scoring_weights": '{"safety": 1}',
        "benign_prompts": "[]",
        "default_conversations_per_pair": 1,
        "default_max_turns": 5,
        "default_call_timeout_seconds": 45,
        "default_retries": 2,
        "default_message_limit": 20000,
        "registration": "approval",
        "rounds-TOTAL_FORMS": 0,
        "rounds-INITIAL_FORMS": 0,
        **fields,
    }


def test_it_refuses_invalid_goals(client, arena):
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(Competition, "add"),
        new_competition_form(name="Broken", slug="broken", goals='{"vulnerable_code": []}', scoring_weights="{}"),
    )
    assert response.status_code == 200
    assert not Competition.objects.filter(slug="broken").exists()


def test_it_refuses_to_delete_a_played_round_but_deletes_a_draft_one(client, arena):
    labelled_conversation_make(arena)
    draft = Round.objects.create(competition=arena.competition, number=2, name="Practice", slug="practice")
    client.force_login(arena.olivia)
    response = client.post(admin_url(arena.round, "delete"), {"post": "yes"})
    assert response.status_code == 403
    assert Round.objects.filter(pk=arena.round.pk).exists()
    assert Conversation.objects.exists()
    assert client.post(admin_url(draft, "delete"), {"post": "yes"}).status_code == 302
    assert not Round.objects.filter(pk=draft.pk).exists()


def test_it_takes_a_blank_list_of_benign_prompts_as_none_instead_of_a_500(client, arena):
    client.force_login(arena.olivia)
    client.raise_request_exception = False
    response = client.post(admin_url(Competition, "add"), new_competition_form(benign_prompts=""))
    assert response.status_code == 302
    assert Competition.objects.get(slug="quiet").benign_prompts == []
