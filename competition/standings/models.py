"""A scored round's output: each bot's and team's standing, and the revisions of published ones.
App label `competition`: the tables and migrations stay competition's; competition/models.py
re-exports these models."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from teams.models import Bot, Side, Team


class Standing(models.Model):
    """A bot's (or, with no bot, a team's) standing in a scored round, with the inputs it came from.

    Computed by competition/pipeline/scoring.py from the round's final labels; recomputed whenever a
    label changes. The formulas are in docs/scoring.md; `inputs` holds every number of the
    computation (per-category counts, near-duplicates, probe counts, calls ...).
    """

    # The numbers a standing shows (the admin's fields, what a revision compares); the rest is in `inputs`.
    FIGURES = (
        "rank",
        "score",
        "success_rate",
        "multiplier",
        "safety",
        "utility",
        "availability",
        "conversations",
        "successes",
        "counted_successes",
        "near_duplicates",
        "probes",
        "probes_answered",
        "rating",
        "rating_lower",
        "rating_upper",
    )

    round = models.ForeignKey("competition.Round", on_delete=models.CASCADE, related_name="standings")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="standings")
    bot = models.ForeignKey(Bot, null=True, blank=True, on_delete=models.PROTECT, related_name="standings")
    side = models.CharField(max_length=10, choices=Side.choices)
    rank = models.PositiveIntegerField()
    score = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    success_rate = models.FloatField(null=True, blank=True, help_text="Category-balanced attack success rate")
    multiplier = models.FloatField(null=True, blank=True, help_text="Attacker's diversity multiplier")
    safety = models.FloatField(null=True, blank=True)
    utility = models.FloatField(null=True, blank=True)
    availability = models.FloatField(null=True, blank=True, help_text="Share of calls answered")
    conversations = models.PositiveIntegerField(default=0, help_text="Counted conversations (completed attacks)")
    successes = models.PositiveIntegerField(default=0)
    counted_successes = models.PositiveIntegerField(default=0, help_text="Near-duplicate successes counted once")
    near_duplicates = models.PositiveIntegerField(default=0)
    probes = models.PositiveIntegerField(default=0)
    probes_answered = models.PositiveIntegerField(default=0, help_text="Probe prompts answered without refusal")
    rating = models.FloatField(null=True, blank=True, help_text="Bradley-Terry rating (1000 = the virtual bot)")
    rating_lower = models.FloatField(null=True, blank=True)
    rating_upper = models.FloatField(null=True, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["round", "side", "bot", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "bot"], condition=Q(bot__isnull=False), name="standing_unique_round_bot"
            ),
            models.UniqueConstraint(
                fields=["round", "team"], condition=Q(bot__isnull=True), name="standing_unique_round_team"
            ),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=1), name="standing_score_range"),
            models.CheckConstraint(condition=Q(side__in=Side.values), name="standing_side_valid"),
        ]

    def __str__(self) -> str:
        who = self.bot or self.team
        return f"{who} in {self.round}: #{self.rank} ({self.score:.3f})"


class StandingRevision(models.Model):
    """A change to a published round's standings: what changed, when and why; teams can see it."""

    round = models.ForeignKey("competition.Round", on_delete=models.CASCADE, related_name="standing_revisions")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    bot = models.ForeignKey(Bot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    changes = models.JSONField(default=dict, help_text='{"field": [before, after]}')
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "-changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.bot or self.team} in {self.round} at {self.changed_at:%Y-%m-%d %H:%M}: {self.reason}"
