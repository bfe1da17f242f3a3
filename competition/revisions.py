"""Changes to published standings as a team reads them: one line per change, not one per row.

A moderation that changes a bot's standing also changes its team's (a team's standing is its best
bot's), so scoring keeps two StandingRevision rows with the same numbers; a page lists the change
once, under the bot. Counts read as counts ("conversations 7 → 6"), scores with three decimals.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from competition.models import Standing, StandingRevision


@dataclass(frozen=True)
class RevisionLine:
    revision: StandingRevision
    changes_text: str

    def __getattr__(self, name: str):
        # The template reads the row's own fields (changed_at, round, team, bot, reason) through the line.
        return getattr(self.revision, name)


def number_text(value: object) -> str:
    """An integral number as an integer ("7"), another number with three decimals, anything else as is."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def changes_text(changes: object) -> str:
    """``{"field": [before, after]}`` as "field before → after, ...", in the order of Standing.FIGURES
    (other names after them, alphabetically). Never the stored order: PostgreSQL's jsonb keeps a
    mapping's keys sorted by length, SQLite keeps them as written, and a page must read the same on both."""
    if not isinstance(changes, dict):
        return ""
    order = {name: place for place, name in enumerate(Standing.FIGURES)}
    parts = []
    for name in sorted(changes, key=lambda name: (order.get(name, len(order)), name)):
        change = changes[name]
        if isinstance(change, list | tuple) and len(change) == 2:
            parts.append(f"{name} {number_text(change[0])} → {number_text(change[1])}")
    return ", ".join(parts)


def revision_lines(revisions: Iterable[StandingRevision]) -> list[RevisionLine]:
    """The revisions in their order, a team row's dropped when a bot row of the same round, reason
    and changes is listed (the same change seen from the team)."""
    revisions = list(revisions)

    def key(revision: StandingRevision) -> tuple:
        return (revision.round_id, revision.team_id, revision.reason, json.dumps(revision.changes, sort_keys=True))

    of_bots = {key(revision) for revision in revisions if revision.bot_id is not None}
    return [
        RevisionLine(revision, changes_text(revision.changes))
        for revision in revisions
        if revision.bot_id is not None or key(revision) not in of_bots
    ]
