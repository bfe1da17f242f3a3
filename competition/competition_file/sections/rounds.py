"""The rounds section: each round's number, name and slug (unique in the file), whether it is a
practice round, when it is scheduled, and its settings, defaulting to the competition's
(docs/competition-file.md, "rounds")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from competition.competition_file import checks
from competition.competition_file.descriptions import CompetitionDescription, RoundDescription
from competition.competition_file.problems import place_of
from competition.competition_file.schema import ROUND_DEFAULT_KEYS, ROUND_KEYS
from competition.models import Round

if TYPE_CHECKING:
    from competition.competition_file.sections.reader import SectionReader


def rounds_read(
    reader: SectionReader, items: list, competition: CompetitionDescription
) -> tuple[RoundDescription, ...]:
    """The `rounds` list; a setting a round leaves out is the competition's default for it."""
    field = Round._meta.get_field
    numbers: dict = {}
    slugs: dict = {}
    described = []
    for index, value in enumerate(items):
        where = f"rounds[{index}]"
        data = reader.mapping(value, where, keys=ROUND_KEYS, required=("number", "name", "slug"))
        number = reader.read(data, "number", where, checks.whole(field("number"), minimum=1), None)
        slug = reader.read(data, "slug", where, checks.slug(field("slug")), "")
        if number is not None:
            reader.unique(numbers, number, place_of(where, "number"), "round number")
        if slug:
            reader.unique(slugs, slug, place_of(where, "slug"), "round slug")
        settings = {
            key: reader.read(
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
                name=reader.read(data, "name", where, checks.text(field("name"), required=True), ""),
                slug=slug,
                practice=reader.read(data, "practice", where, checks.boolean, False),
                scheduled_at=reader.read(data, "scheduled_at", where, checks.moment, None),
                **settings,
            )
        )
    return tuple(described)
