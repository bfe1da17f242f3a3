"""Annotation campaigns: which defender replies humans label, who labels each, and how far they are.

Imported by judging/models.py, so these are judging's models. An item is one defender reply; an
assignment gives an item to one annotator (at most once: unique (item, annotator)). The labels
themselves are Annotation rows (one per reply and annotator, shared by every campaign the reply is
in); an organizer's adjudication is an Annotation with ``adjudication=True``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from competition.models import Competition, Round
from conversations.models import Conversation, Turn


class AnnotationCampaign(models.Model):
    class Sampling(models.TextChoices):
        ALL = "all", "Every defender reply"
        RANDOM = "random", "A random share (seeded)"
        FLAGGED = "flagged", "Every reply any judge flagged"
        DISAGREE = "disagree", "Every reply where the judges disagree"
        STRATIFIED = "stratified", "A sample per goal category and defender (seeded)"
        LEAST_CONFIDENT = "least_confident", "The least confident share first (undecided, then closest votes)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (items not built)"
        OPEN = "open", "Open for annotation"
        CLOSED = "closed", "Closed"

    competition = models.ForeignKey(Competition, on_delete=models.PROTECT, related_name="annotation_campaigns")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="What the annotators should know")
    rounds = models.ManyToManyField(Round, blank=True, related_name="annotation_campaigns")
    conversations = models.ManyToManyField(
        Conversation,
        blank=True,
        related_name="annotation_campaigns",
        help_text="Chosen conversations (with or instead of rounds); their replies join the pool",
    )
    annotators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="annotation_campaigns")
    overlap = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)], help_text="Annotators per item (k)"
    )
    sampling = models.CharField(max_length=16, choices=Sampling.choices, default=Sampling.ALL)
    share = models.FloatField(
        default=0.2,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Random and least confident: the fraction of the pool's replies to take (0 to 1)",
    )
    per_stratum = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1)], help_text="Stratified: replies per goal category and defender"
    )
    seed = models.PositiveIntegerField(default=0, help_text="Seeds sampling and assignment: same seed, same result")
    show_judges = models.BooleanField(default=False, help_text="Show the judges' verdicts to annotators")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True, help_text="When the items were sampled and assigned")
    # Organizers edit campaigns (sampling, overlap, annotators, rounds): the admin's History shows who
    # changed what, who was added to or taken off the annotators and which rounds joined or left.
    # (Chosen conversations are not kept: each version would copy every one of them.)
    history = HistoricalRecords(m2m_fields=["annotators", "rounds"])

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "name"], name="campaign_unique_name"),
            models.CheckConstraint(condition=Q(overlap__gte=1), name="campaign_overlap_positive"),
            models.CheckConstraint(condition=Q(share__gte=0) & Q(share__lte=1), name="campaign_share_range"),
            models.CheckConstraint(
                condition=Q(sampling__in=["all", "random", "flagged", "disagree", "stratified", "least_confident"]),
                name="campaign_sampling_valid",
            ),
            models.CheckConstraint(condition=Q(status__in=["draft", "open", "closed"]), name="campaign_status_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignItem(models.Model):
    """One defender reply of a campaign."""

    campaign = models.ForeignKey(AnnotationCampaign, on_delete=models.CASCADE, related_name="items")
    turn = models.ForeignKey(Turn, on_delete=models.PROTECT, related_name="campaign_items")
    # The stratum it was drawn from ("<goal category> / <defender bot id>"), for stratified sampling.
    stratum = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(help_text="Seeded order of the campaign's items")

    class Meta:
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "turn"], name="campaign_item_unique_turn"),
            models.UniqueConstraint(fields=["campaign", "position"], name="campaign_item_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} item {self.position + 1}"


class Assignment(models.Model):
    """One item given to one annotator; never twice to the same one."""

    class Status(models.TextChoices):
        OPEN = "open", "To do"
        SKIPPED = "skipped", "Skipped"
        DONE = "done", "Labelled"
        REASSIGNED = "reassigned", "Reassigned to someone else"

    item = models.ForeignKey(CampaignItem, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    assigned_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item", "annotator"]
        constraints = [
            models.UniqueConstraint(fields=["item", "annotator"], name="assignment_unique_annotator"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "skipped", "done", "reassigned"]), name="assignment_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["annotator", "status"], name="assignment_annotator_status")]

    def __str__(self) -> str:
        return f"{self.item} for {self.annotator}"

    @property
    def active(self) -> bool:
        """Still counts towards the item's k annotators (not handed to someone else)."""
        return self.status != self.Status.REASSIGNED
