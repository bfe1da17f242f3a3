"""The admin of judges: their config with credentials masked, their verdict counts, their last
accuracy, and the learned judges' models and training action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from config.admin_kit import PrettyJSONField, json_pre
from judging.judges.accuracy_admin import accuracy_html, accuracy_latest
from judging.judges.credentials import CREDENTIAL_KEYS
from judging.judges.learned.admin import LearnedJudgeAdminMixin
from judging.models import Judge

CREDENTIAL_MASK = "******** (stored; replace to change)"


def config_masked(config: Any) -> Any:
    """A judge's config with its credentials (LLM API key, HTTP signing secrets) replaced by a mask."""
    if not isinstance(config, dict):
        return config
    return {key: CREDENTIAL_MASK if key in CREDENTIAL_KEYS and value else value for key, value in config.items()}


class JudgeForm(forms.ModelForm):
    """Edits a judge's config with its credentials masked; a mask left in place keeps the stored value."""

    class Meta:
        model = Judge
        fields = ["competition", "name", "slug", "kind", "config", "version", "active"]
        field_classes = {"config": PrettyJSONField}
        widgets = {"config": forms.Textarea(attrs={"rows": 10, "cols": 80})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["config"] = config_masked(self.instance.config)

    def clean_config(self) -> Any:
        config = self.cleaned_data["config"]
        stored = self.instance.config if self.instance.pk is not None and isinstance(self.instance.config, dict) else {}
        if isinstance(config, dict):
            for key in CREDENTIAL_KEYS:
                if config.get(key) == CREDENTIAL_MASK:
                    config[key] = stored.get(key, "")
        return config


@admin.register(Judge)
class JudgeAdmin(LearnedJudgeAdminMixin, SimpleHistoryAdmin):
    form = JudgeForm
    list_display = ["name", "slug", "competition", "kind", "version", "active", "verdict_count"]
    list_filter = ["kind", "active", "competition"]
    search_fields = ["name", "slug", "competition__name"]
    list_select_related = ["competition"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["config_pretty", "created_at", "last_accuracy", "learned_models_text"]
    fields = [
        "competition",
        "name",
        "slug",
        "kind",
        "config",
        "version",
        "active",
        "created_at",
        "last_accuracy",
        "learned_models_text",
    ]
    actions = ["train_learned_judges"]

    def get_fields(self, request: HttpRequest, obj: Judge | None = None) -> list[str]:
        if self.has_change_permission(request, obj):
            return self.fields
        # Read-only viewers (annotators) would see the raw config, credentials included.
        return [("config_pretty" if name == "config" else name) for name in self.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Judge]:
        return super().get_queryset(request).annotate(verdict_count=Count("verdicts"))

    @admin.display(description="Config")
    def config_pretty(self, judge: Judge) -> str:
        return json_pre(config_masked(judge.config))

    @admin.display(description="Last accuracy measurement")
    def last_accuracy(self, judge: Judge) -> str:
        return accuracy_html(accuracy_latest(judge)) if judge.pk else "-"

    @admin.display(description="Verdicts", ordering="verdict_count")
    def verdict_count(self, judge: Judge) -> int:
        return judge.verdict_count
