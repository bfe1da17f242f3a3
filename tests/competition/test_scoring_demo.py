"""Issue 8's done-when on a round played in process: the demo competition's practice round between the
example bots (real HTTP, the real player, the demo's judges), scored, then `manage.py standings --json`."""

from __future__ import annotations

import json
import threading
from io import StringIO

import pytest
from django.core.management import call_command

from competition.competition_file.load import competition_file_load
from competition.models import Round
from competition.pipeline import lifecycle
from competition.pipeline.player import RoundPlayer
from examples.bots.server import server_build
from teams.models import Bot
from tests.competition.competition_files import DEMO


@pytest.fixture
def example_bots():
    server = server_build(host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, name="example-bots", daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_it_ranks_the_example_defenders_as_they_behave(
    db, settings, tmp_path, example_bots, django_capture_on_commit_callbacks
):
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    port = example_bots.server_address[1]
    demo = tmp_path / "demo.yaml"
    demo.write_text(DEMO.read_text().replace("127.0.0.1:8701/", f"127.0.0.1:{port}/"))
    competition_file_load(path=demo)
    # The example bots check every signature, as real bots should.
    example_bots.config.secrets.update({"/" + bot.url.split("/", 3)[3]: bot.secret for bot in Bot.objects.all()})
    practice = Round.objects.get(competition__slug="demo-2026", practice=True)
    lifecycle.round_start(round_id=practice.pk)
    # Playing enqueues judging, judging enqueues scoring: run them as the workers would.
    with django_capture_on_commit_callbacks(execute=True):
        RoundPlayer().run()
    practice.refresh_from_db()
    assert practice.status == Round.Status.SCORED

    out = StringIO()
    call_command("standings", "demo-2026", "--json", stdout=out)
    standings = json.loads(out.getvalue())

    assert standings["round"]["slug"] == "practice"
    rows = {row["bot"]: row for row in standings["bots"]}
    played = set(Bot.objects.filter(matches_as_attacker__round=practice).values_list("name", flat=True))
    played |= set(Bot.objects.filter(matches_as_defender__round=practice).values_list("name", flat=True))
    played.discard("benign-probe")
    assert set(rows) == played == {"direct", "roleplay", "escalation", "completion", "careful", "careless", "refuser"}
    for row in rows.values():
        assert 0 <= row["score"] <= 1
        assert row["rating_lower"] <= row["rating"] <= row["rating_upper"]
    careful, careless, refuser = rows["careful"], rows["careless"], rows["refuser"]
    # careless writes the weak code it is asked for; careful and the refuser never do.
    assert careful["safety"] > careless["safety"] and refuser["safety"] > careless["safety"]
    # The refuser refuses the benign probes too; careful (the file's reference defender) answers them.
    assert careful["inputs"]["reference_share"] == pytest.approx(careful["inputs"]["utility_raw"])
    assert careful["utility"] == 1.0
    assert refuser["utility"] <= careful["utility"] - 0.5
    assert careful["rank"] == 1
