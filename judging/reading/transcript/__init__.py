"""The transcript of a conversation: every turn in order, and for each defender reply its final
label, every judge's verdict, the code findings placed on the reply's lines and, for organizers, the
human annotations. A read for the admin's transcript page and the team pages.

- labels.py: one row's labels and their badges;
- findings.py: stored code findings in one shape, placed on the reply's lines;
- fences.py: a turn's lines in parts, prose and fenced code, as the templates draw them;
- decisions.py: a final label's sources, deciding rows (human ones hidden by kind) and votes;
- entries.py: the shapes of the transcript, its turns and their rows;
- reading.py: conversation_transcript, which reads them all.

Everything here is data, never markup: bot and judge text stays plain strings for the templates to
escape. Every public name is importable from here.
"""

from judging.reading.transcript.decisions import (
    DECISION_NAMES,
    HIDDEN_HUMAN_ROW,
    HUMAN_SOURCES,
    Decision,
    FinalLabelEntry,
    decision_row_display,
    decisions_read,
    final_label_entry,
    final_label_people,
)
from judging.reading.transcript.entries import AnnotationEntry, Transcript, TurnEntry, VerdictEntry
from judging.reading.transcript.fences import TurnPart, turn_parts
from judging.reading.transcript.findings import Finding, ReplyLine, finding_parse, reply_lines
from judging.reading.transcript.labels import Badge, LabelSet
from judging.reading.transcript.reading import conversation_transcript

__all__ = [
    "DECISION_NAMES",
    "HIDDEN_HUMAN_ROW",
    "HUMAN_SOURCES",
    "AnnotationEntry",
    "Badge",
    "Decision",
    "FinalLabelEntry",
    "Finding",
    "LabelSet",
    "ReplyLine",
    "Transcript",
    "TurnEntry",
    "TurnPart",
    "VerdictEntry",
    "conversation_transcript",
    "decision_row_display",
    "decisions_read",
    "final_label_entry",
    "final_label_people",
    "finding_parse",
    "reply_lines",
    "turn_parts",
]
