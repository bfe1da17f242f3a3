"""The round's pipeline: the one part of the project that reaches across the apps.

- lifecycle/: every move of a Round between its statuses (draft -> scheduled -> running ->
  judging -> scored -> published, and paused, cancelled), and the hook for labels that change
  after a round was scored;
- player/: the round player, which plays the conversations of running rounds;
- reaper.py: the scheduled safety net that moves stalled work along;
- scoring.py: a round's standings from its final labels (docs/scoring.md);
- probes.py: the benign probe conversations that measure defenders' utility.

Its modules sit at three layers of the stack (docs/architecture.md, "The layers"): its state
(models.py, services.py, selectors.py: circuits, players' leases, bots' call slots) with the
competition core; the lifecycle (lifecycle/, probes.py, and signals.py, through which it asks the
layers above for players, judging and scoring) above conversations and below judging; the player,
the reaper and scoring at the top, above judging.
"""
