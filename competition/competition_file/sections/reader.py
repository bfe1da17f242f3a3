"""The reader that walks a parsed competition file and collects every problem on the way.

SectionReader holds the problems and the shape checks every section uses (a mapping with known and
required keys, a list, a value through its check, a value unique in the file); `competition_file`
walks the document's sections, each read by its own module of this package.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from competition.competition_file.descriptions import CompetitionFile
from competition.competition_file.practice import practice_check
from competition.competition_file.problems import Problem, kind_of, place_of
from competition.competition_file.schema import TOP_KEYS, JudgeConfigSchemas
from competition.competition_file.sections.competition import competition_read, reference_defender_check
from competition.competition_file.sections.judges import judges_read
from competition.competition_file.sections.people import annotators_read
from competition.competition_file.sections.rounds import rounds_read
from competition.competition_file.sections.teams import teams_read


class SectionReader:
    """Walks a parsed document and collects problems.

    The values it hands back are only used when no problem was found: a missing or invalid value comes
    back as the default so that reading goes on and finds the other problems too.
    """

    def __init__(self, *, judge_configs: JudgeConfigSchemas | None = None) -> None:
        self.problems: list[Problem] = []
        # Each judge kind's config schema (schema.JudgeConfigSchemas); without them a judge's config
        # is checked as a JSON mapping only.
        self.judge_configs = judge_configs

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    # --- Shapes ------------------------------------------------------------------------------------

    def mapping(self, value: Any, where: str, *, keys: Collection[str], required: Collection[str] = ()) -> dict:
        if not isinstance(value, dict):
            self.problem(where, f"must be a mapping, got {kind_of(value)}")
            return {}
        for key in value:
            if key not in keys:
                self.problem(place_of(where, key), _unknown_key(key, keys))
        for key in required:
            if key not in value:
                self.problem(place_of(where, key), "required key is missing")
        return value

    def sequence(self, data: dict, key: str, where: str) -> list:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(place_of(where, key), f"must be a list, got {kind_of(value)}")
            return []
        return value

    def read(self, data: dict, key: str, where: str, check: Callable[[Any], Any], default: Any) -> Any:
        """The value at key once check accepts it; default when it is absent or refused (problem recorded)."""
        if key not in data:
            return default
        try:
            return check(data[key])
        except ValidationError as exc:
            for message in exc.messages:
                self.problem(place_of(where, key), message)
        return default

    def unique(self, seen: dict, value: Any, where: str, what: str, *, fold: bool = False) -> None:
        """Record value as used at where; a second use is a problem naming the first."""
        marker = value.casefold() if fold and isinstance(value, str) else value
        if marker in seen:
            self.problem(where, f"duplicate {what} {value!r}; already used at {seen[marker]}")
        else:
            seen[marker] = where

    def check_with(self, validator: Callable[[Any], None], value: Any, where: str) -> None:
        try:
            validator(value)
        except ValidationError as exc:
            for message in exc.messages:
                self.problem(where, message)

    # --- The document ------------------------------------------------------------------------------

    def competition_file(self, path: Path, document: Any) -> CompetitionFile:
        if not isinstance(document, dict):
            found = "the file is empty" if document is None else f"the file holds {kind_of(document)}"
            self.problem("", f"{found}; it must hold a mapping with a competition (and rounds, teams, judges)")
            return CompetitionFile(path, competition_read(SectionReader(), {}, "competition"), (), (), ())
        top = self.mapping(document, "", keys=TOP_KEYS, required=("competition",))
        if "competition" in top:
            competition = competition_read(self, top["competition"], "competition")
        else:
            # Its absence is reported once above; the rounds still need the defaults to be read.
            competition = competition_read(SectionReader(), {}, "competition")
        rounds = rounds_read(self, self.sequence(top, "rounds", ""), competition)
        usernames: dict = {}
        teams = teams_read(self, self.sequence(top, "teams", ""), usernames)
        reference_defender_check(self, competition, teams)
        practice_check(self, competition.practice, teams)
        judges = judges_read(self, self.sequence(top, "judges", ""))
        annotators = annotators_read(self, self.sequence(top, "annotators", ""), usernames)
        return CompetitionFile(
            path=path, competition=competition, rounds=rounds, teams=teams, judges=judges, annotators=annotators
        )


def _unknown_key(key: object, keys: Collection[str]) -> str:
    message = f"unknown key; expected one of {', '.join(keys)}"
    if isinstance(key, str):
        close = difflib.get_close_matches(key, list(keys), n=1)
        if close:
            message = f"unknown key; did you mean {close[0]!r}? (expected one of {', '.join(keys)})"
    return message
