"""What one load of a competition file did: created, updated, unchanged and kept rows per kind, each
changed row with its fields, and the signing secrets of the bots it created (shown once,
load_competition prints them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("competition", "rounds", "teams", "accounts", "memberships", "bots", "entries", "judges")


@dataclass(frozen=True)
class RowChange:
    """One row a load created, updated, or kept as it was though the file says otherwise
    (``keep_existing``): the row by its natural key, and the fields that differ."""

    row: str  # e.g. "team 'stone-wall'", "bot 'stone-wall' / 'careful'"
    change: str  # "created", "updated" or "kept"
    fields: tuple[str, ...] = ()


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # rows that differ from the file, left as they are (keep_existing)
    changes: list[RowChange] = field(default_factory=list)

    def count(self, row: str, change: str, fields: tuple[str, ...] = ()) -> None:
        """Count one row as ``change`` ("created", "updated", "unchanged" or "kept"); list it unless unchanged."""
        setattr(self, change, getattr(self, change) + 1)
        if change != "unchanged":
            self.changes.append(RowChange(row=row, change=change, fields=fields))


@dataclass(frozen=True)
class NewBotSecret:
    """The signing secret of a bot this load created: shown to the organizer once, to hand to its team."""

    team: str  # the team's slug
    bot: str  # the bot's name
    url: str
    secret: str


@dataclass
class LoadReport:
    """What one load did, counted per kind of row, and the secrets of the bots it created."""

    path: Path
    competition_slug: str
    dry_run: bool = False
    keep_existing: bool = False
    tallies: dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in KINDS})
    new_bot_secrets: list[NewBotSecret] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(tally.created or tally.updated for tally in self.tallies.values())

    @property
    def kept(self) -> list[tuple[str, RowChange]]:
        """The rows that differ from the file and were left as they are (keep_existing), with their kind."""
        return [
            (kind, change)
            for kind, tally in self.tallies.items()
            for change in tally.changes
            if change.change == "kept"
        ]

    def lines(self) -> list[str]:
        """A small table of created / updated / unchanged counts, one kind a line (and kept, when any was)."""
        kept = any(tally.kept for tally in self.tallies.values())
        rows = [f"{'':<12} {'created':>8} {'updated':>8} {'unchanged':>10}" + (f" {'kept':>6}" if kept else "")]
        rows += [
            f"{kind:<12} {tally.created:>8} {tally.updated:>8} {tally.unchanged:>10}"
            + (f" {tally.kept:>6}" if kept else "")
            for kind, tally in self.tallies.items()
        ]
        return rows
