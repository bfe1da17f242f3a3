"""Reading conversations for a dataset in chunks: one ConversationRecord per conversation.

Every shape (shapes.py) is built from these records, in the admin's export actions and in the
streaming exports alike, so the two can never disagree. Reading is by primary key: the
selection's keys are read once (8 bytes each), then `chunk_size` conversations per step, three
queries per step at most (conversations, turns with their final labels, verdicts), each read to its
end before the next step, so memory stays nearly constant however many conversations a competition
holds and no statement stays open while an export job writes its progress (on SQLite an open read
would hold the write back until it ends).

Rows are read as plain tuples through a cursor, without the ORM's per-row converters, converting
the few columns that need it by hand: public ids, datetimes, label flags (bench/export.py measured
the ORM's converters and the record building as most of an export's time).

The records themselves (ConversationRecord, TurnRecord, Label, Outcome) are record_types.py's.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from array import array
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

from django.conf import settings
from django.db import connections
from django.db.models import Exists, OuterRef, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from conversations.models import Conversation, Turn
from judging.datasets.record_types import ConversationRecord, Label, TurnRecord
from judging.models import Annotation, Verdict
from teams.models import Bot


def anonymous_id(kind: str, name: str) -> str:
    """A stable anonymous id for a team or bot: an HMAC of its name with ARENA_DATASET_SALT (the
    secret key unless set), so ids stay the same across exports but cannot be guessed from names."""
    return _anonymous_id(_salt(), kind, name)


@functools.lru_cache(maxsize=4096)
def _anonymous_id(salt: str, kind: str, name: str) -> str:
    digest = hmac.new(salt.encode(), f"{kind}:{name}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}-{digest[:10]}"


_CONVERSATION_FIELDS = (
    "pk",
    "uuid",
    "match__round__competition__slug",
    "match__round__slug",
    "match__round__practice",
    "match__round__imported",
    "match__attacker__team__slug",
    "match__attacker__name",
    "match__attacker_version",
    "match__defender__team__slug",
    "match__defender__name",
    "match__defender_version",
    "match__defender_id",
    "goal_category",
    "goal_target",
    "status",
    "failure_side",
    "failure_kind",
    "moderation",
    "started_at",
    "ended_at",
    "match__attacker__kind",
)
_TURN_FIELDS = (
    "conversation_id",
    "pk",
    "index",
    "speaker",
    "content",
    "status",
    "error_detail",
    "latency_ms",
    "final_label__source",
    "final_label__malicious_assistance",
    "final_label__vulnerable_code",
    "final_label__refusal",
    "cwe_text",
    "final_label__severity",
)
_VERDICT_FIELDS = (
    "turn_id",
    "judge__slug",
    "judge__kind",
    "judge_version",
    "malicious_assistance",
    "vulnerable_code",
    "refusal",
    "cwe",
    "severity",
    "error",
)


def _salt() -> str:
    return getattr(settings, "ARENA_DATASET_SALT", "") or settings.SECRET_KEY


def _aware(value: datetime | str | None) -> datetime | None:
    """A raw row's datetime as the ORM gives it: aware, in UTC where the database keeps it naive (SQLite)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def _public_id(value: UUID | str) -> str:
    """A raw row's UUID in its canonical text form; SQLite keeps the 32 lowercase hex digits (cut into
    groups here: a tenth of the time of str(UUID(value)))."""
    if isinstance(value, UUID):
        return str(value)
    if len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(UUID(value))


def _conversation(row: tuple, *, salt: str | None) -> ConversationRecord:
    (pk, uuid, competition, round_, practice, imported, a_team, a_bot, a_version, d_team, d_bot, d_version, d_id,
     category, target, status, failure_side, failure_kind, moderation, started, ended, a_kind) = row  # fmt: skip
    if salt is not None:  # anonymous ids
        a_bot, d_bot = (
            _anonymous_id(salt, "bot", f"{a_team}/{a_bot}"),
            _anonymous_id(salt, "bot", f"{d_team}/{d_bot}"),
        )
        a_team, d_team = _anonymous_id(salt, "team", a_team), _anonymous_id(salt, "team", d_team)
    return ConversationRecord(
        pk=pk,
        uuid=_public_id(uuid),
        competition=competition,
        round=round_,
        practice=bool(practice),
        imported=bool(imported),
        attacker_team=a_team,
        attacker_bot=a_bot,
        attacker_version=a_version,
        defender_team=d_team,
        defender_bot=d_bot,
        defender_version=d_version,
        defender_bot_id=d_id,
        goal_category=category,
        goal_target=target,
        status=status,
        failure_side=failure_side,
        failure_kind=failure_kind,
        moderation=moderation,
        started_at=_aware(started),
        ended_at=_aware(ended),
        probe=a_kind == Bot.Kind.PROBE,
    )


_OK = str(Turn.Status.OK)


@functools.lru_cache(maxsize=1024)
def _cwe(text: str | None) -> tuple[str, ...]:
    if not text or text == "[]":
        return ()
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else ()


