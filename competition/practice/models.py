"""A competition's practice policy (what the organizer opened, the daily cap, the pause), the bots
open for practice, and each practice match a team asked for.

A practice match is played as a Round of kind PRACTICE_MATCH with one Match, so the player, the
judges and the reaper handle it as any round; every reader of rounds for standings, ratings,
leaderboards and datasets leaves that kind out (Round.kind, competition/models.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class PracticePolicy(models.Model):
    """How much practice a competition allows; a competition without one allows none."""

    competition = models.OneToOneField(
        "competition.Competition", on_delete=models.CASCADE, related_name="practice_policy"
    )
    daily_conversations = models.PositiveSmallIntegerField(
        default=10, help_text="Practice conversations a team may start per day (UTC); 0: practice closed"
    )
    conversations_per_match = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    max_turns = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(50)], help_text="Exchanges per conversation"
    )
    paused = models.BooleanField(default=False, help_text="No practice match starts while paused")

    class Meta:
        verbose_name_plural = "practice policies"
        constraints = [
            models.CheckConstraint(condition=Q(conversations_per_match__gte=1), name="practice_policy_match_positive"),
            models.CheckConstraint(condition=Q(max_turns__gte=1), name="practice_policy_turns_positive"),
        ]

    def __str__(self) -> str:
        return f"Practice in {self.competition}{' (paused)' if self.paused else ''}"


class PracticeOpponent(models.Model):
    """A bot open for practice in a competition: a reference bot the organizer named in the competition
    file (`reference`), or a team's bot its owner opted in."""

    competition = models.ForeignKey(
        "competition.Competition", on_delete=models.CASCADE, related_name="practice_opponents"
    )
    bot = models.ForeignKey("teams.Bot", on_delete=models.CASCADE, related_name="practice_openings")
    reference = models.BooleanField(default=False, help_text="Named by the organizer (else: its team opted in)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["competition", "-reference", "bot"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "bot"], name="practice_opponent_unique_bot"),
        ]

    def __str__(self) -> str:
        return f"{self.bot} open for practice in {self.competition}"


class PracticeMatch(models.Model):
    """One practice match a team asked for: its bot against an opponent, played as `round`."""

    round = models.OneToOneField("competition.Round", on_delete=models.CASCADE, related_name="practice_match")
    competition = models.ForeignKey("competition.Competition", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="practice_matches")
    bot = models.ForeignKey("teams.Bot", on_delete=models.PROTECT, related_name="practice_matches")
    opponent = models.ForeignKey("teams.Bot", on_delete=models.PROTECT, related_name="practice_matches_against")
    conversations = models.PositiveSmallIntegerField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "practice matches"
        indexes = [models.Index(fields=["team", "created_at"], name="practice_match_team_day")]

    def __str__(self) -> str:
        return f"Practice: {self.bot} vs {self.opponent} ({self.created_at:%Y-%m-%d %H:%M})"
