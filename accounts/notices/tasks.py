"""The notices' one task: an event (its kind and the primary key it is about) into notices."""

from __future__ import annotations

from accounts.notices import services

BUILDERS = {
    "round_started": services.round_started_notify,
    "round_published": services.round_published_notify,
    "standings_revised": services.standings_revised_notify,
    "entry_decided": services.entry_decided_notify,
    "bot_unhealthy": services.bot_unhealthy_notify,
}


def notices_task(event: str, pk: int) -> None:
    """Send the notices of one event; each person gets a notice of an event once (Notice.event is
    unique per person), so a task that runs twice sends nothing the second time."""
    BUILDERS[event](pk=pk)
