"""The loader shows the signing secret of each bot it creates, once (issue 14, item 1)."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from teams.models import Bot

GOOD = Path(__file__).parent / "files" / "good.yaml"

pytestmark = pytest.mark.django_db


def test_it_prints_each_new_bots_secret_once_and_never_again():
    out = io.StringIO()
    call_command("load_competition", str(GOOD), stdout=out)

    bots = list(Bot.objects.select_related("team"))
    assert len(bots) == 4
    text = out.getvalue()
    for bot in bots:
        assert f"  {bot.team.slug} / {bot.name}: {bot.secret}" in text.splitlines()
    assert "shown only this once" in text

    again = io.StringIO()
    call_command("load_competition", str(GOOD), stdout=again)
    assert not any(bot.secret in again.getvalue() for bot in bots)
    assert "secret" not in again.getvalue()


def test_it_writes_new_secrets_to_a_file_only_its_owner_reads_and_prints_none(tmp_path):
    target = tmp_path / "secrets.json"
    target.write_text("old content that must go")
    target.chmod(0o644)
    out = io.StringIO()

    call_command("load_competition", str(GOOD), secrets_out=target, stdout=out)

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    written = json.loads(target.read_text())
    stored = {(bot.team.slug, bot.name): (bot.secret, bot.url) for bot in Bot.objects.select_related("team")}
    assert written["competition"] == "test-cup"
    assert {(row["team"], row["bot"]): (row["secret"], row["url"]) for row in written["bots"]} == stored
    assert not any(secret in out.getvalue() for secret, _ in stored.values())
    assert f"are in {target}" in out.getvalue()


def test_it_refuses_a_secrets_file_in_a_missing_folder_before_loading(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("load_competition", str(GOOD), secrets_out=tmp_path / "nowhere" / "s.json", stdout=io.StringIO())
    assert not Bot.objects.exists()
