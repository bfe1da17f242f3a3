"""What an export holds: the ExportSpec (shape, format, filters, split, de-duplication) and the
conversations it selects.

Filters on stored fields become a queryset (`conversations_selected`); filters on labels and
outcomes need each conversation's final labels and are applied to records (`record_kept`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from competition.models import Competition, Round
from conversations.models import Conversation
from judging.datasets.record_types import Outcome

SHAPES = ("conversations", "turns", "chat", "preference")
FORMATS = ("csv", "json", "jsonl", "xlsx")
# What each shape can be written as (issue 11): chat and preference are JSONL only.
SHAPE_FORMATS = {
    "conversations": ("csv", "json", "jsonl", "xlsx"),
    "turns": ("csv", "json", "jsonl"),
    "chat": ("jsonl",),
    "preference": ("jsonl",),
}
LABELS = ("malicious_assistance", "vulnerable_code", "refusal", "unsafe", "safe")
LABEL_SOURCES = ("any", "human")
DEDUP_MODES = ("none", "exact", "near")
# Undecided defender replies (neither decided safe nor unsafe) in chat and preference examples:
# "default" leaves them out of chat and keeps them in preference; "keep"; "leave_out".
UNDECIDED_MODES = ("default", "keep", "leave_out")
UNDECIDED_SHAPES = ("chat", "preference")
# Conversations that were played to an end; pending, running and cancelled ones are not data.
EXPORTED_STATUSES = (Conversation.Status.COMPLETED, Conversation.Status.FAILED)


class ExportSpecInvalid(ValueError):
    """An export asked for something impossible; the message says what."""


class ExportNothingMatched(ExportSpecInvalid):
    """The export would hold no row: refused, since a card without data files loads nowhere
    (``datasets.load_dataset`` fails on it). Nothing is written."""


@dataclass(frozen=True)
class ExportSpec:
    """Everything an export depends on. Two exports with equal specs over the same data are equal.

    - rounds: round slugs; empty means every round of the competition; practice rounds only when
      named or with include_practice.
    - outcomes: Outcome values kept (empty: all). labels: a conversation is kept when some reply's
      final label has one of these True ("unsafe": either unsafe label, "safe": decided safe).
    - label_source "human": only conversations whose every labelled reply was labelled by humans.
    - since/until: ISO datetimes on the conversation's creation.
    - split: train/validation/test ratios (summing to 1), assigned per conversation from `seed`.
    - dedup: "none", "exact" (identical text), "near" (exact, then MinHash at near_threshold).
    - anonymous: teams and bots get stable anonymous ids instead of their names.
    - safe_replacements (chat): add an example ending in a safe reply from another defender to the
      same attacker messages, wherever a reply was unsafe.
    - undecided (chat, preference): "leave_out" cuts each conversation before its first undecided
      defender reply (`record_decided_part`), so no example shows one, nor anything after it;
      "keep" keeps them (weight 0 in chat); "default" is leave_out for chat, keep for preference.
    """

    competition: str
    shape: str = "conversations"
    format: str = "jsonl"
    rounds: tuple[str, ...] = ()
    include_practice: bool = False
    include_excluded: bool = False
    outcomes: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    label_source: str = "any"
    since: str = ""
    until: str = ""
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    dedup: str = "near"
    near_threshold: float = 0.8
    anonymous: bool = True
    safe_replacements: bool = False
    undecided: str = "default"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        problems = []
        if self.shape not in SHAPES:
            problems.append(f"shape {self.shape!r} is not one of {', '.join(SHAPES)}")
        elif self.format not in SHAPE_FORMATS[self.shape]:
            problems.append(
                f"the {self.shape} shape is written as {', '.join(SHAPE_FORMATS[self.shape])}, not {self.format!r}"
            )
        problems += [
            f"outcome {value!r} is not one of {', '.join(Outcome.ALL)}"
            for value in self.outcomes
            if value not in Outcome.ALL
        ]
        problems += [
            f"label {value!r} is not one of {', '.join(LABELS)}" for value in self.labels if value not in LABELS
        ]
        if self.label_source not in LABEL_SOURCES:
            problems.append(f"label source {self.label_source!r} is not one of {', '.join(LABEL_SOURCES)}")
        if self.undecided not in UNDECIDED_MODES:
            problems.append(f"undecided {self.undecided!r} is not one of {', '.join(UNDECIDED_MODES)}")
        elif self.undecided == "leave_out" and self.shape not in UNDECIDED_SHAPES:
            problems.append(f"undecided replies are left out of {' and '.join(UNDECIDED_SHAPES)} only")
        if self.dedup not in DEDUP_MODES:
            problems.append(f"dedup {self.dedup!r} is not one of {', '.join(DEDUP_MODES)}")
        if not 0 < self.near_threshold <= 1:
            problems.append("near_threshold must be in (0, 1]")
        if len(self.split) != 3 or any(ratio < 0 for ratio in self.split) or abs(sum(self.split) - 1) > 1e-6:
            problems.append("split needs three ratios >= 0 (train, validation, test) that sum to 1")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value and _datetime(value) is None:
                problems.append(f"{name} {value!r} is not an ISO date or datetime")
        if problems:
            raise ExportSpecInvalid("; ".join(problems))

    def nothing_matched_note(self) -> str:
        """What to say when no conversation matched: the filters, and what they leave out unless asked."""
        left_out = []
        if not self.include_practice:
            left_out.append("practice rounds not named (ask with include practice / --include-practice)")
        if not self.include_excluded:
            left_out.append("excluded conversations (ask with include excluded / --include-excluded)")
        return "no conversation matched these filters" + (
            f"; left out unless asked: {'; '.join(left_out)}" if left_out else ""
        )

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExportSpec:
        """The spec of these values (as_json's, or a form's or command's options: keys that are not
        fields are ignored; `split` may be "0.8,0.1,0.1"). Raises ExportSpecInvalid."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        if isinstance(values.get("split"), str):
            values["split"] = split_ratios(values["split"])
        for key in ("rounds", "outcomes", "labels", "split"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    @property
    def undecided_left_out(self) -> bool:
        """Whether undecided defender replies are left out: asked, or by default for chat."""
        return self.undecided == "leave_out" or (self.undecided == "default" and self.shape == "chat")

    def filters_description(self) -> dict[str, Any]:
        """The filters in force, for the dataset card."""
        return {
            "rounds": list(self.rounds) or "all",
            "practice rounds": "included" if self.include_practice else "only when named",
            "excluded conversations": "included" if self.include_excluded else "left out",
            "outcomes": list(self.outcomes) or "all",
            "labels": list(self.labels) or "any",
            "label source": self.label_source,
            "since": self.since or "-",
            "until": self.until or "-",
            **(
                {"undecided replies": "left out" if self.undecided_left_out else "kept"}
                if self.shape in UNDECIDED_SHAPES
                else {}
            ),
        }


def split_ratios(text: str) -> tuple[float, ...]:
    """ "0.8,0.1,0.1" as numbers; ExportSpecInvalid when it is not numbers separated by commas."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ExportSpecInvalid(f"split {text!r}: three numbers separated by commas, e.g. 0.8,0.1,0.1") from None


def _datetime(value: str) -> datetime | None:
    parsed = parse_datetime(value) or parse_datetime(f"{value}T00:00:00+00:00")
    if parsed is not None and parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def conversations_selected(spec: ExportSpec) -> QuerySet[Conversation]:
    """The conversations the spec's stored-field filters keep (competition, rounds, practice,
    moderation, dates; finished conversations only). Raises ExportSpecInvalid for an unknown
    competition or round."""
    competition = Competition.objects.filter(slug=spec.competition).first()
    if competition is None:
        raise ExportSpecInvalid(f"no competition with slug {spec.competition!r}")
    # Practice matches are a team's private tries: never in a dataset, even by name.
    rounds = Round.objects.filter(competition=competition, kind=Round.Kind.ROUND)
    if spec.rounds:
        known = set(rounds.filter(slug__in=spec.rounds).values_list("slug", flat=True))
        missing = [slug for slug in spec.rounds if slug not in known]
        if missing:
            raise ExportSpecInvalid(f"competition {spec.competition!r} has no round {', '.join(map(repr, missing))}")
        rounds = rounds.filter(slug__in=spec.rounds)
    elif not spec.include_practice:
        rounds = rounds.filter(practice=False)
    queryset = Conversation.objects.filter(match__round__in=rounds, status__in=EXPORTED_STATUSES)
    if not spec.include_excluded:
        queryset = queryset.exclude(moderation=Conversation.Moderation.EXCLUDED)
    if spec.since:
        queryset = queryset.filter(created_at__gte=_datetime(spec.since))
    if spec.until:
        queryset = queryset.filter(created_at__lt=_datetime(spec.until))
    return queryset


def record_kept(spec: ExportSpec, record) -> bool:
    """Whether the record passes the label, outcome and label-source filters."""
    if spec.outcomes and record.outcome not in spec.outcomes:
        return False
    if not spec.labels and spec.label_source != "human":
        return True
    labels = [turn.label for turn in record.replies if turn.label is not None]
    if spec.labels:

        def has(label, name: str) -> bool:
            if name == "unsafe":
                return label.unsafe
            if name == "safe":
                return label.safe
            return bool(getattr(label, name))

        if not any(has(label, name) for label in labels for name in spec.labels):
            return False
    # "human": every labelled reply's final label came from people (and there is one).
    return spec.label_source != "human" or (bool(labels) and all(label.human for label in labels))


def reply_undecided(turn) -> bool:
    """A defender reply that is neither decided unsafe nor decided safe: no final label, or no
    unsafe label True and one of them undecided (None)."""
    label = turn.label
    return label is None or not (label.unsafe or label.safe)


def record_decided_part(record):
    """(the record cut before its first undecided defender reply, how many replies the cut left out).

    The record itself when every reply that arrived is decided; else a copy holding only the turns
    before that reply (its `replies` likewise; outcome and attack success stay the conversation's)."""
    for position, reply in enumerate(record.replies):
        if reply_undecided(reply):
            turns = [turn for turn in record.turns if turn.index < reply.index]
            return replace(record, turns=turns, replies=record.replies[:position]), len(record.replies) - position
    return record, 0
