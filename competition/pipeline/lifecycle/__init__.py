"""Every move of a Round between its statuses, and nothing else writes `Round.status`.

draft -> scheduled -> running -> judging -> scored -> published, and paused, cancelled:

- round_schedule (draft/scheduled -> scheduled), round_start (draft/scheduled -> running);
- round_pause (running -> paused), round_resume (paused -> running);
- round_cancel (anything not yet scored -> cancelled);
- round_rerun_failed (judging or scored -> running when failed conversations are played again: the
  whole round's or chosen ones; a scored round is judged and scored again, its standings revised);
- round_playing_settle (running -> judging, once no conversation is left to play);
- round_judging_settle (judging -> scored, once judging reports the round's labels complete);
- round_publish (scored -> published);
- round_imported_create (a new round straight into judging: conversations imported from a dataset);
- round_labels_changed: what judging calls whenever labels of a round's replies were written, with
  whether they are now complete; it settles a judging round and is the one place re-scoring of a
  scored or published round hooks in;
- round_inputs_changed: conversations were let into or left out of what their rounds count
  (conversations_moderate); judging is queued for them and the round settled or scored again.

Judging sits above the lifecycle (docs/architecture.md) and is never imported here: judging reports
(round_labels_changed, with whether labels are complete), the lifecycle decides, and the judging work
the lifecycle wants is asked for through competition/pipeline/signals.py (round_judging_wanted,
round_inputs_judging_wanted), which judging receives.

Every transition is a conditional update on the current status, so a double click, a repeated
admin action or a task that runs twice moves a round at most once. A conditional ``.update()`` is not
seen by django-simple-history, so every move also writes the round's historical record itself
(``round_history_note``): the admin's History lists each move, with who made it when a request did
(simple_history's request middleware) and the reason, e.g. "Round action: published".

The parts, every public name importable from this package:

- moves.py: the status moves organizers and the pipeline make (schedule, pause, resume, cancel,
  publish, the two settles), the statuses each organizer's move starts from (START_FROM ...
  PUBLISH_FROM, which the round's admin buttons read), RoundTransitionError, and the asks for
  players and for scoring;
- start.py: how rounds are made and start (round_start, round_practice_start, round_imported_create);
- rerun.py: failed conversations played again (round_rerun_failed, conversations_rerun_failed);
- changes.py: what a round hears once played (round_labels_changed, round_inputs_changed,
  conversations_moderate).
"""

from competition.pipeline.lifecycle.changes import conversations_moderate, round_inputs_changed, round_labels_changed
from competition.pipeline.lifecycle.moves import (
    CANCEL_FROM,
    PAUSE_FROM,
    PUBLISH_FROM,
    RESUME_FROM,
    START_FROM,
    RoundTransitionError,
    player_enqueue,
    round_cancel,
    round_history_note,
    round_judging_settle,
    round_pause,
    round_playing_settle,
    round_publish,
    round_resume,
    round_schedule,
    round_score_enqueue,
)
from competition.pipeline.lifecycle.rerun import RerunReport, conversations_rerun_failed, round_rerun_failed
from competition.pipeline.lifecycle.start import goals_spread, round_imported_create, round_practice_start, round_start

__all__ = [
    "CANCEL_FROM",
    "PAUSE_FROM",
    "PUBLISH_FROM",
    "RESUME_FROM",
    "START_FROM",
    "RerunReport",
    "RoundTransitionError",
    "conversations_moderate",
    "conversations_rerun_failed",
    "goals_spread",
    "player_enqueue",
    "round_cancel",
    "round_history_note",
    "round_imported_create",
    "round_inputs_changed",
    "round_judging_settle",
    "round_labels_changed",
    "round_pause",
    "round_playing_settle",
    "round_practice_start",
    "round_publish",
    "round_rerun_failed",
    "round_resume",
    "round_schedule",
    "round_score_enqueue",
    "round_start",
]
