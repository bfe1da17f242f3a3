"""Writes for judging: verdicts, final labels, judging a conversation or a round.

- verdicts.py: recording a judge's outcome on a reply (verdict_record);
- final_labels.py: reconciling each reply's final label from adjudications, human majorities and
  the judge ensemble (final_label_compute and friends);
- exports.py: dataset export jobs, queued and run in the background (export_job_create, export_job_run),
  and the sweep of jobs whose worker stopped (export_jobs_reap);
- judging.py: running the active judges on replies, conversations and rounds, here or queued, and
  a judging round's care (round_judging_resume, final_labels_recompute); whether a round moves on
  is its lifecycle's decision (competition/pipeline/lifecycle.py);
- rejudging.py: what an organizer may re-judge, and queueing it (rounds_rejudge, conversations_rejudge).

Every public name is importable from here (`from judging import services; services.turn_judge`).
A test that patches a module-level name (BATCH_SIZE, say) patches it in the module that reads it.
"""

from judging.services.exports import (
    EXPORT_MAX_ATTEMPTS,
    EXPORT_STOPPED_ERROR,
    ExportReapReport,
    export_job_create,
    export_job_folder,
    export_job_run,
    export_jobs_reap,
)
from judging.services.final_labels import (
    BOOLEAN_LABELS,
    SOURCE_ORDER,
    UNSAFE_LABELS,
    Decision,
    ensemble_weight,
    final_label_compute,
    final_labels_backfill,
    final_labels_compute,
)
from judging.services.judging import (
    BATCH_SIZE,
    conversation_judge,
    conversations_judge,
    conversations_judge_dispatch,
    final_labels_recompute,
    round_batch_judge,
    round_judge_dispatch,
    round_judging_resume,
    turn_judge,
)
from judging.services.rejudging import (
    ConversationsRejudged,
    RejudgeRefused,
    RoundsRejudged,
    conversations_rejudge,
    rounds_rejudge,
)
from judging.services.verdicts import verdict_record, verdicts_record

__all__ = [
    "BATCH_SIZE",
    "BOOLEAN_LABELS",
    "EXPORT_MAX_ATTEMPTS",
    "EXPORT_STOPPED_ERROR",
    "SOURCE_ORDER",
    "UNSAFE_LABELS",
    "ConversationsRejudged",
    "Decision",
    "ExportReapReport",
    "RejudgeRefused",
    "RoundsRejudged",
    "conversation_judge",
    "conversations_judge",
    "conversations_judge_dispatch",
    "conversations_rejudge",
    "ensemble_weight",
    "export_job_create",
    "export_job_folder",
    "export_job_run",
    "export_jobs_reap",
    "final_label_compute",
    "final_labels_backfill",
    "final_labels_compute",
    "final_labels_recompute",
    "round_batch_judge",
    "round_judge_dispatch",
    "round_judging_resume",
    "rounds_rejudge",
    "turn_judge",
    "verdict_record",
    "verdicts_record",
]
