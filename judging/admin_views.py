"""Admin pages of judging that live on other apps' admins: a conversation's transcript, and
re-judging rounds or conversations with a chosen judge.

The conversation and round admins own the URLs and actions and call these; here is what they show
and what they queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django_q.tasks import async_task

from competition.models import Round
from conversations.models import Conversation
from judging.admin import annotations_visible_all
from judging.models import Judge
from judging.selectors import JUDGEABLE_ROUND_STATUSES
from judging.transcript import conversation_transcript

EVERY_ACTIVE_JUDGE = "every-active"
# How many selected objects the re-judge page names; the rest are counted.
SHOWN = 20
_STATUS_NAMES = [str(Round.Status(status).label).lower() for status in JUDGEABLE_ROUND_STATUSES]
JUDGEABLE_STATUS_NAMES = ", ".join(_STATUS_NAMES[:-1]) + " or " + _STATUS_NAMES[-1]


# --- transcript ------------------------------------------------------------------------------------


def transcript_response(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """The transcript page of a conversation, for anyone who may view it in the admin.

    Human annotations (and final labels that humans decided) are shown only to holders of
    ``judging.view_all_annotations``: annotators label blind.
    """
    conversation = model_admin.get_object(request, unquote(object_id))
    if conversation is None:
        raise Http404("No such conversation.")
    if not model_admin.has_view_permission(request, conversation):
        raise PermissionDenied
    include_human_labels = annotations_visible_all(request.user)
    search = urlencode({"q": str(conversation.uuid)})
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Transcript of conversation {str(conversation.uuid)[:8]}",
        "subtitle": str(conversation),
        "opts": model_admin.opts,
        "original": conversation,
        "has_change_permission": model_admin.has_change_permission(request, conversation),
        "transcript": conversation_transcript(
            conversation_id=conversation.pk, include_human_labels=include_human_labels
        ),
        "verdicts_url": f"{reverse('admin:judging_verdict_changelist')}?{search}"
        if request.user.has_perm("judging.view_verdict")
        else "",
        "annotations_url": f"{reverse('admin:judging_annotation_changelist')}?{search}"
        if include_human_labels and request.user.has_perm("judging.view_annotation")
        else "",
    }
    return TemplateResponse(request, "admin/conversations/conversation/transcript.html", context)


# --- re-judging ------------------------------------------------------------------------------------


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

    def __init__(self, *args: Any, judges: list[Judge], competition_ids: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.judges = {str(judge.pk): judge for judge in judges}
        self.competition_ids = competition_ids
        self.fields["judge"].choices = [
            (EVERY_ACTIVE_JUDGE, "Every active judge of the competition"),
            *((key, judge_choice_label(judge)) for key, judge in self.judges.items()),
        ]

    def clean_judge(self) -> Judge | None:
        value = self.cleaned_data["judge"]
        if value == EVERY_ACTIVE_JUDGE:
            return None
        judge = self.judges[value]
        if not judge.active:
            raise forms.ValidationError(
                f"{judge} is inactive: the final label does not hear inactive judges and the judging tasks "
                "skip them. Activate it on its page first."
            )
        if self.competition_ids - {judge.competition_id}:
            raise forms.ValidationError(
                f"{judge} judges only {judge.competition.name}, and the selection holds other competitions: "
                "choose every active judge, or select one competition's objects."
            )
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
    what: str,
    selected_pks: list[int],
    shown: list[Selected],
    skipped_count: int,
    skip_rule: str,
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Re-judge {len(selected_pks)} {what}",
        "opts": model_admin.opts,
        "form": form,
        "action": action,
        "what": what,
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


def _judges_of(competition_ids: set[int]) -> list[Judge]:
    return list(
        Judge.objects.filter(competition_id__in=competition_ids)
        .select_related("competition")
        .order_by("competition__name", "name", "pk")
    )


def rounds_rejudge(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Round]
) -> TemplateResponse | None:
    """The round admin's re-judge action: ask for the judge, then queue `round_judge_task` per round
    (after the request's transaction commits). Rounds that are not judgeable are named, not queued."""
    rounds = list(queryset.select_related("competition").order_by("competition__name", "number"))
    competition_ids = {round_.competition_id for round_ in rounds}
    form = RejudgeForm(
        request.POST if "apply" in request.POST else None,
        judges=_judges_of(competition_ids),
        competition_ids=competition_ids,
    )
    judgeable = [round_ for round_ in rounds if round_.status in JUDGEABLE_ROUND_STATUSES]
    skipped = [round_ for round_ in rounds if round_.status not in JUDGEABLE_ROUND_STATUSES]
    if form.is_bound and form.is_valid():
        judge, retry_errors = form.cleaned_data["judge"], form.cleaned_data["retry_errors"]
        for round_ in judgeable:
            transaction.on_commit(
                partial(
                    async_task,
                    "judging.tasks.round_judge_task",
                    round_.pk,
                    judge.pk if judge is not None else None,
                    retry_errors,
                    group=f"judging-round-{round_.pk}",
                )
            )
        if judgeable:
            model_admin.message_user(
                request,
                f"Judging queued for {len(judgeable)} round(s) with {_judge_text(judge, retry_errors)}: "
                + ", ".join(str(round_) for round_ in judgeable)
                + ". Replies already judged at the judge's current version keep their verdicts.",
                messages.SUCCESS,
            )
        if skipped:
            model_admin.message_user(
                request,
                f"Not queued (only rounds that are {JUDGEABLE_STATUS_NAMES} are judged): "
                + ", ".join(f"{round_} ({round_.get_status_display()})" for round_ in skipped),
                messages.WARNING,
            )
        return None
    shown = [
        Selected(
            name=str(round_),
            detail=round_.get_status_display(),
            skipped="" if round_.status in JUDGEABLE_ROUND_STATUSES else "not judged in this state",
        )
        for round_ in rounds[:SHOWN]
    ]
    return _rejudge_page(
        model_admin,
        request,
        form=form,
        action="rejudge_rounds",
        what="round(s)",
        selected_pks=[round_.pk for round_ in rounds],
        shown=shown,
        skipped_count=len(skipped),
        skip_rule=f"only rounds that are {JUDGEABLE_STATUS_NAMES} are judged",
    )


def conversations_judgeable(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """The conversations of `queryset` whose replies can be judged: completed, not excluded, in a
    round that is judging, scored or published."""
    return queryset.filter(
        status=Conversation.Status.COMPLETED, match__round__status__in=JUDGEABLE_ROUND_STATUSES
    ).exclude(moderation=Conversation.Moderation.EXCLUDED)


def _conversation_skip_reason(conversation: Conversation) -> str:
    if conversation.status != Conversation.Status.COMPLETED:
        return f"{conversation.get_status_display().lower()}, not completed"
    if conversation.moderation == Conversation.Moderation.EXCLUDED:
        return "excluded by a moderator"
    if conversation.match.round.status not in JUDGEABLE_ROUND_STATUSES:
        return f"its round is {conversation.match.round.get_status_display().lower()}"
    return ""


def conversations_rejudge(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Conversation]
) -> TemplateResponse | None:
    """The conversation admin's re-judge action: ask for the judge, then queue one
    `conversations_rejudge_task` for the judgeable conversations of the selection (after commit)."""
    selected_pks = list(queryset.order_by("pk").values_list("pk", flat=True))
    selection = Conversation.objects.filter(pk__in=selected_pks)
    competition_ids = set(selection.values_list("match__round__competition_id", flat=True).distinct())
    form = RejudgeForm(
        request.POST if "apply" in request.POST else None,
        judges=_judges_of(competition_ids),
        competition_ids=competition_ids,
    )
    judgeable_pks = list(conversations_judgeable(selection).order_by("pk").values_list("pk", flat=True))
    skipped_count = len(selected_pks) - len(judgeable_pks)
    if form.is_bound and form.is_valid():
        judge, retry_errors = form.cleaned_data["judge"], form.cleaned_data["retry_errors"]
        if judgeable_pks:
            transaction.on_commit(
                partial(
                    async_task,
                    "judging.tasks.conversations_rejudge_task",
                    judgeable_pks,
                    judge.pk if judge is not None else None,
                    retry_errors,
                )
            )
            model_admin.message_user(
                request,
                f"Judging queued for the replies of {len(judgeable_pks)} conversation(s) with "
                f"{_judge_text(judge, retry_errors)}. Replies already judged at the judge's current version "
                "keep their verdicts.",
                messages.SUCCESS,
            )
        if skipped_count:
            model_admin.message_user(
                request,
                f"Not queued: {skipped_count} conversation(s) that are not completed, are excluded, or whose round "
                f"is not {JUDGEABLE_STATUS_NAMES}.",
                messages.WARNING,
            )
        return None
    shown = [
        Selected(
            name=str(conversation),
            detail=f"{conversation.match.round} · {conversation.match} · {conversation.goal_category}",
            skipped=_conversation_skip_reason(conversation),
        )
        for conversation in selection.select_related("match__round__competition").order_by("pk")[:SHOWN]
    ]
    return _rejudge_page(
        model_admin,
        request,
        form=form,
        action="rejudge_conversations",
        what="conversation(s)",
        selected_pks=selected_pks,
        shown=shown,
        skipped_count=skipped_count,
        skip_rule=f"only completed, non-excluded conversations of rounds that are {JUDGEABLE_STATUS_NAMES} are judged",
    )
