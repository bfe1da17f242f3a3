"""The rows of each dataset shape, built from ConversationRecords (records.py).

One function per shape turns a record into rows (dicts with JSON types); the streaming exports and
the admin's import-export resources both call them, so the shapes cannot drift apart. Text is kept
exactly as the bots sent it; how a row becomes a CSV/XLSX cell is writer.py's business.

- conversations: one row per conversation (CONVERSATION_COLUMNS);
- turns: one row per turn with its final label and every judge's verdict (TURN_COLUMNS);
- chat: {"messages": [...], "metadata": {...}}, the OpenAI / Hugging Face chat shape; the attacker
  speaks as "user"; an assistant message has weight 1 only when its final label is decided safe
  (and, answering the platform's benign probe, decided not a refusal: ConversationRecord.reply_taught);
- preference: {"prompt", "chosen", "rejected", "metadata"}, TRL's conversational preference shape
  (pairs.py finds the pairs).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from judging.datasets.record_types import ConversationRecord, TurnRecord

CONVERSATION_COLUMNS = (
    "id",
    "split",
    "competition",
    "round",
    "practice",
    "imported",
    "attacker_team",
    "attacker_bot",
    "attacker_version",
    "defender_team",
    "defender_bot",
    "defender_version",
    "goal_category",
    "goal_target",
    "status",
    "outcome",
    "attack_success",
    "failure_side",
    "failure_kind",
    "labels",
    "turn_count",
    "turns",
    "moderation",
    "started_at",
    "ended_at",
)
TURN_COLUMNS = (
    "conversation_id",
    "split",
    "competition",
    "round",
    "attacker_team",
    "defender_team",
    "goal_category",
    "index",
    "speaker",
    "role",
    "content",
    "status",
    "error_detail",
    "latency_ms",
    "malicious_assistance",
    "vulnerable_code",
    "refusal",
    "cwe",
    "severity",
    "label_source",
    "verdicts",
)
CHAT_COLUMNS = ("messages", "metadata")
PREFERENCE_COLUMNS = ("prompt", "chosen", "rejected", "metadata")
COLUMNS = {
    "conversations": CONVERSATION_COLUMNS,
    "turns": TURN_COLUMNS,
    "chat": CHAT_COLUMNS,
    "preference": PREFERENCE_COLUMNS,
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def conversation_text(record: ConversationRecord) -> str:
    """The text de-duplication compares: every message that arrived, with its speaker."""
    return "\n".join([f"{turn.speaker}: {turn.content}" for turn in record.turns if turn.ok])


def conversation_row(record: ConversationRecord, *, split: str) -> dict:
    return {
        "id": record.uuid,
        "split": split,
        "competition": record.competition,
        "round": record.round,
        "practice": record.practice,
        "imported": record.imported,
        "attacker_team": record.attacker_team,
        "attacker_bot": record.attacker_bot,
        "attacker_version": record.attacker_version,
        "defender_team": record.defender_team,
        "defender_bot": record.defender_bot,
        "defender_version": record.defender_version,
        "goal_category": record.goal_category,
        "goal_target": record.goal_target,
        "status": record.status,
        "outcome": record.outcome,
        "attack_success": record.attack_success,
        "failure_side": record.failure_side,
        "failure_kind": record.failure_kind,
        "labels": record.label_summary(),
        "turn_count": len(record.turns),
        "turns": [
            {
                "index": turn.index,
                "speaker": turn.speaker,
                "content": turn.content,
                "status": turn.status,
                "label": turn.label.as_dict() if turn.label is not None else None,
            }
            for turn in record.turns
        ],
        "moderation": record.moderation,
        "started_at": _iso(record.started_at),
        "ended_at": _iso(record.ended_at),
    }


def turn_rows(record: ConversationRecord, *, split: str) -> Iterator[dict]:
    for turn in record.turns:
        yield {
            "conversation_id": record.uuid,
            "split": split,
            "competition": record.competition,
            "round": record.round,
            "attacker_team": record.attacker_team,
            "defender_team": record.defender_team,
            "goal_category": record.goal_category,
            "index": turn.index,
            "speaker": turn.speaker,
            "role": turn.role,
            "content": turn.content,
            "status": turn.status,
            "error_detail": turn.error_detail,
            "latency_ms": turn.latency_ms,
            **{name: value for name, value in _label_dict(turn).items() if name not in ("index", "source")},
            "label_source": turn.label.source if turn.label else None,
            "verdicts": list(turn.verdicts),
        }


def message_of(record: ConversationRecord, turn: TurnRecord) -> dict:
    """A turn of `record` as a chat message; an assistant message carries its training weight: 1 when
    it is a reply to learn from (ConversationRecord.reply_taught: decided safe; to the benign probe,
    decided safe and not a refusal), else 0."""
    if turn.speaker == "attacker":
        return {"role": "user", "content": turn.content}
    return {"role": "assistant", "content": turn.content, "weight": 1 if record.reply_taught(turn.label) else 0}


def chat_messages(record: ConversationRecord) -> list[dict]:
    """The messages that arrived, as chat messages, ending with the last assistant message."""
    turns = [turn for turn in record.turns if turn.ok]
    while turns and turns[-1].speaker != "defender":
        turns.pop()
    return [message_of(record, turn) for turn in turns]


def chat_metadata(record: ConversationRecord, *, split: str) -> dict:
    return {
        "conversation_id": record.uuid,
        "split": split,
        "competition": record.competition,
        "round": record.round,
        "attacker_team": record.attacker_team,
        "attacker_bot": record.attacker_bot,
        "defender_team": record.defender_team,
        "defender_bot": record.defender_bot,
        "goal_category": record.goal_category,
        "goal_target": record.goal_target,
        "outcome": record.outcome,
        "replacement_for": None,
        "labels": [_label_dict(turn) for turn in record.replies],
    }


def _label_dict(turn: TurnRecord) -> dict:
    label = turn.label
    if label is None:
        return {
            "index": turn.index,
            "malicious_assistance": None,
            "vulnerable_code": None,
            "refusal": None,
            "cwe": [],
            "severity": None,
            "source": None,
        }
    return {
        "index": turn.index,
        "malicious_assistance": label.malicious_assistance,
        "vulnerable_code": label.vulnerable_code,
        "refusal": label.refusal,
        "cwe": list(label.cwe),
        "severity": label.severity,
        "source": label.source,
    }


def chat_row(record: ConversationRecord, *, split: str) -> dict | None:
    """The chat example of a conversation; None when no defender reply arrived."""
    messages = chat_messages(record)
    if not messages:
        return None
    return {"messages": messages, "metadata": chat_metadata(record, split=split)}


def prompt_before(record: ConversationRecord, index: int) -> list[dict]:
    """The chat messages of the conversation before turn `index` (what the reply at `index` answered)."""
    return [message_of(record, turn) for turn in record.turns if turn.ok and turn.index < index]


def replacement_row(
    unsafe: ConversationRecord, index: int, safe: ConversationRecord, safe_index: int, *, split: str
) -> dict:
    """A chat example: the rejected reply's conversation up to it, then the reply to learn from
    (weight 1) that another defender gave to the same attacker messages (pairs.py)."""
    reply = next(turn for turn in safe.turns if turn.index == safe_index)
    metadata = chat_metadata(unsafe, split=split)
    metadata["replacement_for"] = index
    metadata["labels"] = [label for label in metadata["labels"] if label["index"] < index] + [
        _label_dict(reply) | {"index": index}
    ]
    metadata["replacement_from"] = {
        "conversation_id": safe.uuid,
        "index": safe_index,
        "defender_bot": safe.defender_bot,
    }
    return {"messages": [*prompt_before(unsafe, index), message_of(safe, reply)], "metadata": metadata}


def preference_row(
    unsafe: ConversationRecord, index: int, safe: ConversationRecord, safe_index: int, *, split: str
) -> dict:
    """A TRL conversational preference example: the prompt is the rejected reply's conversation
    before it; chosen is the reply to learn from that another defender gave to the same attacker
    messages (pairs.py: safe over unsafe; to the benign probe, helpful over a refusal or unsafe code)."""
    chosen = next(turn for turn in safe.turns if turn.index == safe_index)
    rejected = next(turn for turn in unsafe.turns if turn.index == index)
    return {
        "prompt": [{"role": m["role"], "content": m["content"]} for m in prompt_before(unsafe, index)],
        "chosen": [{"role": "assistant", "content": chosen.content}],
        "rejected": [{"role": "assistant", "content": rejected.content}],
        "metadata": {
            "split": split,
            "competition": unsafe.competition,
            "goal_category": unsafe.goal_category,
            "goal_target": unsafe.goal_target,
            "attacker_team": unsafe.attacker_team,
            "chosen_conversation_id": safe.uuid,
            "chosen_index": safe_index,
            "chosen_defender_team": safe.defender_team,
            "chosen_defender_bot": safe.defender_bot,
            "chosen_label": _label_dict(chosen),
            "rejected_conversation_id": unsafe.uuid,
            "rejected_index": index,
            "rejected_defender_team": unsafe.defender_team,
            "rejected_defender_bot": unsafe.defender_bot,
            "rejected_label": _label_dict(rejected),
        },
    }


def record_rows(shape: str, record: ConversationRecord, *, split: str) -> list[dict]:
    """The rows one conversation gives in `shape` (preference rows come from pairs, `pair_row`)."""
    if shape == "conversations":
        return [conversation_row(record, split=split)]
    if shape == "turns":
        return list(turn_rows(record, split=split))
    if shape == "chat":
        row = chat_row(record, split=split)
        return [row] if row is not None else []
    return []


def pair_row(
    shape: str, unsafe: ConversationRecord, index: int, safe: ConversationRecord, safe_index: int, *, split: str
) -> dict:
    """The row of a safe/unsafe pair: a preference row, or for chat a safe replacement example."""
    build = preference_row if shape == "preference" else replacement_row
    return build(unsafe, index, safe, safe_index, split=split)
