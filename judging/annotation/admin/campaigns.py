"""The organizers' admin of annotation campaigns: create one over rounds or chosen conversations,
build it (sample and assign), hand inactive annotators' open items to others, read its progress and
agreement figures, and adjudicate the items humans (or humans and judges) disagree on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from config.admin_buttons import ObjectButton, ObjectButtonsMixin
from judging.annotation import selectors as campaign_selectors
from judging.annotation.admin.queue import AssignmentAdmin, campaign_not_open_reason, label_page
from judging.annotation.forms import LabelForm
from judging.annotation.services.campaigns import CampaignError, assignments_reassign, campaign_build, campaign_close
from judging.models import Annotation, AnnotationCampaign, Assignment, CampaignItem
from judging.selectors import annotations_visible_all
from judging.services.annotations import adjudication_set

FIGURES = [
    ("percent_agreement", "% agreement"),
    ("cohen_kappa", "Cohen's kappa (pairs)"),
    ("fleiss_kappa", "Fleiss' kappa"),
    ("krippendorff_alpha", "Krippendorff's alpha"),
    ("gwet_ac1", "Gwet's AC1"),
]
# Fields fixed once the items are built: changing them would not change the items.
BUILT_FIELDS = ["competition", "rounds", "conversations", "overlap", "sampling", "share", "per_stratum", "seed"]


def figure_text(figure: dict[str, Any]) -> str:
    value = figure["value"]
    why = (figure.get("detail") or {}).get("undefined")
    return f"{'n/a' if value is None else f'{value:.3f}'} (n={figure['items']}{': ' + why if why else ''})"


def agreement_table(report: dict[str, Any]) -> str:
    """The agreement figures as an HTML table: a row per label, a column per figure."""
    head = format_html_join("", "<th>{}</th>", ((name,) for _, name in FIGURES))
    rows = format_html_join(
        "",
        "<tr><th>{} <span class='an-quiet'>({})</span></th>{}</tr>",
        (
            (
                label,
                figures["level"],
                format_html_join("", "<td>{}</td>", ((figure_text(figures[key]),) for key, _ in FIGURES)),
            )
            for label, figures in report["labels"].items()
        ),
    )
    judges = format_html_join(
        "",
        "<tr><th>{}</th>{}</tr>",
        (
            (
                judge["judge"],
                format_html_join(
                    "",
                    "<td>{}: precision {}, recall {}, kappa {} (n={})</td>",
                    (
                        (
                            label,
                            *("n/a" if stats[key] is None else f"{stats[key]:.2f}" for key in ("precision", "recall")),
                            "n/a" if stats["kappa"] is None else f"{stats['kappa']:.2f}",
                            stats["items"],
                        )
                        for label, stats in judge["labels"].items()
                    ),
                ),
            )
            for judge in report["judges"]
        ),
    )
    return format_html(
        "<table class='an-side'><thead><tr><th>label</th>{}</tr></thead><tbody>{}</tbody></table>"
        "<h4>Each judge against the human majority</h4><table class='an-side'><tbody>{}</tbody></table>",
        head,
        rows,
        judges or format_html("<tr><td>{}</td></tr>", "No judge verdict on a labelled item yet."),
    )


class CampaignForm(forms.ModelForm):
    class Meta:
        model = AnnotationCampaign
        fields = [
            "competition",
            "name",
            "description",
            "rounds",
            "conversations",
            "annotators",
            "overlap",
            "sampling",
            "share",
            "per_stratum",
            "seed",
            "show_judges",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        competition = cleaned.get("competition")
        if competition is not None:
            for name in ("rounds", "conversations"):
                strangers = [
                    str(obj)
                    for obj in cleaned.get(name) or []
                    if (obj.competition_id if name == "rounds" else obj.match.round.competition_id) != competition.pk
                ]
                if strangers:
                    self.add_error(name, f"Not of {competition}: {', '.join(strangers[:5])}")
        return cleaned


def campaign_in(*statuses: str):
    return lambda campaign: campaign.status in statuses


# The buttons of a campaign's own page, each shown in the status its service acts in.
CAMPAIGN_BUTTONS = (
    ObjectButton("build", "Build", run="build_campaign", shown=campaign_in(AnnotationCampaign.Status.DRAFT)),
    ObjectButton(
        "reassign",
        "Hand inactive annotators' items to others",
        run="reassign_campaign",
        shown=campaign_in(AnnotationCampaign.Status.OPEN),
    ),
    ObjectButton(
        "close",
        "Close",
        run="close_campaign",
        shown=campaign_in(AnnotationCampaign.Status.OPEN),
        confirm="Close this campaign? Its queue empties for every annotator and it is never opened again; "
        "the labels and the agreement figures stay.",
    ),
)


@admin.register(AnnotationCampaign)
class AnnotationCampaignAdmin(ObjectButtonsMixin, SimpleHistoryAdmin):
    form = CampaignForm
    list_display = ["name", "competition", "status", "sampling", "overlap", "item_count", "created_at"]
    list_filter = ["status", "sampling", "competition"]
    search_fields = ["name", "description"]
    filter_horizontal = ["rounds", "annotators"]
    autocomplete_fields = ["conversations"]
    actions = ["build_campaigns", "reassign_inactive", "close_campaigns"]
    object_buttons = CAMPAIGN_BUTTONS
    readonly_fields = ["status", "created_by", "created_at", "built_at", "progress", "agreement", "adjudication_link"]

    def get_fieldsets(self, request: HttpRequest, obj: AnnotationCampaign | None = None) -> list:
        fieldsets = [
            (None, {"fields": ["competition", "name", "description", "status"]}),
            ("What is labelled", {"fields": ["rounds", "conversations", "sampling", "share", "per_stratum", "seed"]}),
            ("Who labels", {"fields": ["annotators", "overlap", "show_judges"]}),
        ]
        if obj is not None:
            fieldsets += [
                ("Progress", {"fields": ["built_at", "progress", "adjudication_link"]}),
                ("Agreement", {"fields": ["agreement"]}),
                ("Timeline", {"fields": ["created_by", "created_at"]}),
            ]
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: AnnotationCampaign | None = None) -> list:
        fields = list(self.readonly_fields)
        if obj is not None and obj.status != AnnotationCampaign.Status.DRAFT:
            fields += BUILT_FIELDS
        return fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AnnotationCampaign]:
        return super().get_queryset(request).annotate(item_total=Count("items"))

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "annotators":
            # Annotators are staff accounts in the Annotator group (README: "Annotators").
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(Q(groups__name="Annotator") | Q(groups__name="Organizer"), is_staff=True)
                .distinct()
                .order_by("username")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: AnnotationCampaign, form: Any, change: bool) -> None:
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Items", ordering="item_total")
    def item_count(self, campaign: AnnotationCampaign) -> int:
        return campaign.item_total

    @admin.display(description="Per annotator")
    def progress(self, campaign: AnnotationCampaign) -> str:
        rows = (
            Assignment.objects.filter(item__campaign=campaign)
            .exclude(status=Assignment.Status.REASSIGNED)
            .values("annotator__username")
            .annotate(total=Count("pk"), done=Count("pk", filter=Q(status=Assignment.Status.DONE)))
            .order_by("annotator__username")
        )
        if not rows:
            return "Not built yet: Build samples the items and assigns them."
        return format_html(
            "<table class='an-side'><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><th>{}</th><td>{} of {} labelled</td></tr>",
                ((row["annotator__username"], row["done"], row["total"]) for row in rows),
            ),
        )

    @admin.display(description="Figures")
    def agreement(self, campaign: AnnotationCampaign) -> str:
        if campaign.status == AnnotationCampaign.Status.DRAFT:
            return "-"
        return agreement_table(campaign_selectors.campaign_agreement(campaign=campaign))

    @admin.display(description="Adjudication and files")
    def adjudication_link(self, campaign: AnnotationCampaign) -> str:
        # Labels are imported only into an open campaign: elsewhere the link would answer a 403.
        if campaign.status == AnnotationCampaign.Status.OPEN:
            importing = format_html(
                '<a href="{}">import labels</a>', reverse("admin:judging_assignment_file_import", args=[campaign.pk])
            )
        else:
            importing = format_html('<span class="quiet">import labels: {}</span>', campaign_not_open_reason(campaign))
        return format_html(
            '<a href="{}">Items to adjudicate</a> · every assignment as <a href="{}">CSV</a> or <a href="{}">JSON</a>'
            " · {}",
            reverse("admin:judging_annotationcampaign_adjudication", args=[campaign.pk]),
            reverse("admin:judging_assignment_file_export", args=[campaign.pk, "csv"]),
            reverse("admin:judging_assignment_file_export", args=[campaign.pk, "json"]),
            importing,
        )

    # --- each move on one campaign: a bulk action runs it per selected campaign, a button on its page -----

    def build_campaign(self, request: HttpRequest, campaign: AnnotationCampaign) -> None:
        try:
            report = campaign_build(campaign=campaign)
        except CampaignError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.log_change(request, campaign, "Campaign built")
        self.message_user(
            request, f"{campaign}: {campaign.items.count()} item(s), {report.made} assignment(s).", messages.SUCCESS
        )

    def reassign_campaign(self, request: HttpRequest, campaign: AnnotationCampaign) -> None:
        report = assignments_reassign(campaign=campaign)
        level = messages.WARNING if report.short_items else messages.SUCCESS
        short = f"; {report.short_items} item(s) lack an annotator who never had them" if report.short_items else ""
        self.message_user(request, f"{campaign}: {report.made} item(s) reassigned{short}.", level)

    def close_campaign(self, request: HttpRequest, campaign: AnnotationCampaign) -> None:
        campaign_close(campaign=campaign)
        if campaign.status != AnnotationCampaign.Status.CLOSED:
            self.message_user(
                request,
                f"{campaign} is {campaign.get_status_display().lower()}: only an open campaign closes.",
                messages.ERROR,
            )
            return
        self.log_change(request, campaign, "Campaign closed")
        self.message_user(request, f"{campaign}: closed.", messages.SUCCESS)

    @admin.action(description="Build: sample the items and assign them", permissions=["change"])
    def build_campaigns(self, request: HttpRequest, queryset: QuerySet[AnnotationCampaign]) -> None:
        for campaign in queryset.order_by("pk"):
            self.build_campaign(request, campaign)

    @admin.action(description="Hand inactive annotators' open items to others", permissions=["change"])
    def reassign_inactive(self, request: HttpRequest, queryset: QuerySet[AnnotationCampaign]) -> None:
        for campaign in queryset.order_by("pk"):
            self.reassign_campaign(request, campaign)

    @admin.action(description="Close (the queue empties; labels and figures stay)", permissions=["change"])
    def close_campaigns(self, request: HttpRequest, queryset: QuerySet[AnnotationCampaign]) -> None:
        for campaign in queryset.order_by("pk"):
            self.close_campaign(request, campaign)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:campaign_id>/adjudication/",
                wrap(self.adjudication_view),
                name="judging_annotationcampaign_adjudication",
            ),
            path(
                "<int:campaign_id>/adjudication/<int:turn_id>/",
                wrap(self.adjudicate_view),
                name="judging_annotationcampaign_adjudicate",
            ),
            *super().get_urls(),
        ]

    def _organizer_campaign(self, request: HttpRequest, campaign_id: int) -> AnnotationCampaign:
        campaign = get_object_or_404(AnnotationCampaign, pk=campaign_id)
        if not self.has_change_permission(request, campaign) or not annotations_visible_all(request.user):
            raise PermissionDenied
        return campaign

    def adjudication_view(self, request: HttpRequest, campaign_id: int) -> HttpResponse:
        """The items where annotators disagree or their majority disagrees with the judges."""
        campaign = self._organizer_campaign(request, campaign_id)
        candidates = campaign_selectors.adjudication_candidates(campaign=campaign)
        items = {
            item.turn_id: item
            for item in CampaignItem.objects.filter(
                campaign=campaign, turn_id__in=[c.turn_id for c in candidates]
            ).select_related("turn__conversation")
        }
        rows = [
            {
                "candidate": candidate,
                "item": items[candidate.turn_id],
                "url": reverse("admin:judging_annotationcampaign_adjudicate", args=[campaign.pk, candidate.turn_id]),
            }
            for candidate in candidates
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Adjudication: {campaign}",
            "campaign": campaign,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/judging/adjudication_list.html", context)

    def adjudicate_view(self, request: HttpRequest, campaign_id: int, turn_id: int) -> HttpResponse:
        """Every human label of the item side by side, the judges', and the organizer's adjudication."""
        campaign = self._organizer_campaign(request, campaign_id)
        item = get_object_or_404(CampaignItem.objects.select_related("turn"), campaign=campaign, turn_id=turn_id)
        turn = item.turn
        current = Annotation.objects.filter(turn=turn, adjudication=True).order_by("-updated_at", "-pk").first()
        form = LabelForm.for_annotation(current, request.POST or None)
        if request.method == "POST" and form.is_valid():
            adjudication_set(turn=turn, by=request.user, labels=form.labels())
            self.message_user(request, "Adjudicated: the final label now follows it.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:judging_annotationcampaign_adjudication", args=[campaign.pk]))
        labels = list(
            Annotation.objects.filter(turn=turn)
            .select_related("annotator")
            .order_by("adjudication", "annotator__username")
        )
        return label_page(
            self,
            request,
            turn=turn,
            form=form,
            title=f"Adjudicate item {item.position + 1} of {campaign}",
            show_judges=True,
            human_labels=labels,
            campaign=campaign,
            revising=current is not None,
            can_skip=False,
        )


admin.site.register(Assignment, AssignmentAdmin)
