"""A player process killed with SIGKILL mid-round: the round finishes with no lost or repeated turn."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from competition.models import PlayerLease
from competition.pipeline import lifecycle, reaper
from competition.pipeline.player import RoundPlayer
from conversations.models import Conversation, Turn
from tests import cast

ROOT = Path(__file__).resolve().parents[2]

PLAYER = """
import django
django.setup()
from competition.pipeline.player import RoundPlayer
RoundPlayer(claim_seconds=2, lease_seconds=2).run()
"""


def database_url() -> str:
    """The test database as a URL, so a separate process can open it."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = config["USER"] or "postgres"
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    return f"postgres://{user}{password}@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{config['NAME']}"


@pytest.mark.slow
def test_it_finishes_a_round_after_the_player_process_is_killed(transactional_db, farm, settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    arena = cast.build(bot_url=f"{farm.base_url}/bot")
    for path in ("/bot/rogue", "/bot/crimson", "/bot/bastion", "/bot/aegis"):
        farm.behaviours[path].latency = 0.1
    arena.round.max_turns = 5
    arena.round.save()
    # Tasks run inline in tests: a live lease held by "someone else" keeps the start from playing
    # the round right here; then the lease is let go for the player process.
    lease = PlayerLease.objects.create(
        name="rounds", holder="elsewhere", expires_at=timezone.now() + timedelta(minutes=1)
    )
    lifecycle.round_start(round_id=arena.round.pk)
    assert not Turn.objects.exists()
    lease.delete()

    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "ARENA_ALLOW_PRIVATE_URLS": "1",
        "LOG_LEVEL": "WARNING",
    }
    player = subprocess.Popen([sys.executable, "-c", PLAYER], cwd=ROOT, env=env)
    try:
        # Starting Python and Django is no part of what this test measures and takes tens of
        # seconds on a starved machine: the turns' deadline runs from the player holding its lease.
        deadline = time.monotonic() + 120
        while not PlayerLease.objects.exists():
            assert player.poll() is None, "the player process ended before it took its lease"
            assert time.monotonic() < deadline, "the player process never took its lease"
            time.sleep(0.02)
        deadline = time.monotonic() + 30
        while Turn.objects.count() < 12:
            assert player.poll() is None, "the player process ended before it could be killed"
            assert time.monotonic() < deadline, "the player process stored too few turns"
            time.sleep(0.02)
    finally:
        player.send_signal(signal.SIGKILL)
        player.wait()
    stored_at_kill = Turn.objects.count()
    assert stored_at_kill < 40
    assert Conversation.objects.filter(status="running").exists()  # claims left behind by the dead player

    time.sleep(2.1)  # the dead player's lease and claims expire
    report = reaper.rounds_reap()
    assert report.claims_expired >= 1
    RoundPlayer().run()

    assert set(Conversation.objects.values_list("status", flat=True)) == {"completed"}
    for conversation in Conversation.objects.all():
        assert list(conversation.turns.order_by("index").values_list("index", flat=True)) == list(range(10))
    # A slot asked again after the kill (its answer never stored) carries the same delivery id.
    asked = Counter()
    deliveries: dict[tuple[str, int], set[str]] = {}
    for path in ("/bot/rogue", "/bot/crimson", "/bot/bastion", "/bot/aegis"):
        for body, headers in zip(farm.requests[path], farm.headers[path], strict=True):
            key = (body["conversation_id"], body["turn_index"])
            asked[key] += 1
            deliveries.setdefault(key, set()).add(headers["X-Arena-Delivery"])
    assert all(len(ids) == 1 for ids in deliveries.values())
    assert sum(asked.values()) - len(asked) <= 4  # at most the calls in flight at the kill were repeated
