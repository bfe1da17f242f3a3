"""Mails on their way out, notices, each person's choice of notices by email, team invitations."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from teams.models import Team


class NoticeKind(models.TextChoices):
    BOT_UNHEALTHY = "bot_unhealthy", "A bot of my team fails its health checks"
    ROUND_STARTED = "round_started", "A round my team plays has started"
    ROUND_PUBLISHED = "round_published", "A round's standings are published, with my team's place"
    STANDINGS_REVISED = "standings_revised", "Published standings were revised"
    ENTRY_DECIDED = "entry_decided", "My team's request was approved or declined"
    INVITATION = "invitation", "I was invited into a team"


class Notice(models.Model):
    """One thing the platform told one person; listed on their notices page, mailed when they chose so."""

    Kind = NoticeKind

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=500, blank=True, help_text="A path on the site")
    # What the notice is about, so one event notifies a person once (e.g. "round:12:started").
    event = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="notice_unique_user_event"),
            models.CheckConstraint(condition=Q(kind__in=NoticeKind.values), name="notice_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} (to {self.user})"


class NoticePreference(models.Model):
    """Whether a person gets one kind of notice by email (no row: yes)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    email = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="noticepreference_unique_user_kind")]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} by email {'on' if self.email else 'off'}"


class OutboundMail(models.Model):
    """A message on its way out: written first, then sent by accounts.tasks.mail_send_task, retried."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"

    to = models.EmailField()
    subject = models.CharField(max_length=200)
    text = models.TextField()
    html = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="outboundmail_status_created")]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to} ({self.status})"


class Invitation(models.Model):
    """An owner's invitation of a person (by email) into a team: a single-use link that expires.

    Only a SHA-256 of the link's token is stored, so a leaked database gives no usable link.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked = models.BooleanField(default=False)
    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} into {self.team}"

    @staticmethod
    def hash_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
