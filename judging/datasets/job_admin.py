"""The export jobs' admin: a new export (judging/datasets/job_form.py), its progress, its page in
words (the options it was asked with, what it wrote, its file and its error) and its download.

Only organizers may export or download: the permission `judging.download_dataset`, which the
Organizer group holds (competition/apps.py grants organizers every permission of the arena apps)
and annotators do not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from competition.models import Round
from config.admin_kit import json_pre, text_pre
from judging.datasets.filters import UNDECIDED_SHAPES, ExportSpec, ExportSpecInvalid
from judging.datasets.job_form import ExportJobForm
from judging.datasets.models import ExportJob
from judging.datasets.services import EXPORT_MAX_ATTEMPTS, export_job_create

DOWNLOAD_PERMISSION = "judging.download_dataset"
NOTHING_MATCHED = "Done: no conversation matched these filters (the zip holds only the card)"
SPLITS = ("train", "validation", "test")
DEDUP_WORDS = {
    "none": "kept",
    "exact": "identical conversations removed",
    "near": "identical and near-identical conversations removed (MinHash similarity {threshold:g} or more)",
}


def datasets_allowed(user: Any) -> bool:
    """Whether `user` may take data out of (or bring it into) the platform: organizers."""
    return bool(user.is_active and user.is_staff and user.has_perm(DOWNLOAD_PERMISSION))


def facts_table(rows: list[tuple[str, Any]]) -> str:
    """(name, value) rows as a two-column table; every value escaped."""
    cells = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
    return format_html('<table class="arena-facts">{}</table>', cells)


def _listed(values: Any, empty: str) -> str:
    return ", ".join(str(value).replace("_", " ") for value in values) if values else empty


def spec_rows(spec: ExportSpec, *, round_names: dict[str, str]) -> list[tuple[str, str]]:
    """The options an export was asked with, in words; `round_names`: slug -> name."""
    if spec.rounds:
        rounds = ", ".join(round_names.get(slug, slug) for slug in spec.rounds)
    else:
        rounds = "every round" if spec.include_practice else "every tournament round"
    since = f"from {spec.since}" if spec.since else ""
    until = f"before {spec.until}" if spec.until else ""
    rows = [
        ("Rounds", rounds),
        ("Practice rounds", "included" if spec.include_practice else "left out unless chosen"),
        ("Excluded conversations", "included" if spec.include_excluded else "left out"),
        ("Shape and format", f"{spec.shape} ({spec.format})"),
        ("Outcomes", _listed(spec.outcomes, "all")),
        ("Labels", _listed(spec.labels, "any")),
        ("Labelled by", "people only" if spec.label_source == "human" else "judges or people"),
        ("Created", " and ".join(part for part in (since, until) if part) or "any time"),
        ("Split", f"train {spec.split[0]:g}, validation {spec.split[1]:g}, test {spec.split[2]:g} (seed {spec.seed})"),
        ("Duplicates", DEDUP_WORDS[spec.dedup].format(threshold=spec.near_threshold)),
        ("Team and bot names", "anonymous ids" if spec.anonymous else "as registered"),
    ]
    if spec.shape == "chat":
        rows.append(("Safe replacements", "added" if spec.safe_replacements else "not added"))
    if spec.shape in UNDECIDED_SHAPES:
        rows.append(("Undecided replies", "left out" if spec.undecided_left_out else "kept"))
    return rows


def _split_order(item: tuple[str, int]) -> int:
    return SPLITS.index(item[0]) if item[0] in SPLITS else len(SPLITS)


def report_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    """What a finished export wrote and left out, in words (export_job_run's report)."""
    dedup = report.get("dedup") or {}
    splits = report.get("rows") or {}
    rows = [
        ("Conversations exported", str(report.get("conversations", "-"))),
        ("Rows per split", _listed([f"{split} {n}" for split, n in sorted(splits.items(), key=_split_order)], "none")),
    ]
    if report.get("pairs") is not None:
        rows.append(("Safe/unsafe pairs", str(report["pairs"])))
    rows += [
        ("Left out by the outcome and label filters", str(report.get("filtered_out", 0))),
        (
            "Duplicates left out",
            f"{dedup.get('exact_duplicates', 0)} identical, {dedup.get('near_duplicates', 0)} near-identical",
        ),
    ]
    if report.get("undecided_left_out"):
        rows.append(("Defender replies left out at or after an undecided one", str(report["undecided_left_out"])))
    rows += [
        ("Left out unless asked", "; ".join(report.get("left_out_unless_asked") or []) or "nothing"),
        ("Files", _listed(report.get("files"), "none")),
    ]
    return rows


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    form = ExportJobForm
    list_display = [
        "__str__",
        "status",
        "progress_bar",
        "attempts_shown",
        "requested_by",
        "created_at",
        "finished_at",
        "download",
    ]
    list_filter = ["status", "competition"]
    list_select_related = ["competition", "requested_by"]
    add_fieldsets = [
        (None, {"fields": ["competition", "rounds", "shape", "format"]}),
        (
            "Filters",
            {
                "fields": [
                    "include_practice",
                    "include_excluded",
                    "outcomes",
                    "labels",
                    "label_source",
                    "since",
                    "until",
                ]
            },
        ),
        ("Split and duplicates", {"fields": ["split", "seed", "dedup", "near_threshold"]}),
        ("Names", {"fields": ["anonymous", "safe_replacements"]}),
        ("Undecided replies", {"fields": ["undecided"]}),
    ]
    readonly_fields = [
        "competition",
        "status",
        "progress_bar",
        "download",
        "error_text",
        "options_shown",
        "report_shown",
        "requested_by",
        "created_at",
        "started_at",
        "heartbeat_at",
        "attempts_shown",
        "finished_at",
    ]

    def get_fieldsets(self, request: HttpRequest, obj: ExportJob | None = None) -> list:
        if obj is None:
            return self.add_fieldsets
        # Attempts only when a stopped worker's run was redone: one run is the rule, not news.
        when = ["requested_by", "created_at", "started_at", "heartbeat_at", "finished_at"]
        when += ["attempts_shown"] if obj.attempts > 1 else []
        return [
            (None, {"fields": ["competition", "status", "progress_bar", "download", "error_text"]}),
            ("What was asked", {"fields": ["options_shown"]}),
            ("What was written", {"fields": ["report_shown"]}),
            ("Who and when", {"fields": when}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: ExportJob | None = None) -> list[str]:
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: ExportJob | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and datasets_allowed(request.user)

    def save_model(self, request: HttpRequest, obj: ExportJob, form: ExportJobForm, change: bool) -> None:
        job = export_job_create(spec=form.spec, requested_by=request.user)
        # The "added" message and Recent actions name the form's object: give it the job's fields.
        for field in ExportJob._meta.concrete_fields:
            setattr(obj, field.attname, getattr(job, field.attname))
        obj._state.adding = False

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="judging_exportjob_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, object_id: str) -> FileResponse:
        """The job's zip, to organizers only."""
        if not datasets_allowed(request.user):
            raise PermissionDenied
        job = ExportJob.objects.filter(pk=unquote(object_id)).select_related("competition").first()
        if job is None or job.status != ExportJob.Status.DONE or not job.file_path:
            raise Http404("No finished export with this id.")
        file = Path(job.file_path).resolve()
        if Path(settings.ARENA_EXPORT_DIR).resolve() not in file.parents or not file.is_file():
            raise Http404("The export's file is gone.")
        name = f"{job.competition.slug}-{job.spec.get('shape')}-{job.pk}.zip"
        return FileResponse(file.open("rb"), as_attachment=True, filename=name, content_type="application/zip")

    @admin.display(description="Progress")
    def progress_bar(self, job: ExportJob) -> str:
        if job.matched_nothing:
            note = (job.report or {}).get("note", "")
            return format_html(
                '<span class="arena-flag arena-flag-warn">{}</span>', f"{NOTHING_MATCHED}{'; ' + note if note else ''}"
            )
        return format_html(
            '<progress value="{}" max="100" style="width: 8em"></progress> {}% ({} of {})',
            job.percent,
            job.percent,
            job.progress,
            job.total if job.total is not None else "?",
        )

    @admin.display(description="Attempts")
    def attempts_shown(self, job: ExportJob) -> str:
        """Runs started, when more than one: the worker of an earlier run stopped and the sweep
        (judging.datasets.services.export_jobs_reap) ran the job again."""
        if job.attempts <= 1:
            return ""
        return f"{job.attempts} of {EXPORT_MAX_ATTEMPTS}"

    @admin.display(description="File")
    def download(self, job: ExportJob) -> str:
        if job.status != ExportJob.Status.DONE or not job.file_path:
            return "-"
        return format_html('<a href="{}">Download zip</a>', reverse("admin:judging_exportjob_download", args=[job.pk]))

    @admin.display(description="Options")
    def options_shown(self, job: ExportJob) -> str:
        try:
            spec = ExportSpec.from_json(job.spec or {})
        except (ExportSpecInvalid, TypeError):
            return json_pre(job.spec)  # a spec this code cannot read any more: shown as stored
        names = dict(Round.objects.filter(competition_id=job.competition_id).values_list("slug", "name"))
        return facts_table(spec_rows(spec, round_names=names))

    @admin.display(description="Counts")
    def report_shown(self, job: ExportJob) -> str:
        if not job.report:
            return "Written when the export is done." if job.status != ExportJob.Status.FAILED else "-"
        return facts_table(report_rows(job.report))

    @admin.display(description="Error")
    def error_text(self, job: ExportJob) -> str:
        return text_pre(job.error)
