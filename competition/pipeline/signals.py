"""What the round lifecycle asks of the layers above it, which it may not import.

The lifecycle sits below judging and the player (docs/architecture.md, "The layers"): judging reports
to it, the player and the reaper call it. When a move of a round needs work done above it (players
to play a running round, judging for a round whose playing finished, standings for a scored round),
it says so here, and the app that does the work receives it and queues its own task:

- players_wanted(count): competition/tasks.py queues `count` round players;
- round_judging_wanted(round_id): judging/tasks.py queues the round's judging;
- round_inputs_judging_wanted(round_id, conversation_ids): judging/tasks.py queues the judging of
  conversations a moderation let in or left out (then judging reports, so the round settles);
- round_scoring_wanted(round_id, reason): competition/tasks.py queues the round's scoring.

Each signal has exactly one receiver, connected when its app is ready (tests/test_architecture.py
checks it); `ask` refuses to send one that nobody receives, so the work is never silently dropped.
"""

from __future__ import annotations

from django.dispatch import Signal

players_wanted = Signal()
round_judging_wanted = Signal()
round_inputs_judging_wanted = Signal()
round_scoring_wanted = Signal()


def ask(signal: Signal, **kwargs) -> None:
    """Send `signal` with these keyword arguments; raises RuntimeError when no receiver is connected
    (an app's `ready` did not run: the work asked for would be lost)."""
    if not signal.send(sender=None, **kwargs):
        raise RuntimeError("nothing receives this lifecycle signal: is the app that does the work installed?")
