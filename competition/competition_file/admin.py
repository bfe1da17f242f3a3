"""Loading a competition file from the admin: the page Competitions' list links to ("Load a
competition file").

The same loader as ``manage.py load_competition`` (competition_file_load), all or nothing: a file
with any problem changes nothing, and the page lists every problem at once, in file order. "Check"
runs the whole load and rolls it back (a dry run), then shows what the load would create and change,
row by row; the file checked is kept for an hour (in the cache every web process shares) so that
"Load it" loads exactly that file without choosing it again. "Load" loads at once. After a load the
page shows what it did and the signing secrets of the bots it made, this once (docs/competition-file.md).

Only a person holding every permission the load writes with (LOAD_PERMISSIONS) sees the link or the
page; the load is made as that person (``by``), so a file naming a superuser's account is theirs only.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from competition.competition_file import CompetitionFileInvalid
from competition.competition_file.limits import MAX_FILE_BYTES
from competition.competition_file.load import LoadReport, competition_file_load
from competition.models import Competition

# What a load writes: a person needs to be able to add and change each of these by hand too.
LOAD_PERMISSIONS = tuple(
    f"{app}.{verb}_{model}"
    for app, models in (
        ("competition", ("competition", "round", "entry", "practicepolicy")),
        ("teams", ("team", "bot", "membership")),
        ("judging", ("judge",)),
        ("auth", ("user",)),
    )
    for model in models
    for verb in ("add", "change")
)
KEPT_SECONDS = 60 * 60  # how long a checked file waits for "Load it"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class CompetitionFileForm(forms.Form):
    file = forms.FileField(
        label="Competition file",
        required=False,
        help_text=f".yaml, .yml or .json, up to {MAX_FILE_BYTES // (1024 * 1024)} MB (docs/competition-file.md)",
    )
    # The file checked before, kept under this token (the "Load it" button sends it back).
    checked = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload is not None and upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(f"The file has {upload.size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes.")
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors and cleaned.get("file") is None and not cleaned.get("checked"):
            raise forms.ValidationError("Choose a competition file.")
        return cleaned


def file_name_safe(name: str) -> str:
    """The uploaded file's own name, reduced to letters, digits, dots, dashes and underscores (its
    suffix tells the loader YAML from JSON; the name is shown and recorded in entries' notes)."""
    base = _UNSAFE_NAME.sub("_", Path(name or "").name).strip("._") or "competition"
    stem, dot, suffix = base.rpartition(".")
    return f"{stem[:80]}.{suffix[:8]}" if dot and stem else base[:80]


def _cache_key(request: HttpRequest, token: str) -> str:
    return f"competition-file-upload:{request.user.pk}:{token}"


class CompetitionFileUploadMixin:
    """For the Competitions admin: the "Load a competition file" page and its link on the list."""

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.competition_file_view)
        # Before the admin's own: "<path:object_id>/" would take "load/" for an object's id.
        return [path("load/", view, name="competition_competition_load"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_load_file": request.user.has_perms(LOAD_PERMISSIONS)}
        return super().changelist_view(request, extra_context)

    def competition_file_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perms(LOAD_PERMISSIONS):
            raise PermissionDenied
        form = CompetitionFileForm(request.POST or None, request.FILES or None)
        context: dict[str, Any] = {}
        if request.method == "POST" and form.is_valid():
            context = self._competition_file_step(request, form)
        return TemplateResponse(
            request,
            "admin/competition/competition/load.html",
            {
                **self.admin_site.each_context(request),
                "title": "Load a competition file",
                "opts": self.opts,
                "form": form,
                "limit_mb": MAX_FILE_BYTES // (1024 * 1024),
                **context,
            },
        )

    def _competition_file_step(self, request: HttpRequest, form: CompetitionFileForm) -> dict[str, Any]:
        """Check or load the file the form brings (uploaded now, or checked before and kept)."""
        upload = form.cleaned_data["file"]
        if upload is not None:
            name, content = file_name_safe(upload.name), upload.read()
        else:
            kept = cache.get(_cache_key(request, form.cleaned_data["checked"]))
            if kept is None:
                form.add_error(
                    "file",
                    "The file checked before is no longer kept (an hour passed, or it was loaded): choose it again.",
                )
                return {}
            name, content = kept
        dry_run = "check" in request.POST  # the Check button; Load and Load it load
        try:
            report = _load(name, content, dry_run=dry_run, by=request.user)
        except CompetitionFileInvalid as invalid:
            return {"file_name": name, "problems": invalid.problems}
        except DatabaseError as error:
            return {"file_name": name, "refused": f"the database refused the load, so nothing was changed: {error}"}
        context = {"file_name": name, "report": report, "kinds": _kinds(report)}
        if dry_run:
            token = secrets.token_urlsafe(24)
            cache.set(_cache_key(request, token), (name, content), KEPT_SECONDS)
            return {**context, "checked": token}
        if form.cleaned_data["checked"]:
            cache.delete(_cache_key(request, form.cleaned_data["checked"]))
        competition = Competition.objects.get(slug=report.competition_slug)
        self.log_change(request, competition, f"Loaded from the competition file {name}")
        return {
            **context,
            "competition": competition,
            "competition_url": reverse("admin:competition_competition_change", args=[competition.pk]),
        }


def _load(name: str, content: bytes, *, dry_run: bool, by: Any) -> LoadReport:
    """Load (or check) the file's bytes through the loader, which reads a path: a private temporary folder's."""
    with tempfile.TemporaryDirectory(prefix="competition-file-") as folder:
        file = Path(folder) / name
        file.write_bytes(content)
        return competition_file_load(path=file, dry_run=dry_run, by=by)


def _kinds(report: LoadReport) -> list[dict[str, Any]]:
    """The report per kind of row, for the page: its counts and the rows created, updated or kept."""
    return [
        {
            "kind": kind,
            "created": tally.created,
            "updated": tally.updated,
            "unchanged": tally.unchanged,
            "kept": tally.kept,
            "changes": tally.changes,
        }
        for kind, tally in report.tallies.items()
    ]