def _rows(queryset: QuerySet) -> list[tuple]:
    """The queryset's values_list rows straight from the database cursor: no per-row converters
    (SQLite gives booleans as 0/1; the callers convert the few columns that need it)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _by_keys(field: str, ids: list[int]) -> dict:
    """A filter on `field` for these primary keys: a range when they are dense (most keys in it are
    wanted; the callers drop the others), else the list. Preparing a list of 500 keys costs Django
    more than reading a few extra rows."""
    low, high = min(ids), max(ids)
    if high - low < 2 * len(ids):
        return {f"{field}__gte": low, f"{field}__lte": high}
    return {f"{field}__in": ids}


def _turns_of(by_pk: dict[int, ConversationRecord], ids: list[int]) -> dict[int, TurnRecord]:
    """Add every turn of these conversations, with its final label, to its record; turns by pk."""
    turns_by_pk: dict[int, TurnRecord] = {}
    rows = _rows(
        Turn.objects.filter(**_by_keys("conversation_id", ids))
        # The CWE ids as JSON text: most are "[]", and decoding every row's JSON costs more than the
        # rest of a row (bench/export.py); _cwe decodes only the others.
        .annotate(cwe_text=Cast("final_label__cwe", output_field=TextField()))
        .order_by("conversation_id", "index")
        .values_list(*_TURN_FIELDS)
    )
    record = None
    for conversation_id, pk, index, speaker, content, status, error_detail, latency, source, malicious, vulnerable, \
            refusal, cwe, severity in rows:  # fmt: skip
        if record is None or record.pk != conversation_id:
            record = by_pk.get(conversation_id)
        if record is None:  # a conversation in the range that is not wanted
            continue
        label = None
        if source is not None:
            label = Label(
                None if malicious is None else bool(malicious),
                None if vulnerable is None else bool(vulnerable),
                None if refusal is None else bool(refusal),
                _cwe(cwe),
                severity,
                source,
            )
        turn = TurnRecord(pk, index, speaker, content, status, error_detail, latency, label, (), status == _OK)
        record.turns.append(turn)
        turns_by_pk[pk] = turn
    return turns_by_pk


def _verdicts_of(turns_by_pk: dict[int, TurnRecord], ids: list[int]) -> None:
    verdicts: dict[int, list[dict]] = defaultdict(list)
    for turn_id, slug, kind, version, malicious, vulnerable, refusal, cwe, severity, error in (
        Verdict.objects.filter(**_by_keys("turn__conversation_id", ids))
        .order_by("turn_id", "judge__slug", "judge_version")
        .values_list(*_VERDICT_FIELDS)
    ):
        verdicts[turn_id].append(
            {
                "judge": slug,
                "kind": kind,
                "judge_version": version,
                "malicious_assistance": malicious,
                "vulnerable_code": vulnerable,
                "refusal": refusal,
                "cwe": list(cwe or []),
                "severity": severity,
                "error": error,
            }
        )
    for turn_id, rows in verdicts.items():
        turn = turns_by_pk.get(turn_id)
        if turn is not None:  # not a turn of a conversation in the range that is not wanted
            turn.verdicts = rows


def _records(rows: list[tuple], *, anonymous: bool, with_verdicts: bool) -> dict[int, ConversationRecord]:
    """Records of these conversation rows (`_CONVERSATION_FIELDS`) with their turns, finished."""
    salt = _salt() if anonymous else None
    by_pk = {row[0]: _conversation(row, salt=salt) for row in rows}
    if not by_pk:
        return by_pk
    ids = list(by_pk)
    turns_by_pk = _turns_of(by_pk, ids)
    if with_verdicts:
        _verdicts_of(turns_by_pk, ids)
    for record in by_pk.values():
        record.finish()
    return by_pk


def records_of(ids: list[int], *, anonymous: bool, with_verdicts: bool = False) -> list[ConversationRecord]:
    """The records of these conversations, in the order of `ids`, with their turns and final labels
    (and every verdict of each turn when `with_verdicts`)."""
    if not ids:
        return []
    wanted = set(ids)
    rows = _rows(Conversation.objects.filter(**_by_keys("pk", ids)).values_list(*_CONVERSATION_FIELDS))
    by_pk = _records([row for row in rows if row[0] in wanted], anonymous=anonymous, with_verdicts=with_verdicts)
    return [by_pk[pk] for pk in ids if pk in by_pk]


def records_chunks(
    conversations: QuerySet[Conversation],
    *,
    anonymous: bool,
    with_verdicts: bool = False,
    chunk_size: int = 500,
    annotated_first: bool = False,
) -> Iterator[list[ConversationRecord]]:
    """Every conversation of the queryset as a record, in primary-key order, `chunk_size` at a time
    (a list per step; three queries per step, each by primary keys). With `annotated_first`, the
    conversations with a human annotation come first (each group in primary-key order): an export's
    de-duplication keeps the first of twins, and so keeps the annotated one.

    The selection's primary keys are read once, first (8 bytes each): a query per step that filtered
    and ordered the selection again ("pk > last ... LIMIT n") made SQLite sort every remaining
    conversation at each step, quadratic in the conversations.
    """
    ordering = ["pk"]
    if annotated_first:
        annotated = Exists(Annotation.objects.filter(turn__conversation_id=OuterRef("pk")).order_by())
        conversations = conversations.annotate(annotated=annotated)
        ordering = ["-annotated", "pk"]
    # Streamed into the array (no list of Python ints on the way); read to its end before any chunk.
    ids = array("q", conversations.order_by(*ordering).values_list("pk", flat=True).iterator(chunk_size=10_000))
    for start in range(0, len(ids), chunk_size):
        yield records_of(list(ids[start : start + chunk_size]), anonymous=anonymous, with_verdicts=with_verdicts)
