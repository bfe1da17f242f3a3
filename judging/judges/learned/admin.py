"""The learned judge on the Judge admin page: the training action and the trained models."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from judging.judges.learned.services import learned_judges_train
from judging.models import Judge


class LearnedJudgeAdminMixin:
    """For JudgeAdmin: the action that queues training runs, and the list of a judge's trained models."""

    @admin.action(
        description="Train the selected learned judges (a new version each, unless worse)", permissions=["change"]
    )
    def train_learned_judges(self, request: HttpRequest, queryset: QuerySet[Judge]) -> None:
        queued = learned_judges_train(judges=queryset, user=request.user)
        skipped = queryset.count() - len(queued)
        self.message_user(
            request,
            f"Training queued for {len(queued)} learned judge(s); each becomes a new version unless its "
            f"cross-validated figures are worse than the active model's (see its page when done)."
            + (f" {skipped} judge(s) of another kind left alone." if skipped else ""),
            level=messages.SUCCESS if queued else messages.WARNING,
        )

    @admin.display(description="Trained models")
    def learned_models_text(self, judge: Judge) -> str:
        rows = list(judge.learned_models.order_by("-version")[:10]) if judge.pk else []
        if not rows:
            return "none (a learned judge uses the shipped seed model)" if judge.kind == Judge.Kind.LEARNED else "-"
        return format_html_join(
            "\n",
            "<div>v{} {} ({}): {}</div>",
            (
                (
                    row.version,
                    row.digest[:12],
                    row.created_at.date(),
                    "; ".join(
                        f"{label} P {figure.get('precision')} R {figure.get('recall')}"
                        for label, figure in (row.figures.get("cross_validation") or {}).items()
                    ),
                )
                for row in rows
            ),
        )
