"""The round's pipeline: the one part of the project that reaches across the apps.

- lifecycle.py: every move of a Round between its statuses (draft -> scheduled -> running ->
  judging -> scored -> published, and paused, cancelled), and the hook for labels that change
  after a round was scored;
- player/: the round player, which plays the conversations of running rounds;
- reaper.py: the scheduled safety net that moves stalled work along;
- scoring.py: a round's standings from its final labels (docs/scoring.md);
- probes.py: the benign probe conversations that measure defenders' utility.

design.md: model arrows run judging -> conversations -> competition -> teams; only this package
imports upward (it creates conversations and hands finished rounds to judging).
"""
