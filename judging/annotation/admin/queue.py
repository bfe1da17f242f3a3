"""The annotator's queue in the admin: their assignments (with their past labels to revise) and the
page that labels one defender reply; and "annotate this reply" for organizers.

Blind: the label page shows the reply in its conversation, the goal and the reply's code with line
numbers; never another human's label, never a final label humans decided, and the judges' verdicts
only when the campaign allows it. An annotator opens only their own assignments (403 otherwise).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from conversations.models import Turn
from judging.annotation import selectors as campaign_selectors
from judging.annotation.forms import LabelFileForm, LabelForm
from judging.annotation.services.campaigns import assignment_skip, assignments_reassign_selected
from judging.annotation.services.offline import FORMATS, campaign_labels_export, campaign_labels_import
from judging.models import Annotation, AnnotationCampaign, Assignment
from judging.reading.admin import transcript_url
from judging.reading.transcript import conversation_transcript
from judging.selectors import annotations_visible_all
from judging.services.annotations import annotation_submit
from teams.models import Side


def reply_context(*, turn: Turn, show_judges: bool) -> dict[str, Any]:
    """What the label page shows of a reply: the goal, the turns up to it (their text in parts,
    judging/transcript_parts.html), its numbered lines, and (only with `show_judges`) the judges'
    verdicts and their findings at their lines. Human labels and final labels are left out."""
    transcript = conversation_transcript(conversation_id=turn.conversation_id, include_human_labels=False)
    turns = [entry for entry in transcript.turns if entry.index <= turn.index]
    if not show_judges:
        # Taken out of the data rather than the template, so no markup can show what a judge found.
        turns = [entry.without_judges() for entry in turns]
    reply = next(entry for entry in turns if entry.pk == turn.pk)
    return {
        "goal_category": transcript.goal_category,
        "goal_target": transcript.goal_target,
        "earlier_turns": [entry for entry in turns if entry.pk != turn.pk],
        "reply": reply,
        "verdicts": reply.verdicts,
        "show_judges": show_judges,
        "short_id": transcript.uuid[:8],
    }


def campaign_not_open_reason(campaign: AnnotationCampaign) -> str:
    """Why labels cannot go into a campaign that is not open, in the organizer's words."""
    if campaign.status == AnnotationCampaign.Status.DRAFT:
        return "the campaign is a draft: build it first (select it in the campaigns list and run “Build”)"
    return "the campaign is closed: its labels can no longer change"


def label_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    turn: Turn,
    form: LabelForm,
    title: str,
    show_judges: bool,
    **extra: Any,
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "form": form,
        "turn": turn,
        "queue_url": reverse("admin:judging_assignment_changelist"),
        **reply_context(turn=turn, show_judges=show_judges),
        **extra,
    }
    return TemplateResponse(request, "admin/judging/label.html", context)


