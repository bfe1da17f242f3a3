"""Importing conversations in the chat JSONL shape (an earlier competition, another platform).

Each non-blank line is one conversation: {"messages": [...], "metadata": {...}} as the chat export
writes it. Messages alternate user (the attacker) and assistant (the defender), starting with the
user; each content is a non-empty string without NUL of at most the competition's message limit.
From the metadata: attacker_team, attacker_bot, defender_team, defender_bot (names; default
"Imported attackers"/"attacker" and "Imported defenders"/"defender"), goal_category (a slug of
letters, digits and _; default "imported") and goal_target. Weights and labels are not imported:
the competition's judges label the imported replies.

A file over ``settings.ARENA_DATASET_IMPORT_MAX_BYTES`` (10 MiB unless set) is refused before it
is read; a UTF-8 byte order mark at its start is dropped; each line goes through the one guard for
hostile JSON (config/hostile.py: depth, NUL, unpaired surrogates). The whole file is checked first
and every problem is reported with its line number; with one
problem nothing is written. Then, in one transaction: teams matched by name or slug (case-insensitive;
their side must agree) or created; bots matched by name within their team or created inactive (an
imported bot has no endpoint: its URL is under the reserved .invalid domain, so it is never called);
a new round marked imported (competition.pipeline.lifecycle.round_imported_create) with a match per pair; the
conversations and their turns (conversations.services.conversations_create). The round
then goes to judging like a played one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from competition.models import Competition, Round
from competition.pipeline.lifecycle import round_imported_create
from config.hostile import HostileJson, json_loads, utf8_text
from config.queue import task_enqueue
from conversations.services import ConversationNew, conversations_create
from judging import tasks as judging_tasks
from teams.models import Bot, Side, Team

IMPORTED_BOT_URL = "https://imported.invalid/"
DEFAULT_NAMES = {
    "attacker_team": "Imported attackers",
    "attacker_bot": "attacker",
    "defender_team": "Imported defenders",
    "defender_bot": "defender",
}
_CATEGORY = re.compile(r"^[A-Za-z0-9_]{1,60}$")
# Where a file has many problems, the first ones are enough to fix it.
MAX_PROBLEMS = 50


class DatasetImportInvalid(Exception):
    """The file has problems; `problems` lists each with its line ("line 3: ...")."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s): " + "; ".join(problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class ImportedConversation:
    line: int
    attacker_team: str
    attacker_bot: str
    defender_team: str
    defender_bot: str
    goal_category: str
    goal_target: str
    messages: tuple[str, ...]


@dataclass
class ImportReport:
    round: Round
    conversations: int
    turns: int
    teams_created: list[str]
    bots_created: list[str]

    def lines(self) -> list[str]:
        return [
            f"Imported {self.conversations} conversation{'' if self.conversations == 1 else 's'} "
            f"({self.turns} turn{'' if self.turns == 1 else 's'}) into round {self.round.slug}.",
            f"Teams created: {', '.join(self.teams_created) or 'none'}.",
            f"Bots created: {', '.join(self.bots_created) or 'none'}.",
        ]


def dataset_file_lines(file: BinaryIO, *, size: int) -> list[str]:
    """The lines of a chat JSONL file of ``size`` bytes, refused (DatasetImportInvalid) before it is read
    when over ``settings.ARENA_DATASET_IMPORT_MAX_BYTES``, or when not UTF-8. A leading byte order
    mark is dropped."""
    limit = settings.ARENA_DATASET_IMPORT_MAX_BYTES
    if size > limit:
        raise DatasetImportInvalid([f"the file has {size:,} bytes; the limit is {limit:,} bytes"])
    try:
        text = utf8_text(file.read(limit + 1), max_bytes=limit, what="the file")
    except HostileJson as exc:
        raise DatasetImportInvalid([str(exc)]) from None
    return text.split("\n")


def _json_object(where: str, text: str) -> tuple[dict | None, str]:
    """The line as a JSON object, or None and the problem ("not JSON" with its place, or not an object)."""
    try:
        # Depth, NUL, unpaired surrogates and NaN are refused here, each said with its place in the line.
        data = json_loads(text)
    except HostileJson as exc:
        return None, f"{where}: {exc}"
    if not isinstance(data, dict):
        return None, f"{where}: must be a JSON object with messages"
    return data, ""


def _unknown_keys(where: str, data: dict) -> list[str]:
    """A line holds messages and metadata, nothing else."""
    return [f"{where}: unknown key {key!r}" for key in data if key not in ("messages", "metadata")]


def _content_problems(place: str, content: object, *, limit: int) -> list[str]:
    """A message's content: a non-empty string of at most the competition's message limit (NUL and
    unpaired surrogates were refused with the line: config/hostile.py)."""
    if not isinstance(content, str) or not content:
        return [f"{place}: content must be a non-empty string"]
    if len(content) > limit:
        return [f"{place}: content is {len(content)} characters, over the competition's limit of {limit}"]
    return []


def _message_problems(place: str, index: int, message: object, *, limit: int) -> list[str]:
    """One message: an object whose role alternates (user first), with role, content and, on
    assistant messages only, a weight of 0 or 1 (allowed, ignored); every problem, in that order."""
    if not isinstance(message, dict):
        return [f"{place} must be an object with role and content"]
    problems = []
    expected = "user" if index % 2 == 0 else "assistant"
    role = message.get("role")
    if role != expected:
        problems.append(f"{place}: role must be {expected!r} (user and assistant alternate, user first), got {role!r}")
    unknown = set(message) - {"role", "content", "weight"}
    if unknown:
        problems.append(f"{place}: unknown key(s) {', '.join(sorted(map(repr, unknown)))}")
    if "weight" in message and (
        role != "assistant" or message["weight"] not in (0, 1) or isinstance(message["weight"], bool)
    ):
        problems.append(f"{place}: weight must be 0 or 1, on assistant messages only")
    return problems + _content_problems(place, message.get("content"), limit=limit)


def _names(where: str, metadata: dict) -> tuple[dict[str, str], list[str]]:
    """The teams' and bots' names (DEFAULT_NAMES where missing or empty), stripped, each at most 120
    characters; the two teams must differ (case-insensitive)."""
    names, problems = {}, []
    for key, default in DEFAULT_NAMES.items():
        value = metadata.get(key) or default
        if not isinstance(value, str) or not value.strip() or len(value) > 120:
            problems.append(f"{where}: metadata.{key} must be a name of at most 120 characters")
        names[key] = value.strip() if isinstance(value, str) else ""
    if names["attacker_team"].casefold() == names["defender_team"].casefold():
        problems.append(f"{where}: the attacker and defender teams must differ")
    return names, problems


def _goal(where: str, metadata: dict) -> tuple[str, str, list[str]]:
    """(goal_category, goal_target, problems): a category slug of letters, digits and _ (default
    "imported"), a target of at most 500 characters (default empty)."""
    problems = []
    category = metadata.get("goal_category") or "imported"
    if not isinstance(category, str) or not _CATEGORY.match(category):
        problems.append(f"{where}: metadata.goal_category must be a slug of letters, digits and _")
    target = metadata.get("goal_target") or ""
    if not isinstance(target, str) or len(target) > 500:
        problems.append(f"{where}: metadata.goal_target must be text of at most 500 characters")
    return category, target, problems


def _parse_line(number: int, text: str, *, limit: int) -> tuple[ImportedConversation | None, list[str]]:
    """One line of the file: its conversation, or None and every problem found on it ("line N: ...").

    A line that is not a JSON object, has no messages list, or has metadata that is not an object
    stops there; otherwise every message and metadata field is checked.
    """
    where = f"line {number}"
    data, problem = _json_object(where, text)
    if data is None:
        return None, [problem]
    problems = _unknown_keys(where, data)
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        return None, [*problems, f"{where}: messages must be a non-empty list"]
    for index, message in enumerate(messages):
        problems += _message_problems(f"{where}: messages[{index}]", index, message, limit=limit)
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        return None, [*problems, f"{where}: metadata must be an object"]
    names, found = _names(where, metadata)
    category, target, found_in_goal = _goal(where, metadata)
    problems += found + found_in_goal
    if problems:
        return None, problems
    texts = tuple(message["content"] for message in messages)
    return ImportedConversation(number, **names, goal_category=category, goal_target=target, messages=texts), []


def dataset_parse(lines: Iterable[str], *, competition: Competition) -> list[ImportedConversation]:
    """Every conversation of the file, or DatasetImportInvalid with every problem found (at most
    MAX_PROBLEMS) by line number."""
    conversations, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parsed, found = _parse_line(number, line, limit=competition.default_message_limit)
        problems += found
        if parsed is not None:
            conversations.append(parsed)
        if len(problems) >= MAX_PROBLEMS:
            problems.append(f"stopped after {MAX_PROBLEMS} problems")
            break
    if not conversations and not problems:
        problems.append("the file holds no conversation")
    if problems:
        raise DatasetImportInvalid(problems)
    return conversations


def _team_matching(name: str) -> Team | None:
    return Team.objects.filter(name__iexact=name).first() or Team.objects.filter(slug__iexact=slugify(name)).first()


def _team_problems(conversations: list[ImportedConversation]) -> list[str]:
    problems = []
    for item in conversations:
        for side in (Side.ATTACKER, Side.DEFENDER):
            team = _team_matching(getattr(item, f"{side}_team"))
            if team is not None and team.side != side:
                problems.append(
                    f"line {item.line}: team {team.name!r} plays {team.side}, not {side} as metadata.{side}_team says"
                )
    return problems


def _team_slug(name: str) -> str:
    base = (slugify(name) or "team")[:50]
    slug, n = base, 1
    while Team.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def dataset_import(*, competition: Competition, round_name: str, round_slug: str, lines: Iterable[str]) -> ImportReport:
    """Import chat JSONL `lines` into a new imported round of `competition`; all or nothing.
    Raises DatasetImportInvalid (problems by line) and writes nothing when anything is wrong."""
    conversations = dataset_parse(lines, competition=competition)
    problems = _team_problems(conversations)
    if Round.objects.filter(competition=competition, slug=round_slug).exists():
        problems.insert(0, f"competition {competition.slug!r} already has a round {round_slug!r}")
    if problems:
        raise DatasetImportInvalid(problems)
    teams_created: list[str] = []
    bots_created: list[str] = []
    with transaction.atomic():
        teams: dict[tuple[str, str], Team] = {}
        bots: dict[tuple[str, str, str], Bot] = {}

        def bot_for(side: str, team_name: str, bot_name: str) -> Bot:
            team = teams.get((side, team_name.casefold()))
            if team is None:
                team = _team_matching(team_name)
                if team is None:
                    team = Team.objects.create(name=team_name, slug=_team_slug(team_name), side=side, active=False)
                    teams_created.append(team.name)
                teams[(side, team_name.casefold())] = team
            key = (side, team_name.casefold(), bot_name)
            if key not in bots:
                bot = Bot.objects.filter(team=team, name=bot_name).first()
                if bot is None:
                    bot = Bot.objects.create(team=team, name=bot_name, url=IMPORTED_BOT_URL, active=False)
                    bots_created.append(f"{team.name} / {bot.name}")
                bots[key] = bot
            return bots[key]

        pairs = [
            (
                bot_for(Side.ATTACKER, item.attacker_team, item.attacker_bot),
                bot_for(Side.DEFENDER, item.defender_team, item.defender_bot),
            )
            for item in conversations
        ]
        round_ = round_imported_create(competition_id=competition.pk, name=round_name, slug=round_slug, pairs=pairs)
        matches = {(match.attacker_id, match.defender_id): match for match in round_.matches.all()}
        sequences: dict[int, int] = {}
        new = []
        for item, (attacker, defender) in zip(conversations, pairs, strict=True):
            match = matches[(attacker.pk, defender.pk)]
            sequence = sequences.get(match.pk, 0)
            sequences[match.pk] = sequence + 1
            new.append(
                ConversationNew(
                    match_id=match.pk,
                    sequence=sequence,
                    goal_category=item.goal_category,
                    goal_target=item.goal_target,
                    messages=tuple(item.messages),
                )
            )
        conversations_create(conversations=new)
        turns = sum(len(item.messages) for item in new)
        task_enqueue(judging_tasks.round_judge_task, round_.pk)
    return ImportReport(
        round=round_,
        conversations=len(conversations),
        turns=turns,
        teams_created=teams_created,
        bots_created=bots_created,
    )
