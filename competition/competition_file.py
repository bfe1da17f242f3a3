"""The competition file: one YAML or JSON document describing a whole competition.

Parsing and validation only, into plain dataclasses; competition_load.py writes them to the database.
Every problem in a file is collected, not just the first, and each one names the file, the place
inside it (``teams[2].bots[0].url``) and what is wrong, so an organizer fixes a file in one pass.
Values are checked with the validators of the model fields that will hold them, so the file can never
accept what the admin would refuse. Nothing here reads or writes the database.

The format is documented for organizers in docs/competition-file.md.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator, URLValidator, validate_slug
from django.db.models import Field
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from competition.models import Competition, Round, validate_goals, validate_string_list, validate_weights
from teams.models import Bot, Membership, Side, Team

SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}

# The judging app sits downstream of this one, so its models are not imported here (competition_load.py
# is the one module allowed to); these mirror judging.models.Judge and a test keeps them equal.
JUDGE_KINDS = ("static", "rules", "llm", "http")
JUDGE_NAME_MAX_LENGTH = 120
JUDGE_SLUG_MAX_LENGTH = 60

TOP_KEYS = ("competition", "rounds", "teams", "judges")
COMPETITION_KEYS = (
    "name",
    "slug",
    "description",
    "goals",
    "scoring_weights",
    "benign_prompts",
    "round_defaults",
)
# The round settings a competition keeps a default for (Competition.default_<name>).
ROUND_DEFAULT_KEYS = ("conversations_per_pair", "max_turns", "call_timeout_seconds", "retries", "message_limit")
ROUND_KEYS = ("number", "name", "slug", "practice", *Round.SETTING_FIELDS, "scheduled_at")
TEAM_KEYS = ("name", "slug", "institution", "side", "active", "members", "bots")
MEMBER_KEYS = ("username", "email", "role", "password")
BOT_KEYS = (
    "name",
    "kind",
    "url",
    "model",
    "system_prompt",
    "api_key",
    "timeout_seconds",
    "max_concurrency",
    "active",
)
JUDGE_KEYS = ("name", "slug", "kind", "config", "version", "active")

_http_url = URLValidator(schemes=["http", "https"], message="must be an http:// or https:// URL")


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


@dataclass(frozen=True)
class CompetitionDescription:
    where: str
    name: str
    slug: str
    description: str
    goals: dict[str, list[str]]
    scoring_weights: dict[str, float]
    benign_prompts: list[str]
    default_conversations_per_pair: int
    default_max_turns: int
    default_call_timeout_seconds: float
    default_retries: int
    default_message_limit: int


@dataclass(frozen=True)
class RoundDescription:
    where: str
    number: int
    name: str
    slug: str
    practice: bool
    conversations_per_pair: int
    max_turns: int
    call_timeout_seconds: float
    retries: int
    message_limit: int
    circuit_breaker_failures: int
    scheduled_at: datetime | None


@dataclass(frozen=True)
class MemberDescription:
    where: str
    username: str
    email: str
    role: str
    # None: the account is created with an unusable password (the person sets one by a reset).
    password: str | None


@dataclass(frozen=True)
class BotDescription:
    where: str
    name: str
    kind: str
    url: str
    model: str
    system_prompt: str
    api_key: str
    timeout_seconds: float | None
    max_concurrency: int
    active: bool


@dataclass(frozen=True)
class TeamDescription:
    where: str
    name: str
    slug: str
    institution: str
    side: str
    active: bool
    members: tuple[MemberDescription, ...]
    bots: tuple[BotDescription, ...]


@dataclass(frozen=True)
class JudgeDescription:
    where: str
    name: str
    slug: str
    kind: str
    config: dict
    version: int
    active: bool


@dataclass(frozen=True)
class CompetitionFile:
    """A valid competition file: everything in it, checked, with the place each part came from."""

    path: Path
    competition: CompetitionDescription
    rounds: tuple[RoundDescription, ...]
    teams: tuple[TeamDescription, ...]
    judges: tuple[JudgeDescription, ...]


def competition_file_parse(*, path: Path) -> CompetitionFile:
    """Read and validate the competition file at path (.yaml, .yml or .json).

    Returns the file's contents as plain dataclasses, defaults filled in. Raises CompetitionFileInvalid
    listing every problem found (unreadable file, syntax error with line and column, wrong types,
    unknown or missing keys, values the model fields refuse, duplicates within the file).
    """
    document = _document_read(path)
    reader = _Reader()
    described = reader.competition_file(path, document)
    if reader.problems:
        raise CompetitionFileInvalid(path, reader.problems)
    return described


def _document_read(path: Path) -> Any:
    """The file's parsed document; raises CompetitionFileInvalid when it cannot be read or parsed."""
    syntax = SUFFIXES.get(path.suffix.lower())
    if syntax is None:
        raise CompetitionFileInvalid(
            path, [Problem("", f"unsupported file type {path.suffix!r}; use .yaml, .yml or .json")]
        )
    if not path.exists():
        raise CompetitionFileInvalid(path, [Problem("", "file not found")])
    if not path.is_file():
        raise CompetitionFileInvalid(path, [Problem("", "not a regular file")])
    try:
        # utf-8-sig: editors on some systems start files with a byte order mark.
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CompetitionFileInvalid(path, [Problem(f"byte {exc.start}", "the file is not UTF-8 text")]) from None
    except OSError as exc:
        raise CompetitionFileInvalid(path, [Problem("", f"cannot be read: {exc.strerror}")]) from None
    if syntax == "yaml":
        try:
            return yaml.load(text, Loader=_UniqueKeySafeLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            detail = "; ".join(part for part in (exc.context, exc.problem) if part)
            raise CompetitionFileInvalid(path, [Problem(where, f"YAML syntax error: {detail}")]) from None
        except yaml.YAMLError as exc:
            raise CompetitionFileInvalid(path, [Problem("", f"YAML syntax error: {exc}")]) from None
    try:
        return json.loads(text, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise CompetitionFileInvalid(path, [Problem(where, f"JSON syntax error: {exc.msg}")]) from None
    except _DuplicateJsonKey as exc:
        raise CompetitionFileInvalid(path, [Problem("", f"the key {exc.key!r} appears twice in one object")]) from None


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key repeated in one mapping is an error.

    Plain PyYAML keeps the last of two equal keys silently, so a second ``url:`` in a bot would quietly
    win. Keys brought in by a ``<<`` merge may still be overridden, as YAML intends.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _DuplicateJsonKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateJsonKey(key)
        result[key] = value
    return result


def _kind_of(value: object) -> str:
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


def _at(where: str, key: object) -> str:
    """The place of key inside the mapping at where: ``teams[0].url``, or ``goals['odd key']``."""
    if isinstance(key, str) and key.isidentifier():
        return f"{where}.{key}" if where else key
    return f"{where}[{key!r}]"


class _Reader:
    """Walks a parsed document and collects problems.

    The values it hands back are only used when no problem was found: a missing or invalid value comes
    back as the default so that reading goes on and finds the other problems too.
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    # --- Shapes ------------------------------------------------------------------------------------

    def mapping(self, value: Any, where: str, *, keys: Collection[str], required: Collection[str] = ()) -> dict:
        if not isinstance(value, dict):
            self.problem(where, f"must be a mapping, got {_kind_of(value)}")
            return {}
        for key in value:
            if key not in keys:
                self.problem(_at(where, key), _unknown_key(key, keys))
        for key in required:
            if key not in value:
                self.problem(_at(where, key), "required key is missing")
        return value

    def sequence(self, data: dict, key: str, where: str) -> list:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(_at(where, key), f"must be a list, got {_kind_of(value)}")
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
                self.problem(_at(where, key), message)
        return default

    def unique(self, seen: dict, value: Any, where: str, what: str, *, fold: bool = False) -> None:
        """Record value as used at where; a second use is a problem naming the first."""
        marker = value.casefold() if fold and isinstance(value, str) else value
        if marker in seen:
            self.problem(where, f"duplicate {what} {value!r}; already used at {seen[marker]}")
        else:
            seen[marker] = where

    # --- Sections ----------------------------------------------------------------------------------

    def competition_file(self, path: Path, document: Any) -> CompetitionFile:
        if not isinstance(document, dict):
            found = "the file is empty" if document is None else f"the file holds {_kind_of(document)}"
            self.problem("", f"{found}; it must hold a mapping with a competition (and rounds, teams, judges)")
            return CompetitionFile(path, _Reader().competition({}, "competition"), (), (), ())
        top = self.mapping(document, "", keys=TOP_KEYS, required=("competition",))
        if "competition" in top:
            competition = self.competition(top["competition"], "competition")
        else:
            # Its absence is reported once above; the rounds still need the defaults to be read.
            competition = _Reader().competition({}, "competition")
        rounds = self.rounds(self.sequence(top, "rounds", ""), competition)
        teams = self.teams(self.sequence(top, "teams", ""))
        judges = self.judges(self.sequence(top, "judges", ""))
        return CompetitionFile(path=path, competition=competition, rounds=rounds, teams=teams, judges=judges)

    def competition(self, value: Any, where: str) -> CompetitionDescription:
        data = self.mapping(value, where, keys=COMPETITION_KEYS, required=("name", "slug"))
        field = Competition._meta.get_field
        defaults_data = self.mapping(
            data.get("round_defaults", {}), _at(where, "round_defaults"), keys=ROUND_DEFAULT_KEYS
        )
        defaults = {
            key: self.read(
                defaults_data,
                key,
                _at(where, "round_defaults"),
                # Round's validators: a default must be a value a round may take.
                _number(Round._meta.get_field(key))
                if key == "call_timeout_seconds"
                else _whole(Round._meta.get_field(key)),
                field(f"default_{key}").default,
            )
            for key in ROUND_DEFAULT_KEYS
        }
        return CompetitionDescription(
            where=where,
            name=self.read(data, "name", where, _text(field("name"), required=True), ""),
            slug=self.read(data, "slug", where, _slug(field("slug")), ""),
            description=self.read(data, "description", where, _text(field("description")), ""),
            goals=self.goals(data, where),
            scoring_weights=self.read(
                data, "scoring_weights", where, _json_value(validate_weights), field("scoring_weights").default()
            ),
            benign_prompts=self.benign_prompts(data, where),
            **{f"default_{key}": value for key, value in defaults.items()},
        )

    def goals(self, data: dict, where: str) -> dict[str, list[str]]:
        if "goals" not in data:
            return Competition._meta.get_field("goals").default()
        where = _at(where, "goals")
        goals = data["goals"]
        if not isinstance(goals, dict) or not goals:
            self.problem(where, f"must be a non-empty mapping of category to a list of targets, got {_kind_of(goals)}")
            return {}
        count = len(self.problems)
        for category, targets in goals.items():
            place = _at(where, category)
            if not isinstance(category, str) or not category.replace("_", "").isalnum() or not category.isascii():
                self.problem(place, "a goal category must be a slug of letters, digits and _")
            if not isinstance(targets, list) or not targets:
                self.problem(place, f"must be a non-empty list of targets, got {_kind_of(targets)}")
                continue
            seen: dict = {}
            for index, target in enumerate(targets):
                if not isinstance(target, str) or not target.strip():
                    self.problem(f"{place}[{index}]", f"a target must be a non-empty string, got {_kind_of(target)}")
                else:
                    self.unique(seen, target.strip(), f"{place}[{index}]", "target", fold=True)
        if len(self.problems) == count:
            # The model's own check as well, so the file and the admin can never disagree.
            self.check_with(validate_goals, goals, where)
        return goals

    def benign_prompts(self, data: dict, where: str) -> list[str]:
        where = _at(where, "benign_prompts")
        prompts = data.get("benign_prompts", [])
        if not isinstance(prompts, list):
            self.problem(where, f"must be a list of strings, got {_kind_of(prompts)}")
            return []
        count = len(self.problems)
        seen: dict = {}
        for index, prompt in enumerate(prompts):
            if not isinstance(prompt, str) or not prompt.strip():
                self.problem(f"{where}[{index}]", f"a prompt must be a non-empty string, got {_kind_of(prompt)}")
            else:
                self.unique(seen, prompt.strip(), f"{where}[{index}]", "prompt", fold=True)
        if len(self.problems) == count:
            self.check_with(validate_string_list, prompts, where)
        return prompts

    def check_with(self, validator: Callable[[Any], None], value: Any, where: str) -> None:
        try:
            validator(value)
        except ValidationError as exc:
            for message in exc.messages:
                self.problem(where, message)

    def rounds(self, items: list, competition: CompetitionDescription) -> tuple[RoundDescription, ...]:
        field = Round._meta.get_field
        numbers: dict = {}
        slugs: dict = {}
        described = []
        for index, value in enumerate(items):
            where = f"rounds[{index}]"
            data = self.mapping(value, where, keys=ROUND_KEYS, required=("number", "name", "slug"))
            number = self.read(data, "number", where, _whole(field("number"), minimum=1), None)
            slug = self.read(data, "slug", where, _slug(field("slug")), "")
            if number is not None:
                self.unique(numbers, number, _at(where, "number"), "round number")
            if slug:
                self.unique(slugs, slug, _at(where, "slug"), "round slug")
            settings = {
                key: self.read(
                    data,
                    key,
                    where,
                    _number(field(key)) if key == "call_timeout_seconds" else _whole(field(key)),
                    getattr(competition, f"default_{key}") if key in ROUND_DEFAULT_KEYS else field(key).default,
                )
                for key in Round.SETTING_FIELDS
            }
            described.append(
                RoundDescription(
                    where=where,
                    number=number or 0,
                    name=self.read(data, "name", where, _text(field("name"), required=True), ""),
                    slug=slug,
                    practice=self.read(data, "practice", where, _boolean, False),
                    scheduled_at=self.read(data, "scheduled_at", where, _moment, None),
                    **settings,
                )
            )
        return tuple(described)

    def teams(self, items: list) -> tuple[TeamDescription, ...]:
        field = Team._meta.get_field
        slugs: dict = {}
        names: dict = {}
        usernames: dict = {}
        described = []
        for index, value in enumerate(items):
            where = f"teams[{index}]"
            data = self.mapping(value, where, keys=TEAM_KEYS, required=("name", "slug", "side"))
            name = self.read(data, "name", where, _text(field("name"), required=True), "")
            slug = self.read(data, "slug", where, _slug(field("slug")), "")
            if name:
                self.unique(names, name, _at(where, "name"), "team name", fold=True)
            if slug:
                self.unique(slugs, slug, _at(where, "slug"), "team slug")
            described.append(
                TeamDescription(
                    where=where,
                    name=name,
                    slug=slug,
                    institution=self.read(data, "institution", where, _text(field("institution")), ""),
                    side=self.read(data, "side", where, _choice(Side.values), ""),
                    active=self.read(data, "active", where, _boolean, True),
                    members=self.members(self.sequence(data, "members", where), _at(where, "members"), usernames),
                    bots=self.bots(self.sequence(data, "bots", where), _at(where, "bots")),
                )
            )
        return tuple(described)

    def members(self, items: list, where: str, usernames: dict) -> tuple[MemberDescription, ...]:
        """Members of one team; usernames spans the whole file, as a person belongs to one team in it."""
        field = get_user_model()._meta.get_field
        in_team: dict = {}
        described = []
        for index, value in enumerate(items):
            place = f"{where}[{index}]"
            data = self.mapping(value, place, keys=MEMBER_KEYS, required=("username", "email"))
            username = self.read(data, "username", place, _text(field("username"), required=True), "")
            if username:
                # Case-folded: Django's forms treat "Alice" and "alice" as the same account.
                marker = username.casefold()
                if marker in in_team:
                    self.problem(
                        _at(place, "username"), f"{username!r} is listed twice in this team (also at {in_team[marker]})"
                    )
                else:
                    in_team[marker] = place
                    self.unique(usernames, username, _at(place, "username"), "username", fold=True)
            described.append(
                MemberDescription(
                    where=place,
                    username=username,
                    email=self.read(data, "email", place, _email(field("email")), ""),
                    role=self.read(data, "role", place, _choice(Membership.Role.values), Membership.Role.MEMBER.value),
                    password=self.read(data, "password", place, _text(required=True), None),
                )
            )
        return tuple(described)

    def bots(self, items: list, where: str) -> tuple[BotDescription, ...]:
        field = Bot._meta.get_field
        names: dict = {}
        described = []
        for index, value in enumerate(items):
            place = f"{where}[{index}]"
            data = self.mapping(value, place, keys=BOT_KEYS, required=("name", "url"))
            name = self.read(data, "name", place, _text(field("name"), required=True), "")
            if name:
                self.unique(names, name, _at(place, "name"), "bot name")
            kind = self.read(data, "kind", place, _choice(Bot.Kind.values), Bot.Kind.ARENA.value)
            model = self.read(data, "model", place, _text(field("model")), "")
            # A wrongly typed model is reported by read(); only a missing or blank one is added here.
            blank_model = "model" not in data or (isinstance(data["model"], str) and not data["model"].strip())
            if kind == Bot.Kind.OPENAI and blank_model:
                self.problem(_at(place, "model"), "an openai bot needs a model name")
            described.append(
                BotDescription(
                    where=place,
                    name=name,
                    kind=kind,
                    url=self.read(data, "url", place, _url(field("url")), ""),
                    model=model,
                    system_prompt=self.read(data, "system_prompt", place, _text(field("system_prompt")), ""),
                    api_key=self.read(data, "api_key", place, _text(field("api_key")), ""),
                    timeout_seconds=self.read(
                        data, "timeout_seconds", place, _number(field("timeout_seconds"), nullable=True), None
                    ),
                    max_concurrency=self.read(
                        data,
                        "max_concurrency",
                        place,
                        _whole(field("max_concurrency")),
                        field("max_concurrency").default,
                    ),
                    active=self.read(data, "active", place, _boolean, True),
                )
            )
        return tuple(described)

    def judges(self, items: list) -> tuple[JudgeDescription, ...]:
        slugs: dict = {}
        described = []
        for index, value in enumerate(items):
            where = f"judges[{index}]"
            data = self.mapping(value, where, keys=JUDGE_KEYS, required=("name", "slug", "kind"))
            slug = self.read(data, "slug", where, _slug(None, max_length=JUDGE_SLUG_MAX_LENGTH), "")
            if slug:
                self.unique(slugs, slug, _at(where, "slug"), "judge slug")
            described.append(
                JudgeDescription(
                    where=where,
                    name=self.read(
                        data, "name", where, _text(None, required=True, max_length=JUDGE_NAME_MAX_LENGTH), ""
                    ),
                    slug=slug,
                    kind=self.read(data, "kind", where, _choice(JUDGE_KINDS), ""),
                    config=self.read(data, "config", where, _json_value(_mapping_only), {}),
                    version=self.read(data, "version", where, _whole(None, minimum=1), 1),
                    active=self.read(data, "active", where, _boolean, True),
                )
            )
        return tuple(described)


def _unknown_key(key: object, keys: Collection[str]) -> str:
    message = f"unknown key; expected one of {', '.join(keys)}"
    if isinstance(key, str):
        close = difflib.get_close_matches(key, list(keys), n=1)
        if close:
            message = f"unknown key; did you mean {close[0]!r}? (expected one of {', '.join(keys)})"
    return message


# --- Value checks: each takes the raw value and returns it, or raises ValidationError --------------------


def _text(field: Field | None = None, *, required: bool = False, max_length: int | None = None) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"must be a string, got {_kind_of(value)}")
        if required and not value.strip():
            raise ValidationError("must not be empty")
        if max_length is not None:
            MaxLengthValidator(max_length)(value)
        if field is not None:
            field.run_validators(value)
        return value

    return check


def _slug(field: Field | None, *, max_length: int | None = None) -> Callable[[Any], str]:
    text = _text(field, required=True, max_length=max_length)

    def check(value: Any) -> str:
        value = text(value)
        # SlugField carries validate_slug itself; the judge slug (no field here) needs it added.
        if field is None:
            validate_slug(value)
        return value

    return check


def _choice(choices: Collection[str]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise ValidationError(f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"must be true or false, got {_kind_of(value)}")
    return value


def _whole(field: Field | None, *, minimum: int | None = None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"must be a whole number, got {_kind_of(value)}")
        if minimum is not None:
            MinValueValidator(minimum)(value)
        if field is not None:
            field.run_validators(value)
        return value

    return check


def _number(field: Field, *, nullable: bool = False) -> Callable[[Any], float | None]:
    def check(value: Any) -> float | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError(f"must be a number, got {_kind_of(value)}")
        if not math.isfinite(value):
            raise ValidationError("must be a finite number")
        field.run_validators(float(value))
        return float(value)

    return check


def _url(field: Field) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        value = _text(required=True)(value)
        _http_url(value)
        field.run_validators(value)
        return value

    return check


def _email(field: Field) -> Callable[[Any], str]:
    # EmailField carries the email validator; required because an account without one cannot reset.
    return _text(field, required=True)


def _moment(value: Any) -> datetime | None:
    """A date and time; one without a time zone is read in the site's time zone (settings.TIME_ZONE)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        raise ValidationError("needs a time as well as a date, e.g. 2026-05-01T09:00:00Z")
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
        if moment is None:
            raise ValidationError(f"must be a date and time like 2026-05-01T09:00:00Z, got {value!r}")
    else:
        raise ValidationError(f"must be a date and time like 2026-05-01T09:00:00Z, got {_kind_of(value)}")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def _mapping_only(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(f"must be a mapping, got {_kind_of(value)}")


def _json_value(validator: Callable[[Any], None]) -> Callable[[Any], Any]:
    """A value for a JSON field: plain JSON data (string keys, finite numbers) that validator accepts."""

    def check(value: Any) -> Any:
        validator(value)
        problem = _json_problem(value, "")
        if problem:
            raise ValidationError(problem)
        return value

    return check


def _json_problem(value: Any, where: str) -> str:
    """Why value cannot be stored as JSON as it is (empty when it can)."""
    inside = f" at {where}" if where else ""
    if value is None or isinstance(value, (bool, int, str)):
        return ""
    if isinstance(value, float):
        return "" if math.isfinite(value) else f"has a number that is not finite{inside}"
    if isinstance(value, list):
        return next((p for i, item in enumerate(value) if (p := _json_problem(item, f"{where}[{i}]"))), "")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"has a key that is not a string ({key!r}){inside}"
            if problem := _json_problem(item, _at(where, key)):
                return problem
        return ""
    return f"has {_kind_of(value)}{inside}, which JSON cannot hold; quote it to make it a string"
