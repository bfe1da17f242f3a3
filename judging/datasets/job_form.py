"""The form of a new export job (judging/datasets/job_admin.py): the ExportSpec's fields, the rounds
ticked from the competitions' rounds, and every problem reported at once, each on its field.

An export that would hold no conversation is refused here, saying why (what the rounds chosen hold,
and what is left out unless asked), rather than failing in the background after the organizer left.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.text import capfirst

from competition.models import Competition, Round
from judging.datasets.filters import (
    DEDUP_MODES,
    EXPORTED_STATUSES,
    FORMATS,
    LABEL_SOURCES,
    LABELS,
    SHAPES,
    ExportSpec,
    ExportSpecInvalid,
    LeftOut,
    conversations_selected,
    selection_left_out,
)
from judging.datasets.models import ExportJob
from judging.datasets.record_types import Outcome

# What decides which conversations an export reads: when these are valid, an empty selection is
# reported with the form's other problems.
SELECTION_FIELDS = ("competition", "rounds", "include_practice", "include_excluded", "since", "until")


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value.replace("_", " ")) for value in values]


def _conversations(n: int) -> str:
    return f"{n} finished conversation{'' if n == 1 else 's'}"


def exportable_rounds() -> QuerySet[Round]:
    """Every competition's rounds that datasets hold (never a team's practice match), with
    `finished`: their finished conversations."""
    finished = Q(matches__conversations__status__in=EXPORTED_STATUSES)
    return (
        Round.objects.filter(kind=Round.Kind.ROUND)
        .select_related("competition")
        .annotate(finished=Count("matches__conversations", filter=finished))
        .order_by("competition__name", "competition_id", "number")
    )


def round_choice_label(round_: Round) -> str:
    """'Warm-up (practice round; 2 finished conversations)': what ticking the round brings."""
    kind = "practice round" if round_.practice else "tournament round"
    held = _conversations(round_.finished) if round_.finished else "no finished conversation yet"
    return f"{round_.name} ({kind}; {held})"


class ExportJobForm(forms.ModelForm):
    """A new export: the ExportSpec's fields; `spec` is built (and checked) in clean()."""

    rounds = forms.ModelMultipleChoiceField(
        queryset=Round.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every tournament round of the competition (practice rounds only when ticked "
        "or with Include practice rounds)",
    )
    shape = forms.ChoiceField(choices=_choices(SHAPES), initial="chat")
    format = forms.ChoiceField(choices=_choices(FORMATS), initial="jsonl", help_text="chat and preference: jsonl")
    include_practice = forms.BooleanField(
        label="Include practice rounds", required=False, help_text="Also the practice rounds not ticked above"
    )
    include_excluded = forms.BooleanField(
        label="Include excluded conversations", required=False, help_text="Also conversations a moderator excluded"
    )
    outcomes = forms.MultipleChoiceField(
        choices=_choices(Outcome.ALL), required=False, widget=forms.CheckboxSelectMultiple, help_text="None: all"
    )
    labels = forms.MultipleChoiceField(
        choices=_choices(LABELS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Keep conversations with a reply so labelled; none: all",
    )
    label_source = forms.ChoiceField(choices=_choices(LABEL_SOURCES), initial="any")
    since = forms.DateTimeField(required=False, help_text="Conversations created at or after")
    until = forms.DateTimeField(required=False, help_text="Conversations created before")
    split = forms.CharField(initial="0.8,0.1,0.1", help_text="train,validation,test ratios")
    seed = forms.IntegerField(initial=0)
    dedup = forms.ChoiceField(choices=_choices(DEDUP_MODES), initial="near")
    near_threshold = forms.FloatField(initial=0.8, min_value=0.01, max_value=1)
    anonymous = forms.BooleanField(required=False, help_text="Stable anonymous ids instead of team and bot names")
    safe_replacements = forms.BooleanField(required=False, help_text="chat: add safe replies to unsafe contexts")
    undecided = forms.ChoiceField(
        choices=[
            ("default", "default: left out of chat, kept in preference"),
            ("leave_out", "leave out"),
            ("keep", "keep"),
        ],
        initial="default",
        required=False,
        help_text="Defender replies neither decided safe nor unsafe: leaving them out cuts each conversation "
        "before its first one (chat and preference only)",
    )

    class Meta:
        model = ExportJob
        fields = ["competition"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["anonymous"].initial = settings.ARENA_DATASET_ANONYMOUS
        rounds = list(exportable_rounds())
        field = self.fields["rounds"]
        field.queryset = exportable_rounds()
        # Grouped under their competition's name; the field checks the ticked ids against its queryset.
        groups: dict[str, list[tuple[int, str]]] = {}
        for round_ in rounds:
            groups.setdefault(round_.competition.name, []).append((round_.pk, round_choice_label(round_)))
        field.widget.choices = list(groups.items())
        competitions = {round_.competition_id for round_ in rounds}
        if not self.is_bound and len(competitions) == 1 and "competition" not in self.initial:
            self.initial["competition"] = competitions.pop()
        self.spec: ExportSpec | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        competition: Competition | None = data.get("competition")
        if competition is None:
            return data
        others = [round_ for round_ in data.get("rounds") or () if round_.competition_id != competition.pk]
        for round_ in others:
            self.add_error("rounds", f"{round_.competition.name} · {round_.name} is not a round of {competition.name}.")
        # Every field that is valid goes into the spec (the others keep its defaults), so the spec's
        # problems are reported with the fields' own.
        values = {name: data[name] for name in self.fields if name in data and name not in SELECTION_FIELDS}
        values |= self._selection_values(data, competition)
        try:
            self.spec = ExportSpec.from_json(values)
        except ExportSpecInvalid as exc:
            for name, text in exc.problems:
                self.add_error(name if name in self.fields else None, f"{capfirst(text)}.")
        if not any(name in self.errors for name in SELECTION_FIELDS):
            selection = ExportSpec.from_json(self._selection_values(data, competition))
            if not conversations_selected(selection).exists():
                self.add_error(None, nothing_to_export(selection, competition=competition, rounds=data["rounds"]))
        return data

    @staticmethod
    def _selection_values(data: dict[str, Any], competition: Competition) -> dict[str, Any]:
        return {
            "competition": competition.slug,
            "rounds": [round_.slug for round_ in data.get("rounds") or () if round_.competition_id == competition.pk],
            "include_practice": data.get("include_practice", False),
            "include_excluded": data.get("include_excluded", False),
            "since": data["since"].isoformat() if data.get("since") else "",
            "until": data["until"].isoformat() if data.get("until") else "",
            "undecided": data.get("undecided") or "default",
        }


def _left_out_advice(item: LeftOut) -> str:
    if item.rounds:
        held = ", ".join(f"{name} has {_conversations(n)}" for name, n in item.rounds)
        them = "it" if len(item.rounds) == 1 else "them"
        return (
            f"Practice rounds are left out unless asked: {held}: tick {them} under Rounds, "
            "or tick Include practice rounds."
        )
    return (
        f"Excluded conversations are left out unless asked: {_conversations(item.conversations)}: "
        "tick Include excluded conversations."
    )


def nothing_to_export(selection: ExportSpec, *, competition: Competition, rounds: list[Round]) -> str:
    """Why `selection` (a spec of stored-field filters only) holds no conversation, and what would."""
    if selection.rounds:
        scope = f"the rounds ticked ({', '.join(round_.name for round_ in rounds)}) have"
    elif selection.include_practice:
        scope = f"the rounds of {competition.name} have"
    else:
        scope = f"the tournament rounds of {competition.name} have"
    dates = " created in the dates chosen" if selection.since or selection.until else ""
    advice = [_left_out_advice(item) for item in selection_left_out(selection)]
    return " ".join([f"Nothing to export: {scope} no finished conversation{dates}.", *advice])
