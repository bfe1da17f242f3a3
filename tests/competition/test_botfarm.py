"""The bot farm's own bookkeeping (tests/botfarm.py, the `farm` fixture of tests/competition/conftest.py),
which the player's concurrency tests read."""

from __future__ import annotations

import json
import threading
import urllib.request

from tests.botfarm import Farm


def test_it_stops_counting_a_call_busy_before_its_caller_holds_the_answer(farm: Farm):
    path = "/bot/solo"
    farm.behaviours[path].latency = 0.2
    started = threading.Event()
    farm.behaviours[path].on_call = lambda calls: started.set()
    answers: list[dict] = []

    def call() -> None:
        request = urllib.request.Request(
            farm.url(path), data=json.dumps({"type": "ping"}).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append(json.loads(response.read()))

    caller = threading.Thread(target=call)
    caller.start()
    assert started.wait(timeout=30)
    # While the test holds the farm's lock the farm cannot mark the call done; a caller that gets its
    # answer meanwhile would see a count that says its call is still running.
    with farm.lock:
        caller.join(timeout=1.0)
        answered_while_counted = bool(answers) and farm.busy[path] == 1
    caller.join(timeout=30)

    assert not answered_while_counted
    assert answers == [{"ok": True}]
    assert farm.busy[path] == 0 and farm.peak[path] == 1
