"""What is wrong with a competition file, and where: each problem becomes one ``file: place: problem`` line.

Places are written the way an organizer reads the file (``teams[2].bots[0].url``) and values are named
in an organizer's words (``a whole number``, ``an empty list``), so a line can be acted on without
knowing Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where inside it (empty for the file as a whole) and what."""

    where: str
    message: str

    def render(self, path: Path) -> str:
        return f"{path}: {self.where}: {self.message}" if self.where else f"{path}: {self.message}"


class CompetitionFileInvalid(Exception):
    """A competition file that cannot be loaded, with every problem found in it."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """One line per problem: ``file: place inside: what is wrong``."""
        return [problem.render(self.path) for problem in self.problems]


def place_of(where: str, key: object) -> str:
    """The place of key inside the mapping at where: ``teams[0].url``, or ``goals['odd key']``."""
    if isinstance(key, str) and key.isidentifier():
        return f"{where}.{key}" if where else key
    return f"{where}[{key!r}]"


def kind_of(value: object) -> str:
    """What a value is, in the words an organizer would use."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    return type(value).__name__
