"""The competition section: its name and texts, goals, scoring weights, benign prompts, registration,
the reference defender (checked against the file's teams) and the defaults of new rounds
(docs/competition-file.md, "competition").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from competition.competition_file import checks
from competition.competition_file.descriptions import CompetitionDescription, TeamDescription
from competition.competition_file.practice import practice_read
from competition.competition_file.problems import kind_of, place_of
from competition.competition_file.schema import (
    COMPETITION_KEYS,
    REFERENCE_DEFENDER_KEYS,
    ROUND_DEFAULT_KEYS,
    SCORING_WEIGHT_KEYS,
)
from competition.models import Competition, Registration, Round, validate_goals, validate_string_list
from teams.models import Bot, Side, Team

if TYPE_CHECKING:
    from competition.competition_file.sections.reader import SectionReader


def competition_read(reader: SectionReader, value: Any, where: str) -> CompetitionDescription:
    """The `competition` mapping; a value missing or refused comes back as the model's default."""
    data = reader.mapping(value, where, keys=COMPETITION_KEYS, required=("name", "slug"))
    field = Competition._meta.get_field
    defaults = _round_defaults(reader, data, where)
    return CompetitionDescription(
        where=where,
        name=reader.read(data, "name", where, checks.text(field("name"), required=True), ""),
        slug=reader.read(data, "slug", where, checks.slug(field("slug")), ""),
        description=reader.read(data, "description", where, checks.text(field("description")), ""),
        goals=_goals(reader, data, where),
        scoring_weights=_scoring_weights(reader, data, where),
        benign_prompts=_benign_prompts(reader, data, where),
        dataset_license=reader.read(data, "dataset_license", where, checks.text(field("dataset_license")), ""),
        registration=reader.read(
            data, "registration", where, checks.choice(Registration.values), field("registration").default
        ),
        reference_defender=_reference_defender(reader, data, where),
        practice=practice_read(reader, data, where),
        **{f"default_{key}": value for key, value in defaults.items()},
    )


def _round_defaults(reader: SectionReader, data: dict, where: str) -> dict[str, Any]:
    """The settings new rounds take unless they say otherwise, each within what a round may take."""
    where = place_of(where, "round_defaults")
    defaults = reader.mapping(data.get("round_defaults", {}), where, keys=ROUND_DEFAULT_KEYS)
    return {
        key: reader.read(
            defaults,
            key,
            where,
            # Round's validators: a default must be a value a round may take.
            checks.number(Round._meta.get_field(key))
            if key == "call_timeout_seconds"
            else checks.whole(Round._meta.get_field(key)),
            Competition._meta.get_field(f"default_{key}").default,
        )
        for key in ROUND_DEFAULT_KEYS
    }


def _scoring_weights(reader: SectionReader, data: dict, where: str) -> dict[str, float]:
    """The weights scoring reads (schema.SCORING_WEIGHT_KEYS), each a number >= 0; every unknown
    name and every bad weight is a problem at its own place."""
    if "scoring_weights" not in data:
        return Competition._meta.get_field("scoring_weights").default()
    where = place_of(where, "scoring_weights")
    weights = reader.mapping(data["scoring_weights"], where, keys=SCORING_WEIGHT_KEYS)
    return {key: reader.read(weights, key, where, checks.weight, None) for key in SCORING_WEIGHT_KEYS if key in weights}


def _reference_defender(reader: SectionReader, data: dict, where: str) -> tuple[str, str] | None:
    """(team slug, bot name) from ``reference_defender: {team: ..., bot: ...}``; null or absent: None."""
    if data.get("reference_defender") is None:
        return None
    where = place_of(where, "reference_defender")
    value = reader.mapping(data["reference_defender"], where, keys=REFERENCE_DEFENDER_KEYS, required=("team", "bot"))
    team = reader.read(value, "team", where, checks.slug(Team._meta.get_field("slug")), "")
    bot = reader.read(value, "bot", where, checks.text(Bot._meta.get_field("name"), required=True), "")
    return (team, bot) if team and bot else None


def reference_defender_check(
    reader: SectionReader, competition: CompetitionDescription, teams: tuple[TeamDescription, ...]
) -> None:
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
        reader.problem(
            place_of(where, "team"),
            f"{team_slug!r} is an {team.side} team ({team.where}); the reference must be a defender bot",
        )
    names = [bot.name for bot in team.bots]
    if bot_name not in names:
        listed = ", ".join(repr(name) for name in names) or "none"
        message = f"the team {team_slug!r} has no bot {bot_name!r} in this file (its bots: {listed})"
        reader.problem(place_of(where, "bot"), message)


def _goals(reader: SectionReader, data: dict, where: str) -> dict[str, list[str]]:
    if "goals" not in data:
        return Competition._meta.get_field("goals").default()
    where = place_of(where, "goals")
    goals = data["goals"]
    if not isinstance(goals, dict) or not goals:
        reader.problem(where, f"must be a non-empty mapping of category to a list of targets, got {kind_of(goals)}")
        return {}
    count = len(reader.problems)
    for category, targets in goals.items():
        place = place_of(where, category)
        if not isinstance(category, str) or not category.replace("_", "").isalnum() or not category.isascii():
            reader.problem(place, "a goal category must be a slug of letters, digits and _")
        if not isinstance(targets, list) or not targets:
            reader.problem(place, f"must be a non-empty list of targets, got {kind_of(targets)}")
            continue
        seen: dict = {}
        for index, target in enumerate(targets):
            if not isinstance(target, str) or not target.strip():
                reader.problem(f"{place}[{index}]", f"a target must be a non-empty string, got {kind_of(target)}")
            else:
                reader.unique(seen, target.strip(), f"{place}[{index}]", "target", fold=True)
    if len(reader.problems) == count:
        # The model's own check as well, so the file and the admin can never disagree.
        reader.check_with(validate_goals, goals, where)
    return goals


def _benign_prompts(reader: SectionReader, data: dict, where: str) -> list[str]:
    where = place_of(where, "benign_prompts")
    prompts = data.get("benign_prompts", [])
    if not isinstance(prompts, list):
        reader.problem(where, f"must be a list of strings, got {kind_of(prompts)}")
        return []
    count = len(reader.problems)
    seen: dict = {}
    for index, prompt in enumerate(prompts):
        if not isinstance(prompt, str) or not prompt.strip():
            reader.problem(f"{where}[{index}]", f"a prompt must be a non-empty string, got {kind_of(prompt)}")
        else:
            reader.unique(seen, prompt.strip(), f"{where}[{index}]", "prompt", fold=True)
    if len(reader.problems) == count:
        reader.check_with(validate_string_list, prompts, where)
    return prompts
