"""The judges section: each judge's name, slug (unique in the file), kind, version and config, the
config checked key by key against its kind's schema when the reader has the schemas
(docs/competition-file.md, "judges")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from competition.competition_file import checks
from competition.competition_file.descriptions import JudgeDescription
from competition.competition_file.problems import place_of
from competition.competition_file.schema import JUDGE_KEYS, JUDGE_KINDS, JUDGE_NAME_MAX_LENGTH, JUDGE_SLUG_MAX_LENGTH

if TYPE_CHECKING:
    from competition.competition_file.sections.reader import SectionReader


def judges_read(reader: SectionReader, items: list) -> tuple[JudgeDescription, ...]:
    """The `judges` list; the kinds are those the reader has schemas for, else schema.JUDGE_KINDS."""
    slugs: dict = {}
    described = []
    for index, value in enumerate(items):
        where = f"judges[{index}]"
        data = reader.mapping(value, where, keys=JUDGE_KEYS, required=("name", "slug", "kind"))
        slug = reader.read(data, "slug", where, checks.slug(None, max_length=JUDGE_SLUG_MAX_LENGTH), "")
        if slug:
            reader.unique(slugs, slug, place_of(where, "slug"), "judge slug")
        kinds = tuple(reader.judge_configs) if reader.judge_configs is not None else JUDGE_KINDS
        kind = reader.read(data, "kind", where, checks.choice(kinds), "")
        described.append(
            JudgeDescription(
                where=where,
                name=reader.read(
                    data, "name", where, checks.text(None, required=True, max_length=JUDGE_NAME_MAX_LENGTH), ""
                ),
                slug=slug,
                kind=kind,
                config=judge_config_read(reader, data, where, kind),
                version=reader.read(data, "version", where, checks.whole(None, minimum=1), 1),
                active=reader.read(data, "active", where, checks.boolean, True),
            )
        )
    return tuple(described)


def judge_config_read(reader: SectionReader, data: dict, where: str, kind: str) -> dict:
    """The judge's config, checked against its kind's schema (declared next to the judge,
    judging/judges/): every unknown key, every missing required key and every bad value is a
    problem at its own place (``judges[0].config.base_url``)."""
    config = reader.read(data, "config", where, checks.json_value(checks.mapping_only), None)
    schema = (reader.judge_configs or {}).get(kind)
    if ("config" in data and config is None) or schema is None:
        return config or {}
    config = config or {}
    where = place_of(where, "config")
    required = [key for key, spec in schema.items() if spec.required]
    reader.mapping(config, where, keys=tuple(schema), required=required)
    for key in config:
        if key in schema:
            reader.read(config, key, where, checks.from_value_error(schema[key].check), None)
    return config
