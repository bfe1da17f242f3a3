"""The teams section: each team's name and slug (unique in the file), side and members, and its bots
(a name unique in the team, the kind, URL and the call limits) (docs/competition-file.md, "teams")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from competition.competition_file import checks
from competition.competition_file.descriptions import BotDescription, TeamDescription
from competition.competition_file.problems import place_of
from competition.competition_file.schema import BOT_KEYS, TEAM_KEYS
from competition.competition_file.sections.people import members_read
from teams.models import Bot, Side, Team

if TYPE_CHECKING:
    from competition.competition_file.sections.reader import SectionReader


def teams_read(reader: SectionReader, items: list, usernames: dict) -> tuple[TeamDescription, ...]:
    """The `teams` list; `usernames` spans the file (people.members_read)."""
    field = Team._meta.get_field
    slugs: dict = {}
    names: dict = {}
    described = []
    for index, value in enumerate(items):
        where = f"teams[{index}]"
        data = reader.mapping(value, where, keys=TEAM_KEYS, required=("name", "slug", "side"))
        name = reader.read(data, "name", where, checks.text(field("name"), required=True), "")
        slug = reader.read(data, "slug", where, checks.slug(field("slug")), "")
        if name:
            reader.unique(names, name, place_of(where, "name"), "team name", fold=True)
        if slug:
            reader.unique(slugs, slug, place_of(where, "slug"), "team slug")
        described.append(
            TeamDescription(
                where=where,
                name=name,
                slug=slug,
                institution=reader.read(data, "institution", where, checks.text(field("institution")), ""),
                side=reader.read(data, "side", where, checks.choice(Side.values), ""),
                active=reader.read(data, "active", where, checks.boolean, True),
                members=members_read(
                    reader, reader.sequence(data, "members", where), place_of(where, "members"), usernames
                ),
                bots=bots_read(reader, reader.sequence(data, "bots", where), place_of(where, "bots")),
            )
        )
    return tuple(described)


def bots_read(reader: SectionReader, items: list, where: str) -> tuple[BotDescription, ...]:
    """One team's `bots` list; an openai bot needs a model name."""
    field = Bot._meta.get_field
    names: dict = {}
    described = []
    for index, value in enumerate(items):
        place = f"{where}[{index}]"
        data = reader.mapping(value, place, keys=BOT_KEYS, required=("name", "url"))
        name = reader.read(data, "name", place, checks.text(field("name"), required=True), "")
        if name:
            reader.unique(names, name, place_of(place, "name"), "bot name")
        kind = reader.read(data, "kind", place, checks.choice(Bot.Kind.values), Bot.Kind.ARENA.value)
        model = reader.read(data, "model", place, checks.text(field("model")), "")
        # A wrongly typed model is reported by read(); only a missing or blank one is added here.
        blank_model = "model" not in data or (isinstance(data["model"], str) and not data["model"].strip())
        if kind == Bot.Kind.OPENAI and blank_model:
            reader.problem(place_of(place, "model"), "an openai bot needs a model name")
        described.append(
            BotDescription(
                where=place,
                name=name,
                kind=kind,
                url=reader.read(data, "url", place, checks.url(field("url")), ""),
                model=model,
                system_prompt=reader.read(data, "system_prompt", place, checks.text(field("system_prompt")), ""),
                api_key=reader.read(data, "api_key", place, checks.text(field("api_key")), ""),
                timeout_seconds=reader.read(
                    data, "timeout_seconds", place, checks.number(field("timeout_seconds"), nullable=True), None
                ),
                max_concurrency=reader.read(
                    data,
                    "max_concurrency",
                    place,
                    checks.whole(field("max_concurrency")),
                    field("max_concurrency").default,
                ),
                active=reader.read(data, "active", place, checks.boolean, True),
            )
        )
    return tuple(described)
