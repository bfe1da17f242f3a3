"""The organizers' admin for the pipeline's state, read-only: bots' circuits, players' leases and
bots' call slots (competition/pipeline/models.py). The players and the reaper write them; organizers
watch."""

from __future__ import annotations

from django.contrib import admin

from competition.pipeline.models import BotCircuit, BotSlot, PlayerLease
from config.admin_kit import RoundListFilter, ViewOnlyAdminMixin, yes_no_flag


@admin.register(BotCircuit)
class BotCircuitAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["bot", "round", "consecutive_failures", "is_open", "opened_at"]
    list_filter = [("opened_at", admin.EmptyFieldListFilter), "round__competition", ("round", RoundListFilter)]
    search_fields = ["bot__name", "bot__team__name", "reason"]
    list_select_related = ["bot__team", "round__competition"]
    readonly_fields = ["round", "bot", "consecutive_failures", "opened_at", "reason"]
    fields = readonly_fields

    @admin.display(description="Circuit")
    def is_open(self, circuit: BotCircuit) -> str:
        return yes_no_flag(circuit.is_open, yes="open", no="closed", warn_when=True)


@admin.register(PlayerLease)
class PlayerLeaseAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Which workers play rounds now (one lease per player); the players and the reaper manage
    leases, organizers watch."""

    list_display = ["name", "holder", "acquired_at", "expires_at"]
    readonly_fields = ["name", "holder", "acquired_at", "expires_at"]
    fields = readonly_fields


@admin.register(BotSlot)
class BotSlotAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Which player may use which of a bot's call slots; the players manage them, organizers watch."""

    list_display = ["bot", "index", "holder", "expires_at"]
    list_filter = ["holder"]
    search_fields = ["bot__name", "holder"]
    list_select_related = ["bot__team"]
    readonly_fields = ["bot", "index", "holder", "expires_at"]
    fields = readonly_fields
