"""What it was: judges' verdicts and humans' annotations on defender replies, and the final label."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from competition.models import Competition, Round
from conversations.models import Conversation, Turn

# The models of judging's subpackages, imported here so Django sees them and re-exported (__all__).
from judging.annotation.models import AnnotationCampaign, Assignment, CampaignItem
from judging.datasets.models import DatasetConversation, ExportJob


class LabelFields(models.Model):
    """The labels of a defender reply (design.md, "Labels of a defender reply").

    None means "not judged" (a judge that only looks at code says nothing about refusal).
    """

    malicious_assistance = models.BooleanField(null=True, blank=True)
    vulnerable_code = models.BooleanField(null=True, blank=True)
    refusal = models.BooleanField(null=True, blank=True)
    cwe = models.JSONField("CWE", default=list, blank=True, help_text='CWE ids, e.g. ["CWE-89"]')
    severity = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(3)], help_text="0 (none) to 3 (critical)"
    )
    rationale = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def unsafe(self) -> bool:
        return bool(self.malicious_assistance or self.vulnerable_code)


def severity_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(severity__isnull=True) | Q(severity__lte=3), name=name)


class Judge(models.Model):
    class Kind(models.TextChoices):
        STATIC = "static", "Static analysis"
        RULES = "rules", "Rules"
        LLM = "llm", "LLM (OpenAI-compatible)"
        HTTP = "http", "HTTP judge service"
        LEARNED = "learned", "Learned (trained on labelled replies)"

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="judges")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    config = models.JSONField(default=dict, blank=True, help_text="Kind-specific settings (see docs/judges.md)")
    version = models.PositiveIntegerField(default=1, help_text="Raise it when the judge's behaviour changes")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who changed what and when (credentials in config are masked in the history: judging/history.py).
    history = HistoricalRecords()

    class Meta:
        ordering = ["competition", "name"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "slug"], name="judge_unique_slug"),
            models.CheckConstraint(
                condition=Q(kind__in=["static", "rules", "llm", "http", "learned"]), name="judge_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class JudgeAccuracy(models.Model):
    """One measurement of a judge on a labelled reply file (`manage.py judge_accuracy`): its figures
    and the final label's of the same run. The judge's admin page shows the latest."""

    judge = models.ForeignKey(Judge, on_delete=models.CASCADE, related_name="accuracy_measurements")
    judge_version = models.PositiveIntegerField()
    measured_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=255, help_text="The labelled JSONL file measured on")
    replies = models.PositiveIntegerField()
    figures = models.JSONField(
        help_text="This judge's figures (judging/judges/accuracy.py: figures per label, source, language)"
    )
    ensemble = models.JSONField(help_text="The final label's figures on the same run, all active judges together")

    class Meta:
        ordering = ["judge", "-measured_at"]
        get_latest_by = "measured_at"
        indexes = [models.Index(fields=["judge", "-measured_at"], name="judge_accuracy_latest")]

    def __str__(self) -> str:
        return f"{self.judge} on {self.file_name} at {self.measured_at:%Y-%m-%d %H:%M}"


class Verdict(LabelFields):
    """One judge version's labels for one defender reply; every run keeps its own row."""

    # docs/judges.md, "Confidence": for each label the judge has an opinion on, the probability
    # (learned judge: calibrated; other kinds: stated by their documented rules) that it is true.
    probabilities = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per label, the probability that it is true, e.g. {"refusal": 0.97}; a label left out has no opinion',
    )

    turn = models.ForeignKey(Turn, on_delete=models.CASCADE, related_name="verdicts")
    judge = models.ForeignKey(Judge, on_delete=models.CASCADE, related_name="verdicts")
    judge_version = models.PositiveIntegerField()
    findings = models.JSONField(default=list, blank=True, help_text="Code findings with their lines")
    raw_output = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Set when the judge could not label the reply")
    duration_ms = models.PositiveIntegerField("duration (ms)", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["turn", "judge"]
        constraints = [
            models.UniqueConstraint(fields=["turn", "judge", "judge_version"], name="verdict_unique_judge_version"),
            severity_constraint("verdict_severity_range"),
        ]
        indexes = [models.Index(fields=["judge", "judge_version"], name="verdict_judge_version")]

    def __str__(self) -> str:
        return f"{self.judge} on {self.turn}"

    @property
    def ok(self) -> bool:
        return not self.error


class Annotation(LabelFields):
    """A human's labels for a defender reply. Adjudications settle disagreements and win over all."""

    turn = models.ForeignKey(Turn, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations")
    adjudication = models.BooleanField(default=False)
    quality = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)], help_text="1 (poor) to 5"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who changed what and when, adjudications included; a deleted annotation keeps its history.
    history = HistoricalRecords()

    class Meta:
        ordering = ["turn", "created_at"]
        # Annotators are blind to each other; only holders of this permission see every annotation.
        permissions = [("view_all_annotations", "Can see every annotator's annotations")]
        constraints = [
            models.UniqueConstraint(fields=["turn", "annotator", "adjudication"], name="annotation_unique_annotator"),
            severity_constraint("annotation_severity_range"),
            models.CheckConstraint(
                condition=Q(quality__isnull=True) | Q(quality__gte=1, quality__lte=5), name="annotation_quality_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{'Adjudication' if self.adjudication else 'Annotation'} by {self.annotator} on {self.turn}"


class FinalLabel(LabelFields):
    """The reconciled label of a defender reply, recomputed when a verdict or annotation arrives."""

    class Source(models.TextChoices):
        ADJUDICATION = "adjudication", "Adjudicated human label"
        HUMAN_MAJORITY = "human_majority", "Human majority"
        JUDGE_ENSEMBLE = "judge_ensemble", "Judge ensemble"

    class RowKind(models.TextChoices):
        """What kind of row decided a label (the ``kind`` of each row in ``detail``)."""

        VERDICT = "verdict", "Judge's verdict"
        ANNOTATION = "annotation", "Annotation"
        ADJUDICATION = "adjudication", "Adjudication"

    # The rows that humans wrote: hidden from whoever may not see human labels (annotators label blind).
    HUMAN_ROW_KINDS = (RowKind.ANNOTATION, RowKind.ADJUDICATION)
    # The sources that mean people decided a label: a final label from one of them is "confirmed by
    # a person" (docs/scoring.md, "Labels confirmed by a person").
    HUMAN_SOURCES = (Source.ADJUDICATION, Source.HUMAN_MAJORITY)

    turn = models.OneToOneField(Turn, on_delete=models.CASCADE, related_name="final_label")
    source = models.CharField(max_length=20, choices=Source.choices)
    detail = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per label: {"value", "source", "rows", "vote"}; each row that decided it is '
        '{"kind": verdict|annotation|adjudication, "id", and "judge" + "judge_version" or "annotator"}',
    )
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            severity_constraint("final_label_severity_range"),
            models.CheckConstraint(
                condition=Q(source__in=["adjudication", "human_majority", "judge_ensemble"]),
                name="final_label_source_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Final label of {self.turn}"


def final_label_row(row: Verdict | Annotation) -> dict:
    """How FinalLabel.detail names a row that decided a label: its kind and id, and for a verdict
    the judge's slug and version, for a human label the annotator's id."""
    if isinstance(row, Verdict):
        return {
            "kind": FinalLabel.RowKind.VERDICT.value,
            "id": row.pk,
            "judge": row.judge.slug,
            "judge_version": row.judge_version,
        }
    kind = FinalLabel.RowKind.ADJUDICATION if row.adjudication else FinalLabel.RowKind.ANNOTATION
    return {"kind": kind.value, "id": row.pk, "annotator": row.annotator_id}


class JudgedConversation(Conversation):
    """A conversation as judging shows it: the admin's transcripts (verdicts, final labels) and the
    re-judge action are registered on this proxy, so the conversations app needs nothing of judging."""

    class Meta:
        proxy = True
        verbose_name = "transcript"
        verbose_name_plural = "transcripts"


class JudgedRound(Round):
    """A round as judging shows it: the admin's re-judge action for rounds is registered on this
    proxy, so the competition app's admin needs nothing of judging."""

    class Meta:
        proxy = True
        verbose_name = "round to judge"
        verbose_name_plural = "rounds to judge"


__all__ = [
    "Annotation",
    "AnnotationCampaign",
    "Assignment",
    "CampaignItem",
    "DatasetConversation",
    "ExportJob",
    "FinalLabel",
    "Judge",
    "JudgedConversation",
    "JudgedRound",
    "LabelFields",
    "Verdict",
    "final_label_row",
    "severity_constraint",
]


# The learned judge's trained models live beside its code (imported here so Django sees them).
from judging.judges.learned.models import LearnedModel  # noqa: E402, F401
