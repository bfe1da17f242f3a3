"""Walking a parsed competition file section by section, collecting every problem on the way.

Each section (competition, rounds, teams with their members and bots, judges) is checked for its
shape (schema.py), its values (checks.py, the model fields' own validators) and duplicates within the
file; the result is the descriptions of descriptions.py, used only when no problem was found.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from competition.competition_file import checks
from competition.competition_file.descriptions import (
    AnnotatorDescription,
    BotDescription,
    CompetitionDescription,
    CompetitionFile,
    JudgeDescription,
    MemberDescription,
    RoundDescription,
    TeamDescription,
)
from competition.competition_file.practice import practice_check, practice_read
from competition.competition_file.problems import Problem, kind_of, place_of
from competition.competition_file.schema import (
    ANNOTATOR_KEYS,
    BOT_KEYS,
    COMPETITION_KEYS,
    JUDGE_KEYS,
    JUDGE_KINDS,
    JUDGE_NAME_MAX_LENGTH,
    JUDGE_SLUG_MAX_LENGTH,
    MEMBER_KEYS,
    REFERENCE_DEFENDER_KEYS,
    ROUND_DEFAULT_KEYS,
    ROUND_KEYS,
    SCORING_WEIGHT_KEYS,
    TEAM_KEYS,
    TOP_KEYS,
    JudgeConfigSchemas,
)
from competition.models import Competition, Registration, Round, validate_goals, validate_string_list
from teams.models import Bot, Membership, Side, Team


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

    # --- Sections ----------------------------------------------------------------------------------

    def competition_file(self, path: Path, document: Any) -> CompetitionFile:
        if not isinstance(document, dict):
            found = "the file is empty" if document is None else f"the file holds {kind_of(document)}"
            self.problem("", f"{found}; it must hold a mapping with a competition (and rounds, teams, judges)")
            return CompetitionFile(path, SectionReader().competition({}, "competition"), (), (), ())
        top = self.mapping(document, "", keys=TOP_KEYS, required=("competition",))
        if "competition" in top:
            competition = self.competition(top["competition"], "competition")
        else:
            # Its absence is reported once above; the rounds still need the defaults to be read.
            competition = SectionReader().competition({}, "competition")
        rounds = self.rounds(self.sequence(top, "rounds", ""), competition)
        usernames: dict = {}
        teams = self.teams(self.sequence(top, "teams", ""), usernames)
        self.reference_defender_check(competition, teams)
        practice_check(self, competition.practice, teams)
        judges = self.judges(self.sequence(top, "judges", ""))
        annotators = self.annotators(self.sequence(top, "annotators", ""), usernames)
        return CompetitionFile(
            path=path, competition=competition, rounds=rounds, teams=teams, judges=judges, annotators=annotators
        )

    def competition(self, value: Any, where: str) -> CompetitionDescription:
        data = self.mapping(value, where, keys=COMPETITION_KEYS, required=("name", "slug"))
        field = Competition._meta.get_field
        defaults_data = self.mapping(
            data.get("round_defaults", {}), place_of(where, "round_defaults"), keys=ROUND_DEFAULT_KEYS
        )
        defaults = {
            key: self.read(
                defaults_data,
                key,
                place_of(where, "round_defaults"),
                # Round's validators: a default must be a value a round may take.
                checks.number(Round._meta.get_field(key))
                if key == "call_timeout_seconds"
                else checks.whole(Round._meta.get_field(key)),
                field(f"default_{key}").default,
            )
            for key in ROUND_DEFAULT_KEYS
        }
        return CompetitionDescription(
            where=where,
            name=self.read(data, "name", where, checks.text(field("name"), required=True), ""),
            slug=self.read(data, "slug", where, checks.slug(field("slug")), ""),
            description=self.read(data, "description", where, checks.text(field("description")), ""),
            goals=self.goals(data, where),
            scoring_weights=self.scoring_weights(data, where),
            benign_prompts=self.benign_prompts(data, where),
            dataset_license=self.read(data, "dataset_license", where, checks.text(field("dataset_license")), ""),
            registration=self.read(
                data, "registration", where, checks.choice(Registration.values), field("registration").default
            ),
            reference_defender=self.reference_defender(data, where),
            practice=practice_read(self, data, where),
            **{f"default_{key}": value for key, value in defaults.items()},
        )

    def scoring_weights(self, data: dict, where: str) -> dict[str, float]:
        """The weights scoring reads (schema.SCORING_WEIGHT_KEYS), each a number >= 0; every unknown
        name and every bad weight is a problem at its own place."""
        if "scoring_weights" not in data:
            return Competition._meta.get_field("scoring_weights").default()
        where = place_of(where, "scoring_weights")
        weights = self.mapping(data["scoring_weights"], where, keys=SCORING_WEIGHT_KEYS)
        return {
            key: self.read(weights, key, where, checks.weight, None) for key in SCORING_WEIGHT_KEYS if key in weights
        }

    def reference_defender(self, data: dict, where: str) -> tuple[str, str] | None:
        """(team slug, bot name) from ``reference_defender: {team: ..., bot: ...}``; null or absent: None."""
        if data.get("reference_defender") is None:
            return None
        where = place_of(where, "reference_defender")
        value = self.mapping(data["reference_defender"], where, keys=REFERENCE_DEFENDER_KEYS, required=("team", "bot"))
        team = self.read(value, "team", where, checks.slug(Team._meta.get_field("slug")), "")
        bot = self.read(value, "bot", where, checks.text(Bot._meta.get_field("name"), required=True), "")
        return (team, bot) if team and bot else None

    def reference_defender_check(self, competition: CompetitionDescription, teams: tuple[TeamDescription, ...]) -> None:
        """A reference defender whose team the file describes must be one of that team's bots in the
        file, on the defender side. (One whose team the file leaves out is looked up in the database
        when the file is loaded.)"""
        if competition.reference_defender is None:
            return
        team_slug, bot_name = competition.reference_defender
        where = place_of(competition.where, "reference_defender")
        team = next((team for team in teams if team.slug == team_slug), None)
        if team is None:
            return
        if team.side and team.side != Side.DEFENDER:
            self.problem(
                place_of(where, "team"),
                f"{team_slug!r} is an {team.side} team ({team.where}); the reference must be a defender bot",
            )
        names = [bot.name for bot in team.bots]
        if bot_name not in names:
            listed = ", ".join(repr(name) for name in names) or "none"
            message = f"the team {team_slug!r} has no bot {bot_name!r} in this file (its bots: {listed})"
            self.problem(place_of(where, "bot"), message)

    def goals(self, data: dict, where: str) -> dict[str, list[str]]:
        if "goals" not in data:
            return Competition._meta.get_field("goals").default()
        where = place_of(where, "goals")
        goals = data["goals"]
        if not isinstance(goals, dict) or not goals:
            self.problem(where, f"must be a non-empty mapping of category to a list of targets, got {kind_of(goals)}")
            return {}
        count = len(self.problems)
        for category, targets in goals.items():
            place = place_of(where, category)
            if not isinstance(category, str) or not category.replace("_", "").isalnum() or not category.isascii():
                self.problem(place, "a goal category must be a slug of letters, digits and _")
            if not isinstance(targets, list) or not targets:
                self.problem(place, f"must be a non-empty list of targets, got {kind_of(targets)}")
                continue
            seen: dict = {}
            for index, target in enumerate(targets):
                if not isinstance(target, str) or not target.strip():
                    self.problem(f"{place}[{index}]", f"a target must be a non-empty string, got {kind_of(target)}")
                else:
                    self.unique(seen, target.strip(), f"{place}[{index}]", "target", fold=True)
        if len(self.problems) == count:
            # The model's own check as well, so the file and the admin can never disagree.
            self.check_with(validate_goals, goals, where)
        return goals

    def benign_prompts(self, data: dict, where: str) -> list[str]:
        where = place_of(where, "benign_prompts")
        prompts = data.get("benign_prompts", [])
        if not isinstance(prompts, list):
            self.problem(where, f"must be a list of strings, got {kind_of(prompts)}")
            return []
        count = len(self.problems)
        seen: dict = {}
        for index, prompt in enumerate(prompts):
            if not isinstance(prompt, str) or not prompt.strip():
                self.problem(f"{where}[{index}]", f"a prompt must be a non-empty string, got {kind_of(prompt)}")
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
            number = self.read(data, "number", where, checks.whole(field("number"), minimum=1), None)
            slug = self.read(data, "slug", where, checks.slug(field("slug")), "")
            if number is not None:
                self.unique(numbers, number, place_of(where, "number"), "round number")
            if slug:
                self.unique(slugs, slug, place_of(where, "slug"), "round slug")
            settings = {
                key: self.read(
                    data,
                    key,
                    where,
                    checks.number(field(key)) if key == "call_timeout_seconds" else checks.whole(field(key)),
                    getattr(competition, f"default_{key}") if key in ROUND_DEFAULT_KEYS else field(key).default,
                )
                for key in Round.SETTING_FIELDS
            }
            described.append(
                RoundDescription(
                    where=where,
                    number=number or 0,
                    name=self.read(data, "name", where, checks.text(field("name"), required=True), ""),
                    slug=slug,
                    practice=self.read(data, "practice", where, checks.boolean, False),
                    scheduled_at=self.read(data, "scheduled_at", where, checks.moment, None),
                    **settings,
                )
            )
        return tuple(described)

    def teams(self, items: list, usernames: dict) -> tuple[TeamDescription, ...]:
        field = Team._meta.get_field
        slugs: dict = {}
        names: dict = {}
        described = []
        for index, value in enumerate(items):
            where = f"teams[{index}]"
            data = self.mapping(value, where, keys=TEAM_KEYS, required=("name", "slug", "side"))
            name = self.read(data, "name", where, checks.text(field("name"), required=True), "")
            slug = self.read(data, "slug", where, checks.slug(field("slug")), "")
            if name:
                self.unique(names, name, place_of(where, "name"), "team name", fold=True)
            if slug:
                self.unique(slugs, slug, place_of(where, "slug"), "team slug")
            described.append(
                TeamDescription(
                    where=where,
                    name=name,
                    slug=slug,
                    institution=self.read(data, "institution", where, checks.text(field("institution")), ""),
                    side=self.read(data, "side", where, checks.choice(Side.values), ""),
                    active=self.read(data, "active", where, checks.boolean, True),
                    members=self.members(self.sequence(data, "members", where), place_of(where, "members"), usernames),
                    bots=self.bots(self.sequence(data, "bots", where), place_of(where, "bots")),
                )
            )
        return tuple(described)

    def annotators(self, items: list, usernames: dict) -> tuple[AnnotatorDescription, ...]:
        """Annotator accounts; a username of a team member cannot be an annotator too (usernames spans
        the file), as annotators label the teams' conversations."""
        field = get_user_model()._meta.get_field
        described = []
        for index, value in enumerate(items):
            place = f"annotators[{index}]"
            data = self.mapping(value, place, keys=ANNOTATOR_KEYS, required=("username", "email"))
            username = self.read(data, "username", place, checks.text(field("username"), required=True), "")
            if username:
                self.unique(usernames, username, place_of(place, "username"), "username", fold=True)
            described.append(
                AnnotatorDescription(
                    where=place,
                    username=username,
                    email=self.read(data, "email", place, checks.email(field("email")), ""),
                    password=self.read(data, "password", place, checks.text(required=True), None),
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
            username = self.read(data, "username", place, checks.text(field("username"), required=True), "")
            if username:
                # Case-folded: Django's forms treat "Alice" and "alice" as the same account.
                marker = username.casefold()
                if marker in in_team:
                    self.problem(
                        place_of(place, "username"),
                        f"{username!r} is listed twice in this team (also at {in_team[marker]})",
                    )
                else:
                    in_team[marker] = place
                    self.unique(usernames, username, place_of(place, "username"), "username", fold=True)
            described.append(
                MemberDescription(
                    where=place,
                    username=username,
                    email=self.read(data, "email", place, checks.email(field("email")), ""),
                    role=self.read(
                        data, "role", place, checks.choice(Membership.Role.values), Membership.Role.MEMBER.value
                    ),
                    password=self.read(data, "password", place, checks.text(required=True), None),
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
            name = self.read(data, "name", place, checks.text(field("name"), required=True), "")
            if name:
                self.unique(names, name, place_of(place, "name"), "bot name")
            kind = self.read(data, "kind", place, checks.choice(Bot.Kind.values), Bot.Kind.ARENA.value)
            model = self.read(data, "model", place, checks.text(field("model")), "")
            # A wrongly typed model is reported by read(); only a missing or blank one is added here.
            blank_model = "model" not in data or (isinstance(data["model"], str) and not data["model"].strip())
            if kind == Bot.Kind.OPENAI and blank_model:
                self.problem(place_of(place, "model"), "an openai bot needs a model name")
            described.append(
                BotDescription(
                    where=place,
                    name=name,
                    kind=kind,
                    url=self.read(data, "url", place, checks.url(field("url")), ""),
                    model=model,
                    system_prompt=self.read(data, "system_prompt", place, checks.text(field("system_prompt")), ""),
                    api_key=self.read(data, "api_key", place, checks.text(field("api_key")), ""),
                    timeout_seconds=self.read(
                        data, "timeout_seconds", place, checks.number(field("timeout_seconds"), nullable=True), None
                    ),
                    max_concurrency=self.read(
                        data,
                        "max_concurrency",
                        place,
                        checks.whole(field("max_concurrency")),
                        field("max_concurrency").default,
                    ),
                    active=self.read(data, "active", place, checks.boolean, True),
                )
            )
        return tuple(described)

    def judges(self, items: list) -> tuple[JudgeDescription, ...]:
        slugs: dict = {}
        described = []
        for index, value in enumerate(items):
            where = f"judges[{index}]"
            data = self.mapping(value, where, keys=JUDGE_KEYS, required=("name", "slug", "kind"))
            slug = self.read(data, "slug", where, checks.slug(None, max_length=JUDGE_SLUG_MAX_LENGTH), "")
            if slug:
                self.unique(slugs, slug, place_of(where, "slug"), "judge slug")
            kinds = tuple(self.judge_configs) if self.judge_configs is not None else JUDGE_KINDS
            kind = self.read(data, "kind", where, checks.choice(kinds), "")
            described.append(
                JudgeDescription(
                    where=where,
                    name=self.read(
                        data, "name", where, checks.text(None, required=True, max_length=JUDGE_NAME_MAX_LENGTH), ""
                    ),
                    slug=slug,
                    kind=kind,
                    config=self.judge_config(data, where, kind),
                    version=self.read(data, "version", where, checks.whole(None, minimum=1), 1),
                    active=self.read(data, "active", where, checks.boolean, True),
                )
            )
        return tuple(described)

    def judge_config(self, data: dict, where: str, kind: str) -> dict:
        """The judge's config, checked against its kind's schema (declared next to the judge,
        judging/judges/): every unknown key, every missing required key and every bad value is a
        problem at its own place (``judges[0].config.base_url``)."""
        config = self.read(data, "config", where, checks.json_value(checks.mapping_only), None)
        schema = (self.judge_configs or {}).get(kind)
        if ("config" in data and config is None) or schema is None:
            return config or {}
        config = config or {}
        where = place_of(where, "config")
        required = [key for key, spec in schema.items() if spec.required]
        self.mapping(config, where, keys=tuple(schema), required=required)
        for key in config:
            if key in schema:
                self.read(config, key, where, checks.from_value_error(schema[key].check), None)
        return config


def _unknown_key(key: object, keys: Collection[str]) -> str:
    message = f"unknown key; expected one of {', '.join(keys)}"
    if isinstance(key, str):
        close = difflib.get_close_matches(key, list(keys), n=1)
        if close:
            message = f"unknown key; did you mean {close[0]!r}? (expected one of {', '.join(keys)})"
    return message
