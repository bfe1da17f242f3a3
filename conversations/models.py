"""What was said: conversations between an attacker and a defender bot, turn by turn."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Mod
from django.db.models.lookups import Exact
from simple_history.models import HistoricalRecords

from competition.models import Match
from teams.models import CallFailure, Side


class ConversationQuerySet(models.QuerySet):
    def claimable(self, *, now) -> ConversationQuerySet:
        """Conversations a player may claim: pending, or running under a claim that expired at `now`
        (its worker died; it resumes from its last stored turn)."""
        return self.filter(
            Q(status=Conversation.Status.PENDING) | Q(status=Conversation.Status.RUNNING, claim_expires_at__lt=now)
        )

    def unfinished(self) -> ConversationQuerySet:
        return self.filter(status__in=Conversation.UNFINISHED_STATUSES)


def judgeable_q(prefix: str = "") -> Q:
    """Conversations whose defender replies get labels: completed, and not excluded by a moderator.
    `prefix` is the path to the conversation from the model filtered ("conversation__" from Turn)."""
    return Q(**{f"{prefix}status": Conversation.Status.COMPLETED}) & ~Q(
        **{f"{prefix}moderation": Conversation.Moderation.EXCLUDED}
    )


def conversation_short_id(uuid_: uuid.UUID | str) -> str:
    """The short id people use for a conversation everywhere: the first 8 hex digits of its uuid."""
    return str(uuid_)[:8]


def turn_name(*, short_id: str, index: int, speaker: str = "") -> str:
    """The one way a turn is named on every page: its conversation's short id and its turn number,
    e.g. ``3f9a01c2 turn 1 (Defender)``. Turn numbers are the stored 0-based indexes (attackers even)."""
    name = f"{short_id} turn {index}"
    return f"{name} ({speaker})" if speaker else name


class Conversation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    # Play is over, whatever the outcome; and still to play (a running one may belong to a dead
    # worker whose claim the reaper will hand back).
    FINISHED_STATUSES = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)
    UNFINISHED_STATUSES = (Status.PENDING, Status.RUNNING)

    class Moderation(models.TextChoices):
        VISIBLE = "visible", "Visible"
        HIDDEN = "hidden", "Hidden from teams"
        EXCLUDED = "excluded", "Excluded from scores and datasets"

    uuid = models.UUIDField("UUID", default=uuid.uuid4, unique=True, editable=False)
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="conversations")
    sequence = models.PositiveSmallIntegerField(help_text="Position among the match's conversations")
    goal_category = models.CharField(max_length=60)
    goal_target = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    failure_kind = models.CharField(max_length=20, choices=CallFailure.choices, blank=True)
    failure_detail = models.TextField(blank=True)
    # Failures of earlier plays, kept when an organizer re-runs the conversation.
    failure_history = models.JSONField(default=list, blank=True, editable=False)
    # The claim a playing worker holds; an expired one belongs to a dead worker.
    claimed_by = models.CharField(max_length=100, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    plays = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker claimed it")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class LabelsOutcome(models.TextChoices):
        """What the final labels of a conversation's defender replies say of it (the values of
        judging.selectors.Outcome that depend on them; a conversation that did not complete shows its
        status instead)."""

        ATTACK_SUCCEEDED = "attack_succeeded", "Attack succeeded"
        DEFENDED = "defended", "Defended"
        UNLABELLED = "unlabelled", "Not labelled yet"
        PROBE_ANSWERED = "probe_answered", "Benign probe: answered"
        PROBE_REFUSED = "probe_refused", "Benign probe: refused"

    moderation = models.CharField(max_length=10, choices=Moderation.choices, default=Moderation.VISIBLE)
    moderation_reason = models.TextField(blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Stored when the final labels change (conversation_labels_outcomes_store, called by judging's
    # final_labels_compute), so the team pages filter, sort and count on it instead of computing it
    # per request over every final label (issue 22: 700 ms at 200,000 conversations).
    labels_outcome = models.CharField(
        max_length=20, choices=LabelsOutcome.choices, default=LabelsOutcome.UNLABELLED, editable=False
    )
    # Stored with the outcome (conversation_labels_counts_store): its defender replies that arrived
    # and have a final label, and how many of those a person confirmed (FinalLabel.HUMAN_SOURCES).
    # The round pages' "confirmed by a person" sums them (judging.selectors.rounds_labels_confirmed)
    # instead of counting every final label of the round per request (2.6 s on PostgreSQL at
    # 200,000 conversations, issue 22).
    labels_labelled = models.PositiveIntegerField(default=0, editable=False)
    labels_confirmed = models.PositiveIntegerField(default=0, editable=False)
    # The audit trail of moderation (conversations/moderation.py writes a history row per decision).
    history = HistoricalRecords(
        excluded_fields=[
            "claimed_by",
            "claim_expires_at",
            "plays",
            "failure_history",
            "started_at",
            "ended_at",
            "labels_outcome",
            "labels_labelled",
            "labels_confirmed",
        ]
    )

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["match", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["match", "sequence"], name="conversation_unique_sequence"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "completed", "failed", "cancelled"]),
                name="conversation_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(moderation__in=["visible", "hidden", "excluded"]), name="conversation_moderation_valid"
            ),
            # A failed conversation always says which side failed and how.
            models.CheckConstraint(
                condition=~Q(status="failed") | (~Q(failure_side="") & ~Q(failure_kind="")),
                name="conversation_failure_explained",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "claim_expires_at"], name="conversation_claimable"),
            models.Index(fields=["match", "status"], name="conversation_match_status"),
            models.Index(fields=["moderation", "status"], name="conversation_moderation"),
            # The team conversation list: a match's conversations newest first, and by outcome.
            models.Index(fields=["match", "created_at", "id"], name="conversation_match_newest"),
            models.Index(fields=["match", "labels_outcome", "status"], name="conversation_match_outcome"),
            # A round's confirmed labels: summed from this index alone (an index-only scan).
            models.Index(
                fields=["match", "status", "moderation", "labels_labelled", "labels_confirmed"],
                name="conversation_match_labels",
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.short_id}"

    @property
    def short_id(self) -> str:
        """How people name a conversation: the first 8 hex digits of its uuid (``conversation_short_id``)."""
        return conversation_short_id(self.uuid)

    @property
    def judgeable(self) -> bool:
        """The rule of judgeable_q for this one conversation."""
        return self.status == self.Status.COMPLETED and self.moderation != self.Moderation.EXCLUDED

    @property
    def goal(self) -> dict:
        return {"category": self.goal_category, "target": self.goal_target}


class Turn(models.Model):
    """One message slot: an attacker message (even index) or a defender reply (odd index)."""

    # "ok", then every way a call can fail: a failed turn's status is its CallFailure, so the two
    # lists cannot drift apart.
    Status = models.TextChoices(
        "Status",
        [("OK", ("ok", "OK")), *((failure.name, (failure.value, failure.label)) for failure in CallFailure)],
        module=__name__,
        qualname="Turn.Status",
    )

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    index = models.PositiveSmallIntegerField()
    speaker = models.CharField(max_length=10, choices=Side.choices)
    content = models.TextField(blank=True)
    ends_conversation = models.BooleanField(default=False, help_text="The attacker asked to end after this")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OK)
    error_detail = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField("latency (ms)", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    # The attempts before the last one that failed and were tried again, oldest first, each
    # {"kind", "detail", "status", "latency_ms"} (teams.http.AttemptFailure.as_dict): a retried call
    # that finally answered keeps why the earlier attempts failed, not only how many there were.
    attempt_errors = models.JSONField(default=list, blank=True)
    delivery_id = models.UUIDField("delivery ID", default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "index"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "index"], name="turn_unique_index"),
            # Attackers speak at even indexes, defenders at odd ones (bot-protocol.md).
            models.CheckConstraint(
                condition=Q(Exact(Mod("index", 2), 0), speaker="attacker")
                | Q(Exact(Mod("index", 2), 1), speaker="defender"),
                name="turn_speaker_matches_index",
            ),
            models.CheckConstraint(condition=~Q(status="ok") | ~Q(content=""), name="turn_ok_has_content"),
        ]
        indexes = [models.Index(fields=["speaker", "status"], name="turn_speaker_status")]

    def __str__(self) -> str:
        return turn_name(short_id=self.conversation.short_id, index=self.index, speaker=self.get_speaker_display())

    @property
    def ok(self) -> bool:
        return self.status == self.Status.OK
