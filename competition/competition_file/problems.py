"""What is wrong with a competition file, and where: each problem becomes one ``file: place: problem`` line.

Places are written the way an organizer reads the file (``teams[2].bots[0].url``) and values are named
in an organizer's words (``a whole number``, ``an empty list``), so a line can be acted on without
knowing Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any


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


def places_in_file_order(document: Any) -> dict[str, int]:
    """Every place of the document (as place_of writes it) -> its rank in the file: a mapping's keys
    and a list's items in the order they were written (YAML and JSON keep it in the parsed dicts),
    each place before what it holds. So sorting by rank sorts by line."""
    ranks: dict[str, int] = {}

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            items = [(place_of(where, key), item) for key, item in value.items()]
        elif isinstance(value, list):
            items = [(f"{where}[{index}]", item) for index, item in enumerate(value)]
        else:
            return
        for place, item in items:
            ranks.setdefault(place, len(ranks))
            walk(item, place)

    ranks[""] = -1
    walk(document, "")
    return ranks


def problems_in_file_order(problems: list[Problem], document: Any) -> list[Problem]:
    """The problems sorted by where they are in the file (places_in_file_order), each once.

    A place the file does not hold (a required key that is missing) sorts with the nearest place
    around it that it does: the mapping that lacks the key, after the mapping's own problems."""
    ranks = places_in_file_order(document)

    def rank(problem: Problem) -> tuple[int, int]:
        where = problem.where
        depth = 0
        while where not in ranks:
            parent = _parent(where)
            if parent is None:
                return (len(ranks), 0)
            where, depth = parent, depth + 1
        return (ranks[where], depth)

    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=rank)


def _parent(where: str) -> str | None:
    """The place holding `where` (``teams[0].bots`` for ``teams[0].bots[1]``), None at the top."""
    if not where:
        return None
    if where.endswith("]"):
        start = where.rfind("[")
        return where[:start] if start > 0 else ""
    dot = where.rfind(".")
    return where[:dot] if dot > 0 else ""
