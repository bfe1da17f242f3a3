"""Writes of the label core: verdicts, human labels, final labels, judging a conversation or a round.

- verdicts.py: recording a judge's outcome on a reply (verdict_record);
- annotations.py: a human's labels on a reply, and an organizer's adjudication (annotation_submit,
  adjudication_set), the one way a human label is written;
- final_labels.py: reconciling each reply's final label from adjudications, human majorities and
  the judge ensemble (final_label_compute and friends); ensemble.py: the judge ensemble's step, by
  the verdicts sure of each label (label_by_ensemble, label_confidence);
- judging.py: running the active judges on replies, conversations and rounds, here or queued, and
  a judging round's care (round_judging_resume, final_labels_recompute, round_inputs_judge) and the
  report of changed labels with whether they are complete (round_labels_report); whether a round
  moves on is its lifecycle's decision (competition/pipeline/lifecycle/);
- rejudging.py: what an organizer may re-judge, and queueing it (rounds_rejudge, conversations_rejudge);
- judge_accuracy.py: measuring a competition's judges on a labelled reply file and storing their
  figures (judge_accuracy_measure; `manage.py judge_accuracy`).

Every public name of these modules is importable from here (`from judging import services;
services.turn_judge`). The subpackages' writes are theirs: annotation campaigns and label files in
judging/annotation/services/, export jobs in judging/datasets/services.py.
A test that patches a module-level name (BATCH_SIZE, say) patches it in the module that reads it.
"""

from judging.services.annotations import (
    CWE_ID,
    HumanLabels,
    LabelError,
    adjudication_set,
    annotation_submit,
)
from judging.services.ensemble import Decision, ensemble_weight, label_confidence
from judging.services.final_labels import (
    BOOLEAN_LABELS,
    SOURCE_ORDER,
    UNSAFE_LABELS,
    conversations_outcome_refresh,
    final_label_compute,
    final_labels_backfill,
    final_labels_compute,
    labels_by_judges,
    labels_by_people,
    reply_confidence,
)
from judging.services.judge_accuracy import AccuracyMeasured, JudgeAccuracyRefused, judge_accuracy_measure
from judging.services.judging import (
    BATCH_SIZE,
    conversation_judge,
    conversations_judge,
    conversations_judge_dispatch,
    final_labels_recompute,
    round_batch_judge,
    round_inputs_judge,
    round_judge_dispatch,
    round_judging_resume,
    round_labels_report,
    turn_judge,
)
from judging.services.rejudging import (
    CONVERSATION_RULE,
    JUDGEABLE_STATUS_NAMES,
    ROUND_RULE,
    ConversationsRejudged,
    RejudgeRefused,
    RoundsRejudged,
    conversation_rejudge_skip_reason,
    conversations_rejudge,
    conversations_rejudgeable,
    rejudge_judge_check,
    rejudge_judges,
    round_rejudge_skip_reason,
    rounds_rejudge,
)
from judging.services.verdicts import verdict_record, verdicts_record

__all__ = [
    "BATCH_SIZE",
    "BOOLEAN_LABELS",
    "CONVERSATION_RULE",
    "CWE_ID",
    "JUDGEABLE_STATUS_NAMES",
    "ROUND_RULE",
    "SOURCE_ORDER",
    "UNSAFE_LABELS",
    "AccuracyMeasured",
    "ConversationsRejudged",
    "Decision",
    "HumanLabels",
    "JudgeAccuracyRefused",
    "LabelError",
    "RejudgeRefused",
    "RoundsRejudged",
    "adjudication_set",
    "annotation_submit",
    "conversation_judge",
    "conversation_rejudge_skip_reason",
    "conversations_judge",
    "conversations_judge_dispatch",
    "conversations_outcome_refresh",
    "conversations_rejudge",
    "conversations_rejudgeable",
    "ensemble_weight",
    "final_label_compute",
    "final_labels_backfill",
    "final_labels_compute",
    "final_labels_recompute",
    "judge_accuracy_measure",
    "label_confidence",
    "labels_by_judges",
    "labels_by_people",
    "rejudge_judge_check",
    "rejudge_judges",
    "reply_confidence",
    "round_batch_judge",
    "round_inputs_judge",
    "round_judge_dispatch",
    "round_judging_resume",
    "round_labels_report",
    "round_rejudge_skip_reason",
    "rounds_rejudge",
    "turn_judge",
    "verdict_record",
    "verdicts_record",
]
