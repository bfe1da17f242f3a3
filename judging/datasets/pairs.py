"""Pairs of defender replies to the same context: one rejected, one to learn from, from different defenders.

To an attack, the rejected reply is unsafe and the chosen one safe (a refusal is a fine answer). To
the platform's benign probe (a benign question), the chosen reply is helpful, decided safe and not a
refusal, and the rejected one is unsafe or a refusal: a dataset must not teach refusing benign
questions (ConversationRecord.reply_taught and reply_rejected). Probe contexts never meet attack
contexts, even when the words are the same.

The context of a reply is the attacker's messages before it (their text, in order): two
conversations whose attacker said the same things get replies "to the same context" even though
their earlier defender replies differ. Preference rows (and the chat shape's safe replacements)
are built from these pairs. Replies are paired only within one split, so no example crosses from
train to test. Each unsafe reply is paired at most once; the safe replies of a context are used in
turn (round robin) so one safe reply is not repeated while another waits.

Memory: about 150 bytes per labelled reply (its context's key and one packed integer); texts are read again, in
chunks, only for the pairs found (`pair_records`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from judging.datasets.record_types import ConversationRecord
from judging.datasets.records import records_of

# (conversation pk, turn index, defender bot id)
Reply = tuple[int, int, int]


def context_keys(record: ConversationRecord) -> dict[int, bytes]:
    """Each defender reply's context key (turn index -> a digest of the attacker messages before it),
    in one pass over the record's turns."""
    digest = hashlib.blake2b(digest_size=16)
    keys = {}
    for turn in record.turns:
        if turn.speaker == "defender":
            keys[turn.index] = digest.copy().digest()
        elif turn.ok:
            digest.update(turn.content.encode())
            digest.update(b"\x00")
    return keys


class PairFinder:
    """The labelled replies of each context, unsafe and safe apart, then the pairs among them.

    Memory: most contexts hold one reply, kept as one packed integer (`_pack`) rather than a list of
    tuples, which also keeps them out of the garbage collector's passes; a list only where several
    replies share a context.
    """

    def __init__(self) -> None:
        self.unsafe: dict[bytes, int | list[int]] = {}
        self.safe: dict[bytes, int | list[int]] = {}

    def add(self, record: ConversationRecord, *, split: str) -> None:
        keys = None
        for turn in record.replies:
            label = turn.label
            if record.reply_rejected(label):
                side = self.unsafe
            elif record.reply_taught(label):
                side = self.safe
            else:
                continue
            if keys is None:
                keys = context_keys(record)
            key = split.encode() + (b"\x00p" if record.probe else b"\x00a") + keys[turn.index]
            reply = _pack(record.pk, turn.index, record.defender_bot_id)
            found = side.get(key)
            if found is None:
                side[key] = reply
            elif isinstance(found, int):
                side[key] = [found, reply]
            else:
                found.append(reply)

    def pairs(self) -> Iterator[tuple[str, Reply, Reply]]:
        """(split, unsafe reply, safe reply) in the order the unsafe replies were seen."""
        for key, packed_unsafe in self.unsafe.items():
            packed_safe = self.safe.get(key)
            if packed_safe is None:
                continue
            split = key[: key.index(b"\x00")].decode()
            safe_replies = [_unpack(reply) for reply in _replies(packed_safe)]
            turn = 0
            for unsafe in map(_unpack, _replies(packed_unsafe)):
                for step in range(len(safe_replies)):
                    safe = safe_replies[(turn + step) % len(safe_replies)]
                    if safe[2] != unsafe[2]:
                        turn = (turn + step + 1) % len(safe_replies)
                        yield split, unsafe, safe
                        break


# A reply packed into one integer: conversation pk, turn index (16 bits), defender bot id (32 bits).
def _pack(pk: int, index: int, bot_id: int) -> int:
    return (pk << 48) | (index << 32) | bot_id


def _unpack(packed: int) -> Reply:
    return packed >> 48, (packed >> 32) & 0xFFFF, packed & 0xFFFFFFFF


def _replies(found: int | list[int]) -> list[int]:
    return [found] if isinstance(found, int) else found


def pair_records(
    pairs: Iterator[tuple[str, Reply, Reply]], *, anonymous: bool, chunk_size: int = 250
) -> Iterator[tuple[str, ConversationRecord, int, ConversationRecord, int]]:
    """The pairs with their conversations' records, read `chunk_size` pairs at a time."""
    chunk: list[tuple[str, Reply, Reply]] = []

    def flush() -> Iterator[tuple[str, ConversationRecord, int, ConversationRecord, int]]:
        ids = sorted({reply[0] for _, unsafe, safe in chunk for reply in (unsafe, safe)})
        by_pk = {record.pk: record for record in records_of(ids, anonymous=anonymous)}
        for split, unsafe, safe in chunk:
            yield split, by_pk[unsafe[0]], unsafe[1], by_pk[safe[0]], safe[1]

    for pair in pairs:
        chunk.append(pair)
        if len(chunk) >= chunk_size:
            yield from flush()
            chunk = []
    if chunk:
        yield from flush()
