"""The re-judge action of Transcripts and Rounds to judge: a page that asks for the judge (one of the
selection's competitions, or every active one) and whether to retry errors, names what will be
skipped and why, then queues through judging.services.rejudging and reports. What may be re-judged,
and the queueing, is the service's; this only asks and reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import ngettext

from competition.models import Round
from conversations.models import Conversation
from judging import services
from judging.models import Judge
from judging.services.rejudging import (
    CONVERSATION_RULE,
    JUDGEABLE_STATUS_NAMES,
    ROUND_RULE,
    RejudgeRefused,
    conversation_rejudge_skip_reason,
    conversations_rejudgeable,
    rejudge_judge_check,
    rejudge_judges,
    round_rejudge_skip_reason,
)

EVERY_ACTIVE_JUDGE = "every-active"
# How many selected objects the re-judge page names; the rest are counted.
SHOWN = 20


def judge_choice_label(judge: Judge) -> str:
    status = "" if judge.active else " (inactive)"
    return f"{judge.name} v{judge.version}: {judge.get_kind_display()}, {judge.competition.name}{status}"


class RejudgeForm(forms.Form):
    """A judge of the selection's competitions (or every active one) and whether to retry errors."""

    judge = forms.ChoiceField(label="Judge")
    retry_errors = forms.BooleanField(
        required=False,
        label="Retry errored verdicts",
        help_text="Also judge again the replies whose verdict at the judge's current version is an error; "
        "the error is replaced. Without it only replies with no verdict at that version are judged.",
    )

    def __init__(self, *args: Any, competition_ids: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.judges = {str(judge.pk): judge for judge in rejudge_judges(competition_ids=competition_ids)}
        self.competition_ids = competition_ids
        self.fields["judge"].choices = [
            (EVERY_ACTIVE_JUDGE, "Every active judge of the competition"),
            *((key, judge_choice_label(judge)) for key, judge in self.judges.items()),
        ]

    def clean_judge(self) -> Judge | None:
        value = self.cleaned_data["judge"]
        judge = None if value == EVERY_ACTIVE_JUDGE else self.judges[value]
        try:
            rejudge_judge_check(judge=judge, competition_ids=self.competition_ids)
        except RejudgeRefused as refusal:
            raise forms.ValidationError(str(refusal)) from None
        return judge


@dataclass(frozen=True)
class Selected:
    """One selected object as the re-judge page lists it; `skipped` says why nothing is queued for it."""

    name: str
    detail: str
    skipped: str = ""


def _rejudge_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    form: RejudgeForm,
    action: str,
    what: tuple[str, str],
    selected_pks: list[int],
    shown: list[Selected],
    skipped_count: int,
    skip_rule: str,
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Re-judge {len(selected_pks)} {what[0] if len(selected_pks) == 1 else what[1]}",
        "opts": model_admin.opts,
        "form": form,
        "action": action,
        "what": what[1],
        "selected": selected_pks,
        "shown": shown,
        "not_shown": max(len(selected_pks) - len(shown), 0),
        "skipped_count": skipped_count,
        "skip_rule": skip_rule,
        "judges_url": reverse("admin:judging_judge_changelist"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/judging/rejudge.html", context)


def _judge_text(judge: Judge | None, retry_errors: bool) -> str:
    who = f"{judge.name} v{judge.version}" if judge is not None else "every active judge"
    return who + (", retrying errored verdicts" if retry_errors else "")


def rounds_rejudge(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Round]
) -> TemplateResponse | None:
    """The rounds' re-judge action: ask for the judge, then services.rounds_rejudge.
    Rounds that are not judgeable are named, not queued."""
    rounds = list(queryset.select_related("competition").order_by("competition__name", "number"))
    competition_ids = {round_.competition_id for round_ in rounds}
    form = RejudgeForm(request.POST if "apply" in request.POST else None, competition_ids=competition_ids)
    if form.is_bound and form.is_valid():
        judge, retry_errors = form.cleaned_data["judge"], form.cleaned_data["retry_errors"]
        done = services.rounds_rejudge(rounds=rounds, judge=judge, retry_errors=retry_errors)
        if done.queued:
            model_admin.message_user(
                request,
                ngettext("Judging queued for %(n)d round", "Judging queued for %(n)d rounds", len(done.queued))
                % {"n": len(done.queued)}
                + f" with {_judge_text(judge, retry_errors)}: "
                + ", ".join(str(round_) for round_ in done.queued)
                + ". Replies already judged at the judge's current version keep their verdicts.",
                messages.SUCCESS,
            )
        if done.skipped:
            model_admin.message_user(
                request,
                f"Not queued ({ROUND_RULE}): "
                + ", ".join(f"{round_} ({round_.get_status_display()})" for round_ in done.skipped),
                messages.WARNING,
            )
        return None
    shown = [
        Selected(name=str(round_), detail=round_.get_status_display(), skipped=round_rejudge_skip_reason(round_))
        for round_ in rounds[:SHOWN]
    ]
    return _rejudge_page(
        model_admin,
        request,
        form=form,
        action="rejudge_rounds",
        what=("round", "rounds"),
        selected_pks=[round_.pk for round_ in rounds],
        shown=shown,
        skipped_count=sum(1 for round_ in rounds if round_rejudge_skip_reason(round_)),
        skip_rule=ROUND_RULE,
    )


def conversations_rejudge(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Conversation]
) -> TemplateResponse | None:
    """The transcripts' re-judge action: ask for the judge, then services.conversations_rejudge."""
    selected_pks = list(queryset.order_by("pk").values_list("pk", flat=True))
    selection = Conversation.objects.filter(pk__in=selected_pks)
    competition_ids = set(selection.values_list("match__round__competition_id", flat=True).distinct())
    form = RejudgeForm(request.POST if "apply" in request.POST else None, competition_ids=competition_ids)
    if form.is_bound and form.is_valid():
        judge, retry_errors = form.cleaned_data["judge"], form.cleaned_data["retry_errors"]
        done = services.conversations_rejudge(conversation_ids=selected_pks, judge=judge, retry_errors=retry_errors)
        if done.queued_ids:
            model_admin.message_user(
                request,
                ngettext(
                    "Judging queued for the replies of %(n)d conversation",
                    "Judging queued for the replies of %(n)d conversations",
                    len(done.queued_ids),
                )
                % {"n": len(done.queued_ids)}
                + f" with {_judge_text(judge, retry_errors)}. Replies already judged at the judge's current version "
                "keep their verdicts.",
                messages.SUCCESS,
            )
        if done.skipped_count:
            model_admin.message_user(
                request,
                ngettext(
                    "Not queued: %(n)d conversation that is not completed, is excluded, or whose round is not %(s)s.",
                    "Not queued: %(n)d conversations that are not completed, are excluded, "
                    "or whose round is not %(s)s.",
                    done.skipped_count,
                )
                % {"n": done.skipped_count, "s": JUDGEABLE_STATUS_NAMES},
                messages.WARNING,
            )
        return None
    shown = [
        Selected(
            name=str(conversation),
            detail=f"{conversation.match.round} · {conversation.match} · {conversation.goal_category}",
            skipped=conversation_rejudge_skip_reason(conversation),
        )
        for conversation in selection.select_related("match__round__competition").order_by("pk")[:SHOWN]
    ]
    return _rejudge_page(
        model_admin,
        request,
        form=form,
        action="rejudge_conversations",
        what=("conversation", "conversations"),
        selected_pks=selected_pks,
        shown=shown,
        skipped_count=len(selected_pks) - conversations_rejudgeable(selection).count(),
        skip_rule=CONVERSATION_RULE,
    )
