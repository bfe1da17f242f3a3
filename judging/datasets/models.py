"""The models of datasets: the admin's list of conversations to export, and export jobs run in the
background. Imported by judging/models.py, so these are judging's models (app label and tables unchanged)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from competition.models import Competition
from conversations.models import Conversation


class DatasetConversation(Conversation):
    """Conversations as the datasets admin lists them (judging/datasets/admin.py): a proxy, so
    judging registers its own admin page with the export actions and conversations imports nothing
    from judging."""

    class Meta:
        proxy = True
        verbose_name = "dataset conversation"


class ExportJob(models.Model):
    """A dataset export run in the background (judging/datasets/export.py): its spec, progress and
    file. The file is a zip of the export's folder (data files per split and README.md)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="export_jobs")
    spec = models.JSONField(help_text="The ExportSpec: shape, format, filters, split, de-duplication")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveIntegerField(default=0, help_text="Conversations read so far")
    total = models.PositiveIntegerField(null=True, blank=True, help_text="Conversations selected")
    file_path = models.CharField(max_length=500, blank=True, editable=False)
    report = models.JSONField(default=dict, blank=True, editable=False)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A running job's worker writes this at its claim, at every chunk of conversations and around the
    # zip; a running job whose heartbeat is older than ARENA_EXPORT_STALE_SECONDS lost its worker and
    # the sweep (judging.services.export_jobs_reap) runs it again or, after EXPORT_MAX_ATTEMPTS runs, fails it.
    heartbeat_at = models.DateTimeField(
        "last progress at", null=True, blank=True, help_text="When the running job last made progress"
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Runs started (a worker's claim); more than one when a stopped worker's run was redone"
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [("download_dataset", "Can download exported datasets")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="export_job_status_valid"
            ),
        ]

    def __str__(self) -> str:
        # Read at every stage: a job being added has no id and maybe no spec yet.
        name = f"Export {self.pk}" if self.pk else "New export"
        spec = self.spec or {}
        if not spec.get("shape"):
            return name
        return f"{name}: {spec['shape']} ({spec.get('format') or '?'}) of {spec.get('competition') or '?'}"

    @property
    def matched_nothing(self) -> bool:
        """Done, but no conversation matched the spec's filters: the zip holds only an empty card."""
        return self.status == self.Status.DONE and (self.report or {}).get("conversations") == 0

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.progress / self.total) if self.total else 0
