"""The organizers' admin for competitions and their list of rounds.

A started round's row in its competition's list is read-only: starting froze its settings and
everything that names it (competition/admin/rounds.py: round_started).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from competition.admin.rounds import round_started
from competition.competition_file.admin import CompetitionFileUploadMixin
from competition.models import Competition, Round
from config.admin_kit import PrettyJSONField
from teams.models import Bot, Side


class CompetitionForm(forms.ModelForm):
    class Meta:
        model = Competition
        fields = [
            "name",
            "slug",
            "description",
            "goals",
            "scoring_weights",
            "benign_prompts",
            "reference_defender",
            "default_conversations_per_pair",
            "default_max_turns",
            "default_call_timeout_seconds",
            "default_retries",
            "default_message_limit",
            "dataset_license",
            "registration",
        ]
        field_classes = dict.fromkeys(("goals", "scoring_weights", "benign_prompts"), PrettyJSONField)
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 12, "cols": 80}),
            "scoring_weights": forms.Textarea(attrs={"rows": 5, "cols": 80}),
            "benign_prompts": forms.Textarea(attrs={"rows": 8, "cols": 80}),
        }


class RoundInlineForm(forms.ModelForm):
    """A round in its competition's list: a started round's fields are shown, none can change."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if round_started(self.instance):
            for field in self.fields.values():
                field.disabled = True  # Django then keeps the stored value, whatever is posted


class RoundInlineFormSet(forms.BaseInlineFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if round_started(form.instance) and "DELETE" in form.fields:
            form.fields["DELETE"].disabled = True


class RoundInline(admin.TabularInline):
    """The competition's rounds; the schedule and the lifecycle are on each round's own page."""

    model = Round
    form = RoundInlineForm
    formset = RoundInlineFormSet
    extra = 0
    show_change_link = True
    fields = ["number", "name", "slug", "practice", "status"]
    readonly_fields = ["status"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Competition)
class CompetitionAdmin(CompetitionFileUploadMixin, admin.ModelAdmin):
    form = CompetitionForm
    list_display = ["name", "slug", "round_count", "created_at"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"
    inlines = [RoundInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "created_at"]}),
        ("Goals and scoring", {"fields": ["goals", "scoring_weights", "benign_prompts", "reference_defender"]}),
        ("Teams", {"fields": ["registration"]}),
        ("Datasets", {"fields": ["dataset_license"]}),
        (
            "Defaults for new rounds",
            {
                "fields": [
                    "default_conversations_per_pair",
                    "default_max_turns",
                    "default_call_timeout_seconds",
                    "default_retries",
                    "default_message_limit",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Competition]:
        return super().get_queryset(request).annotate(round_count=Count("rounds"))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "reference_defender":
            # The reference answers the benign probes like every defender (docs/scoring.md, "Defenders").
            kwargs["queryset"] = Bot.objects.filter(team__side=Side.DEFENDER).select_related("team")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Rounds", ordering="round_count")
    def round_count(self, competition: Competition) -> int:
        return competition.round_count
