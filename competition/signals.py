"""What competition tells the layers above it, without importing them (accounts' notices listen).

Each is sent once the transaction that made the change commits, with primary keys only:
- ``round_started(round_id)``: a round started (competition/pipeline/lifecycle/start.py: round_start);
- ``round_published(round_id)``: a round's standings were published (round_publish);
- ``standings_revised(round_id, reason)``: a published round's standings changed
  (competition/pipeline/scoring.py: round_score wrote revisions);
- ``entry_decided(entry_id)``: an entry was approved or declined (competition/entries/services.py).
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

round_started = Signal()
round_published = Signal()
standings_revised = Signal()
entry_decided = Signal()


def signal_on_commit(signal: Signal, **kwargs) -> None:
    """Send ``signal`` with ``kwargs`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: signal.send(sender=None, **kwargs))
