"""What an export holds: the ExportSpec (shape, format, filters, split, de-duplication) and the
conversations it selects.

Filters on stored fields become a queryset (`conversations_selected`); filters on labels and
outcomes need each conversation's final labels and are applied to records (`record_kept`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, QuerySet
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
SPLIT_RULE = "split needs three ratios >= 0 (train, validation, test) that sum to 1"
# Conversations that were played to an end; pending, running and cancelled ones are not data.
EXPORTED_STATUSES = (Conversation.Status.COMPLETED, Conversation.Status.FAILED)


class ExportSpecInvalid(ValueError):
    """An export asked for something impossible; the message says what.

    `problems`: (field, text) pairs, every problem found, in the spec's field order ("" for a problem
    of no one field); the message is their texts joined by "; "."""

    def __init__(self, message: str = "", *, problems: list[tuple[str, str]] | None = None) -> None:
        self.problems = problems if problems is not None else [("", message)]
        super().__init__("; ".join(text for _, text in self.problems))


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
        problems = self.problems()
        if problems:
            raise ExportSpecInvalid(problems=problems)

    def problems(self) -> list[tuple[str, str]]:
        """Every impossible value of the spec as (field, text), in field order."""
        problems: list[tuple[str, str]] = []
        if self.shape not in SHAPES:
            problems.append(("shape", f"shape {self.shape!r} is not one of {', '.join(SHAPES)}"))
        elif self.format not in SHAPE_FORMATS[self.shape]:
            written = ", ".join(SHAPE_FORMATS[self.shape])
            problems.append(("format", f"the {self.shape} shape is written as {written}, not {self.format!r}"))
        problems += [
            ("outcomes", f"outcome {value!r} is not one of {', '.join(Outcome.ALL)}")
            for value in self.outcomes
            if value not in Outcome.ALL
        ]
        problems += [
            ("labels", f"label {value!r} is not one of {', '.join(LABELS)}")
            for value in self.labels
            if value not in LABELS
        ]
        if self.label_source not in LABEL_SOURCES:
            problems.append(
                ("label_source", f"label source {self.label_source!r} is not one of {', '.join(LABEL_SOURCES)}")
            )
        for name in ("since", "until"):
            value = getattr(self, name)
            if value and _datetime(value) is None:
                problems.append((name, f"{name} {value!r} is not an ISO date or datetime"))
        if len(self.split) != 3 or any(ratio < 0 for ratio in self.split) or abs(sum(self.split) - 1) > 1e-6:
            problems.append(("split", SPLIT_RULE))
        if self.dedup not in DEDUP_MODES:
            problems.append(("dedup", f"dedup {self.dedup!r} is not one of {', '.join(DEDUP_MODES)}"))
        if not 0 < self.near_threshold <= 1:
            problems.append(("near_threshold", "near_threshold must be in (0, 1]"))
        if self.undecided not in UNDECIDED_MODES:
            problems.append(("undecided", f"undecided {self.undecided!r} is not one of {', '.join(UNDECIDED_MODES)}"))
        elif self.undecided == "leave_out" and self.shape not in UNDECIDED_SHAPES:
            problems.append(("undecided", f"undecided replies are left out of {' and '.join(UNDECIDED_SHAPES)} only"))
        return problems

    def nothing_matched_note(self, left_out: Sequence[LeftOut] = ()) -> str:
        """What to say when no conversation matched: the filters, and what they left out unless asked
        (`left_out`, from selection_left_out), with how to ask for it."""
        note = "no conversation matched these filters"
        if left_out:
            note += "; left out unless asked: " + "; ".join(f"{item} ({item.ask})" for item in left_out)
        return note

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
        unreadable: list[tuple[str, str]] = []
        if isinstance(values.get("split"), str):
            try:
                values["split"] = split_ratios(values["split"])
            except ExportSpecInvalid as exc:
                # Checked with the default split, so every other problem is reported with this one.
                unreadable = exc.problems
                del values["split"]
        for key in ("rounds", "outcomes", "labels", "split"):
            if key in values:
                values[key] = tuple(values[key])
        try:
            spec = cls(**values)
        except ExportSpecInvalid as exc:
            order = [f.name for f in fields(cls)]
            problems = sorted(unreadable + exc.problems, key=lambda problem: order.index(problem[0]))
            raise ExportSpecInvalid(problems=problems) from None
        if unreadable:
            raise ExportSpecInvalid(problems=unreadable)
        return spec

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
        raise ExportSpecInvalid(
            problems=[("split", f"split {text!r}: three numbers separated by commas, e.g. 0.8,0.1,0.1")]
        ) from None


def _datetime(value: str) -> datetime | None:
    try:
        parsed = parse_datetime(value) or parse_datetime(f"{value}T00:00:00+00:00")
    except ValueError:  # well formed but no such date, such as 2026-13-45
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def conversations_selected(spec: ExportSpec) -> QuerySet[Conversation]:
    """The conversations the spec's stored-field filters keep (competition, rounds, practice,
    moderation, dates; finished conversations only). Raises ExportSpecInvalid for an unknown
    competition or round."""
    competition = Competition.objects.filter(slug=spec.competition).first()
    if competition is None:
        raise ExportSpecInvalid(problems=[("competition", f"no competition with slug {spec.competition!r}")])
    # Practice matches are a team's private tries: never in a dataset, even by name.
    rounds = Round.objects.filter(competition=competition, kind=Round.Kind.ROUND)
    if spec.rounds:
        known = set(rounds.filter(slug__in=spec.rounds).values_list("slug", flat=True))
        missing = [slug for slug in spec.rounds if slug not in known]
        if missing:
            raise ExportSpecInvalid(
                problems=[("rounds", f"competition {spec.competition!r} has no round {', '.join(map(repr, missing))}")]
            )
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


@dataclass(frozen=True)
class LeftOut:
    """Finished conversations a spec leaves out unless asked: those of the practice rounds it does not
    name, or those a moderator excluded. `rounds`: (name, conversations) of each practice round."""

    what: str
    conversations: int
    ask: str
    rounds: tuple[tuple[str, int], ...] = ()

    def __str__(self) -> str:
        count = f"{self.conversations} finished conversation{'' if self.conversations == 1 else 's'}"
        names = f" ({', '.join(name for name, _ in self.rounds)})" if self.rounds else ""
        return f"{self.what}: {count}{names}"


def selection_left_out(spec: ExportSpec) -> list[LeftOut]:
    """What the spec leaves out unless asked, within its other stored-field filters (dates, rounds):
    the practice rounds' finished conversations (when it names no round and does not include
    practice) and the excluded ones; only what holds a conversation. Raises ExportSpecInvalid as
    conversations_selected does."""
    left_out = []
    if not spec.rounds and not spec.include_practice:
        practice = (
            conversations_selected(replace(spec, include_practice=True))
            .filter(match__round__practice=True)
            .values_list("match__round__number", "match__round__name")
            .annotate(n=Count("pk"))
            .order_by("match__round__number")
        )
        rounds = tuple((name, n) for _, name, n in practice)
        if rounds:
            ask = "ask with include practice / --include-practice, or name the rounds"
            left_out.append(LeftOut("practice rounds", sum(n for _, n in rounds), ask, rounds))
    if not spec.include_excluded:
        excluded = (
            conversations_selected(replace(spec, include_excluded=True))
            .filter(moderation=Conversation.Moderation.EXCLUDED)
            .count()
        )
        if excluded:
            left_out.append(
                LeftOut("excluded conversations", excluded, "ask with include excluded / --include-excluded")
            )
    return left_out


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
