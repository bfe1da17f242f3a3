import pytest
from django.db import IntegrityError, transaction

from competition.models import Match
from conversations.models import Conversation, Turn
from teams.models import CallFailure
from tests.cast import match_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(arena):
    return Conversation.objects.create(
        match=match_make(arena), sequence=0, goal_category="vulnerable_code", goal_target="CWE-89 SQL injection"
    )


def test_it_refuses_two_turns_at_one_index(conversation):
    Turn.objects.create(conversation=conversation, index=0, speaker="attacker", content="hi")
    with pytest.raises(IntegrityError), transaction.atomic():
        Turn.objects.create(conversation=conversation, index=0, speaker="attacker", content="again")


def test_it_refuses_a_defender_at_an_even_index(conversation):
    with pytest.raises(IntegrityError), transaction.atomic():
        Turn.objects.create(conversation=conversation, index=2, speaker="defender", content="reply")


def test_it_refuses_an_ok_turn_without_content(conversation):
    with pytest.raises(IntegrityError), transaction.atomic():
        Turn.objects.create(conversation=conversation, index=0, speaker="attacker", content="")


def test_it_accepts_a_failed_turn_without_content(conversation):
    turn = Turn.objects.create(
        conversation=conversation, index=1, speaker="defender", status=Turn.Status.TIMEOUT, error_detail="45 s"
    )
    assert not turn.ok


def test_it_refuses_a_failed_conversation_without_its_failure(conversation):
    conversation.status = Conversation.Status.FAILED
    with pytest.raises(IntegrityError), transaction.atomic():
        conversation.save()


def test_it_refuses_a_match_of_a_bot_against_itself(arena):
    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.create(
            round=arena.round,
            attacker=arena.rogue_bot,
            defender=arena.rogue_bot,
            attacker_version=1,
            defender_version=1,
            attacker_snapshot={},
            defender_snapshot={},
        )


def test_it_gives_a_turn_every_call_failure_as_a_status_after_ok():
    assert Turn.Status.choices == [("ok", "OK"), *CallFailure.choices]
    assert Turn.Status("timeout") == CallFailure.TIMEOUT
