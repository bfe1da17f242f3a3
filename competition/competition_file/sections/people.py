"""The accounts a competition file describes: each team's members and the annotators. A username is
one person in the whole file (case-folded, as Django's forms fold it): on one team, and never both a
member and an annotator, as annotators label the teams' conversations (docs/competition-file.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model

from competition.competition_file import checks
from competition.competition_file.descriptions import AnnotatorDescription, MemberDescription
from competition.competition_file.problems import place_of
from competition.competition_file.schema import ANNOTATOR_KEYS, MEMBER_KEYS
from teams.models import Membership

if TYPE_CHECKING:
    from competition.competition_file.sections.reader import SectionReader


def members_read(reader: SectionReader, items: list, where: str, usernames: dict) -> tuple[MemberDescription, ...]:
    """Members of one team; usernames spans the whole file, as a person belongs to one team in it."""
    field = get_user_model()._meta.get_field
    in_team: dict = {}
    described = []
    for index, value in enumerate(items):
        place = f"{where}[{index}]"
        data = reader.mapping(value, place, keys=MEMBER_KEYS, required=("username", "email"))
        username = reader.read(data, "username", place, checks.text(field("username"), required=True), "")
        if username:
            # Case-folded: Django's forms treat "Alice" and "alice" as the same account.
            marker = username.casefold()
            if marker in in_team:
                reader.problem(
                    place_of(place, "username"),
                    f"{username!r} is listed twice in this team (also at {in_team[marker]})",
                )
            else:
                in_team[marker] = place
                reader.unique(usernames, username, place_of(place, "username"), "username", fold=True)
        described.append(
            MemberDescription(
                where=place,
                username=username,
                email=reader.read(data, "email", place, checks.email(field("email")), ""),
                role=reader.read(
                    data, "role", place, checks.choice(Membership.Role.values), Membership.Role.MEMBER.value
                ),
                password=reader.read(data, "password", place, checks.text(required=True), None),
            )
        )
    return tuple(described)


def annotators_read(reader: SectionReader, items: list, usernames: dict) -> tuple[AnnotatorDescription, ...]:
    """Annotator accounts; a username of a team member cannot be an annotator too (usernames spans
    the file), as annotators label the teams' conversations."""
    field = get_user_model()._meta.get_field
    described = []
    for index, value in enumerate(items):
        place = f"annotators[{index}]"
        data = reader.mapping(value, place, keys=ANNOTATOR_KEYS, required=("username", "email"))
        username = reader.read(data, "username", place, checks.text(field("username"), required=True), "")
        if username:
            reader.unique(usernames, username, place_of(place, "username"), "username", fold=True)
        described.append(
            AnnotatorDescription(
                where=place,
                username=username,
                email=reader.read(data, "email", place, checks.email(field("email")), ""),
                password=reader.read(data, "password", place, checks.text(required=True), None),
            )
        )
    return tuple(described)
