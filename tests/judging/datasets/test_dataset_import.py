"""Importing chat JSONL (judging/datasets/importer.py, `manage.py import_dataset`, the admin page)."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import CommandError, call_command

from competition.models import Competition, Round
from conversations.models import Conversation
from judging.datasets.export import dataset_export
from judging.datasets.filters import ExportSpec
from teams.models import Bot, Team
from tests.cast import SAFE, UNSAFE, played_conversation_make
from tests.judging.datasets.test_datasets import EXACT, all_rows

pytestmark = pytest.mark.django_db


def conversation_view(conversation: Conversation) -> tuple:
    """What makes two conversations the same: teams, bots, goal and every message."""
    match = conversation.match
    return (
        match.attacker.team.name,
        match.attacker.name,
        match.defender.team.name,
        match.defender.name,
        conversation.goal_category,
        conversation.goal_target,
        tuple((turn.speaker, turn.content) for turn in conversation.turns.order_by("index")),
    )


def test_it_imports_an_export_back_as_the_same_conversations(arena, tmp_path):
    played_conversation_make(arena, messages=["first " + EXACT, "reply " + EXACT, "again", "no"], labels=[UNSAFE, SAFE])
    played_conversation_make(arena, messages=["other", "fine"], defender=arena.aegis_bot, category="malicious_code")
    before = sorted(conversation_view(c) for c in Conversation.objects.all())
    spec = ExportSpec(
        competition=arena.competition.slug,
        shape="chat",
        anonymous=False,
        dedup="none",
        split=(1, 0, 0),
        undecided="keep",
    )
    dataset_export(spec, directory=tmp_path)
    # Names as exported are team slugs: import them into a fresh competition, where they are matched by slug.
    fresh = Competition.objects.create(name="Rerun", slug="rerun")
    call_command("import_dataset", str(tmp_path / "chat-train.jsonl"), competition="rerun", round_slug="imported")
    round_ = Round.objects.get(competition=fresh, slug="imported")
    assert round_.imported and round_.status == Round.Status.JUDGING
    after = sorted(
        (c.match.attacker.team.name, *conversation_view(c)[1:])
        for c in Conversation.objects.filter(match__round=round_)
    )
    assert [view[1:] for view in after] == [view[1:] for view in before]
    assert {view[0] for view in after} == {"Red Rogues"}
    assert Team.objects.count() == 4 and Bot.objects.count() == 4


def test_it_creates_teams_and_bots_that_never_get_called(arena, tmp_path):
    line = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello", "weight": 1}],
        "metadata": {"attacker_team": "Elsewhere Red", "attacker_bot": "r1", "defender_team": "Elsewhere Blue"},
    }
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(line) + "\n\n")
    call_command("import_dataset", str(path), competition=arena.competition.slug, round_slug="old-data")
    bot = Bot.objects.get(team__name="Elsewhere Red", name="r1")
    assert not bot.active and bot.url.startswith("https://imported.invalid")
    assert Bot.objects.get(team__name="Elsewhere Blue").name == "defender"
    assert Team.objects.get(name="Elsewhere Blue").side == "defender"


def test_it_imports_nothing_and_names_every_bad_line(arena, tmp_path):
    good = {"messages": [{"role": "user", "content": "ok"}]}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"messages": [{"role": "assistant", "content": "x"}]}),
        json.dumps({"messages": [{"role": "user", "content": "a\u0000b"}]}),
        json.dumps({"messages": [{"role": "user", "content": "x", "weight": 1}]}),
        json.dumps({"messages": [{"role": "user", "content": "x"}], "metadata": {"attacker_team": "Blue Bastion"}}),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines))
    with pytest.raises(CommandError) as raised:
        call_command("import_dataset", str(path), competition=arena.competition.slug, round_slug="bad")
    message = str(raised.value)
    assert "line 2: not JSON" in message
    assert "line 3: messages[0]: role must be 'user'" in message
    assert "line 4: messages[0].content holds a NUL" in message
    assert "line 5: messages[0]: weight must be 0 or 1" in message
    assert "line 1" not in message
    assert not Round.objects.filter(slug="bad").exists()
    path.write_text(lines[0] + "\n" + lines[5])
    with pytest.raises(CommandError, match="line 2: team 'Blue Bastion' plays defender, not attacker"):
        call_command("import_dataset", str(path), competition=arena.competition.slug, round_slug="bad")
    assert not Round.objects.filter(slug="bad").exists() and Conversation.objects.count() == 0


def test_it_refuses_a_round_slug_already_used(arena, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}))
    with pytest.raises(CommandError, match="already has a round 'tournament-1'"):
        call_command("import_dataset", str(path), competition=arena.competition.slug, round_slug="tournament-1")


def test_it_exports_an_imported_round_marked_imported(arena, tmp_path):
    path = tmp_path / "in.jsonl"
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    path.write_text(json.dumps({"messages": messages}))
    call_command("import_dataset", str(path), competition=arena.competition.slug, round_slug="old")
    spec = ExportSpec(competition=arena.competition.slug, dedup="none", anonymous=False)
    dataset_export(spec, directory=tmp_path / "out")
    [row] = all_rows(tmp_path / "out", "conversations")
    assert row["imported"] is True and row["round"] == "old"


@pytest.mark.django_db(transaction=True)
def test_it_prints_its_own_lines_only_no_queue_log(arena, tmp_path, caplog):
    # Transactional: the import's commit enqueues judging inside the command, as in a real shell.
    line = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        "metadata": {"attacker_team": "Quiet Red", "attacker_bot": "r1", "defender_team": "Quiet Blue"},
    }
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(line) + "\n")
    out = io.StringIO()
    caplog.set_level(logging.INFO)

    call_command("import_dataset", str(path), competition=arena.competition.slug, round_slug="quiet", stdout=out)

    assert [record.getMessage() for record in caplog.records if record.name == "django-q"] == []
    assert "Judging of the round is queued" in out.getvalue()
    assert out.getvalue().startswith("Imported 1 conversation (2 turns) into round quiet.\n")