class AssignmentAdmin(admin.ModelAdmin):
    """The queue: an annotator lists only their own assignments, labels the next one, revises a past
    one; organizers list every assignment (who has what, how far)."""

    list_display = ["item_position", "campaign", "status", "done_at", "label_link"]
    list_filter = ["status", "item__campaign"]
    list_select_related = ["item__campaign", "item__turn__conversation", "annotator"]
    search_fields = ["^item__turn__conversation__uuid", "item__campaign__name"]
    ordering = ["item__campaign", "item__position"]
    actions = ["reassign_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        queryset = super().get_queryset(request)
        if annotations_visible_all(request.user):
            return queryset
        return queryset.filter(annotator=request.user).exclude(status=Assignment.Status.REASSIGNED)

    def get_list_display(self, request: HttpRequest) -> list[str]:
        if annotations_visible_all(request.user):
            return ["item_position", "campaign", "annotator", "status", "done_at", "conversation"]
        return self.list_display

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not annotations_visible_all(request.user) or not request.user.has_perm("judging.change_assignment"):
            actions.pop("reassign_selected", None)
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # campaigns assign (AnnotationCampaign admin: build, reassign)

    def has_change_permission(self, request: HttpRequest, obj: Assignment | None = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Assignment | None = None) -> bool:
        return False  # nothing of the audit is deleted; a reassigned assignment keeps its row

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        campaigns = [
            {
                "campaign": campaign,
                "progress": campaign_selectors.annotator_progress(annotator=request.user, campaign=campaign),
                "next_url": reverse("admin:judging_assignment_next", args=[campaign.pk]),
                "csv_url": reverse("admin:judging_assignment_file_export", args=[campaign.pk, "csv"]),
                "json_url": reverse("admin:judging_assignment_file_export", args=[campaign.pk, "json"]),
                "import_url": reverse("admin:judging_assignment_file_import", args=[campaign.pk]),
            }
            for campaign in campaign_selectors.campaigns_of(annotator=request.user)
        ]
        extra_context = {**(extra_context or {}), "my_campaigns": campaigns}
        return super().changelist_view(request, extra_context)

    @admin.display(description="Item", ordering="item__position")
    def item_position(self, assignment: Assignment) -> str:
        return f"{assignment.item.position + 1}"

    @admin.display(description="Campaign", ordering="item__campaign__name")
    def campaign(self, assignment: Assignment) -> str:
        return str(assignment.item.campaign)

    @admin.display(description="Conversation")
    def conversation(self, assignment: Assignment) -> str:
        return str(assignment.item.turn.conversation.uuid)[:8]

    @admin.display(description="Label")
    def label_link(self, assignment: Assignment) -> str:
        if assignment.item.campaign.status != AnnotationCampaign.Status.OPEN:
            return "campaign closed"
        url = reverse("admin:judging_assignment_label", args=[assignment.pk])
        return format_html('<a href="{}">{}</a>', url, "Revise" if assignment.status == "done" else "Label")

    @admin.action(description="Hand the selected open items to other annotators", permissions=["change"])
    def reassign_selected(self, request: HttpRequest, queryset: QuerySet[Assignment]) -> None:
        report = assignments_reassign_selected(assignments=queryset)
        self.message_user(
            request,
            f"{report.made} new assignment(s) made"
            + (f"; {report.short_items} item(s) lack an annotator who never had them" if report.short_items else ""),
            messages.WARNING if report.short_items else messages.SUCCESS,
        )

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("next/<int:campaign_id>/", wrap(self.next_view), name="judging_assignment_next"),
            path("<int:assignment_id>/label/", wrap(self.label_view), name="judging_assignment_label"),
            path("reply/<int:turn_id>/", wrap(self.reply_view), name="judging_assignment_reply"),
            path(
                "file/<int:campaign_id>/<str:file_format>/",
                wrap(self.file_export_view),
                name="judging_assignment_file_export",
            ),
            path("file/<int:campaign_id>/", wrap(self.file_import_view), name="judging_assignment_file_import"),
            *super().get_urls(),
        ]

    def next_view(self, request: HttpRequest, campaign_id: int) -> HttpResponse:
        """Open the annotator's next item of a campaign, or back to the queue when none is left."""
        campaign = get_object_or_404(AnnotationCampaign, pk=campaign_id)
        assignment = campaign_selectors.assignment_next(annotator=request.user, campaign=campaign)
        if assignment is None:
            self.message_user(request, f"Nothing left to label in {campaign}. Thank you!", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:judging_assignment_changelist"))
        return HttpResponseRedirect(reverse("admin:judging_assignment_label", args=[assignment.pk]))

    def label_view(self, request: HttpRequest, assignment_id: int) -> HttpResponse:
        """Label (or revise the label of) one of the signed-in annotator's own assignments."""
        assignment = Assignment.objects.filter(pk=assignment_id).select_related("item__campaign", "item__turn").first()
        if assignment is None:
            raise Http404("No such assignment.")
        campaign, turn = assignment.item.campaign, assignment.item.turn
        if (
            assignment.annotator_id != request.user.pk
            or assignment.status == Assignment.Status.REASSIGNED
            or not request.user.has_perm("judging.add_annotation")
        ):
            raise PermissionDenied
        if campaign.status != AnnotationCampaign.Status.OPEN:
            raise PermissionDenied(campaign_not_open_reason(campaign))
        mine = Annotation.objects.filter(turn=turn, annotator=request.user, adjudication=False).first()
        if request.method == "POST" and "skip" in request.POST:
            assignment_skip(assignment=assignment)
            number = campaign_selectors.annotator_progress(
                annotator=request.user, campaign=campaign, assignment=assignment
            ).position
            self.message_user(
                request,
                f"Item {number} skipped: it comes back to you after your other open items.",
                messages.INFO,
            )
            return HttpResponseRedirect(reverse("admin:judging_assignment_next", args=[campaign.pk]))
        form = LabelForm.for_annotation(mine, request.POST or None)
        if request.method == "POST" and form.is_valid():
            annotation_submit(turn=turn, annotator=request.user, labels=form.labels())
            self.message_user(request, "Label saved.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:judging_assignment_next", args=[campaign.pk]))
        progress = campaign_selectors.annotator_progress(
            annotator=request.user, campaign=campaign, assignment=assignment
        )
        return label_page(
            self,
            request,
            turn=turn,
            form=form,
            title=f"{campaign}: item {progress.position} of {progress.total}",
            show_judges=campaign.show_judges,
            campaign=campaign,
            progress=progress,
            revising=mine is not None,
            can_skip=assignment.status != Assignment.Status.DONE,
        )

    def reply_view(self, request: HttpRequest, turn_id: int) -> HttpResponse:
        """An organizer's own label of any defender reply ("annotate this reply" on a transcript)."""
        if not annotations_visible_all(request.user) or not request.user.has_perm("judging.add_annotation"):
            raise PermissionDenied
        turn = get_object_or_404(Turn, pk=turn_id, speaker=Side.DEFENDER, status=Turn.Status.OK)
        mine = Annotation.objects.filter(turn=turn, annotator=request.user, adjudication=False).first()
        form = LabelForm.for_annotation(mine, request.POST or None)
        if request.method == "POST" and form.is_valid():
            annotation_submit(turn=turn, annotator=request.user, labels=form.labels())
            self.message_user(request, "Your label of this reply is saved.", messages.SUCCESS)
            return HttpResponseRedirect(f"{transcript_url(turn.conversation_id)}#turn-{turn.index}")
        return label_page(
            self,
            request,
            turn=turn,
            form=form,
            title="Annotate this reply",
            show_judges=True,
            revising=mine is not None,
            can_skip=False,
        )

    def _file_campaign(self, request: HttpRequest, campaign_id: int) -> tuple[AnnotationCampaign, bool]:
        """The campaign of a file page, and whether the file holds everyone's rows (organizers)."""
        campaign = get_object_or_404(AnnotationCampaign, pk=campaign_id)
        everyone = annotations_visible_all(request.user)
        if not everyone and not (
            request.user.has_perm("judging.add_annotation")
            and Assignment.objects.filter(item__campaign=campaign, annotator=request.user).exists()
        ):
            raise PermissionDenied
        return campaign, everyone

    def file_export_view(self, request: HttpRequest, campaign_id: int, file_format: str) -> HttpResponse:
        """The campaign's assignments as CSV or JSON: the signed-in annotator's, or all for organizers."""
        campaign, everyone = self._file_campaign(request, campaign_id)
        if file_format not in FORMATS:
            raise Http404("Unknown format.")
        content = campaign_labels_export(
            campaign=campaign, user=request.user, everyone=everyone, file_format=file_format
        )
        response = HttpResponse(content, content_type="text/csv" if file_format == "csv" else "application/json")
        name = f"campaign-{campaign.pk}-{'all' if everyone else request.user.get_username()}.{file_format}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def file_import_view(self, request: HttpRequest, campaign_id: int) -> HttpResponse:
        """Upload a labelled file: all or nothing, each bad row named."""
        campaign, everyone = self._file_campaign(request, campaign_id)
        if campaign.status != AnnotationCampaign.Status.OPEN:
            raise PermissionDenied(campaign_not_open_reason(campaign))
        form = LabelFileForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            report = campaign_labels_import(
                campaign=campaign,
                user=request.user,
                everyone=everyone,
                content=form.cleaned_data["content"],
                file_format=form.cleaned_data["file_format"],
            )
            if report.ok:
                self.message_user(
                    request,
                    f"{report.labelled} label(s) imported; {report.left_alone} row(s) without labels left alone.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:judging_assignment_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import labels: {campaign}",
            "form": form,
            "report": report,
            "campaign": campaign,
        }
        return TemplateResponse(request, "admin/judging/label_import.html", context)
