"""The learned judge's trained models: one row per model, each the model of one judge version."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class LearnedModel(models.Model):
    """A model trained for a `learned` judge (judging/judges/learned/training.py). It is the model
    of `judge` from `version` on: the judge's runner uses the row with the highest version not
    above the judge's own, else the shipped seed model. `data` is the gzipped JSON that
    judging.judges.learned.model.model_dump writes; `digest` its SHA-256."""

    judge = models.ForeignKey("judging.Judge", on_delete=models.CASCADE, related_name="learned_models")
    version = models.PositiveIntegerField(help_text="The judge version this model made")
    data = models.BinaryField(editable=False)
    digest = models.CharField("SHA-256", max_length=64, editable=False)
    figures = models.JSONField(
        default=dict,
        blank=True,
        help_text="Cross-validated figures per label, and the active model's on the same folds",
    )
    training = models.JSONField(default=dict, blank=True, help_text="Records by source, the data's digest")
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["judge", "-version"]
        constraints = [models.UniqueConstraint(fields=["judge", "version"], name="learned_model_unique_version")]

    def __str__(self) -> str:
        return f"{self.judge} model v{self.version} ({self.digest[:12]})"
