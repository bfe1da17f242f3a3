"""Entry (a team in a competition) and EntryBot (a bot the entry plays)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from teams.models import Bot, Team


class EntryStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    WITHDRAWN = "withdrawn", "Withdrawn"
    DECLINED = "declined", "Declined"


class Registration(models.TextChoices):
    """How teams come into a competition (Competition.registration)."""

    OPEN = "open", "Open: a request is approved at once"
    APPROVAL = "approval", "By approval: organizers approve each request"
    CLOSED = "closed", "Closed: only organizers enter teams"


class Entry(models.Model):
    """One team taking part in one competition; only approved entries play."""

    Status = EntryStatus

    competition = models.ForeignKey("competition.Competition", on_delete=models.CASCADE, related_name="entries")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="entries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="Why it was declined or withdrawn; sent to the requester")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    bots = models.ManyToManyField(Bot, through="EntryBot", related_name="entries", blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["competition__name", "team__name"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["competition", "team"], name="entry_unique_competition_team"),
            models.CheckConstraint(condition=Q(status__in=EntryStatus.values), name="entry_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.team} in {self.competition} ({self.get_status_display().lower()})"


class EntryBot(models.Model):
    """A bot entered into an entry: it plays the rounds of the entry's competition while the entry is
    approved and the bot active. The bot must be of the entry's team (entries.services checks it)."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="entry_bots")
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="entry_bots")
    entered_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["entry", "bot__name"]
        constraints = [models.UniqueConstraint(fields=["entry", "bot"], name="entrybot_unique_entry_bot")]

    def __str__(self) -> str:
        return f"{self.bot} in {self.entry.competition}"


class EntrySeat(models.Model):
    """A person's place in a competition through one entry of their team, kept for every member of
    every requested or approved entry (competition.entries.seats). The unique (competition, user)
    is how the database holds "a person is on at most one team per competition": membership is per
    team and an entry per competition, so the pair is written down here, where one constraint can
    see both; the competition is the entry's own (copied, as a constraint cannot follow a join)."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="seats")
    competition = models.ForeignKey("competition.Competition", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entry_seats")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["competition", "user"], name="entryseat_one_team_per_competition"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.competition} for {self.entry.team}"
