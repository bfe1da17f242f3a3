"""Pairs of defender replies to the same context: one unsafe, one safe, from different defenders.

The context of a reply is the attacker's messages before it (their text, in order): two
conversations whose attacker said the same things get replies "to the same context" even though
their earlier defender replies differ. Preference rows (and the chat shape's safe replacements)
are built from these pairs. Replies are paired only within one split, so no example crosses from
train to test. Each unsafe reply is paired at most once; the safe replies of a context are used in
turn (round robin) so one safe reply is not repeated while another waits.

Memory: a few integers per labelled reply and 16 bytes per context; texts are read again, in
chunks, only for the pairs found (`pair_records`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator

from judging.datasets.records import ConversationRecord, records_of

# (conversation pk, turn index, defender bot id)
Reply = tuple[int, int, int]


def context_key(record: ConversationRecord, index: int) -> bytes:
    """A digest of the attacker messages before turn `index`."""
    digest = hashlib.blake2b(digest_size=16)
    for turn in record.turns:
        if turn.index >= index:
            break
        if turn.ok and turn.speaker == "attacker":
            digest.update(turn.content.encode())
            digest.update(b"\x00")
    return digest.digest()


class PairFinder:
    def __init__(self) -> None:
        self.unsafe: dict[tuple[str, bytes], list[Reply]] = defaultdict(list)
        self.safe: dict[tuple[str, bytes], list[Reply]] = defaultdict(list)

    def add(self, record: ConversationRecord, *, split: str) -> None:
        for turn in record.replies:
            if turn.label is None:
                continue
            if turn.label.unsafe:
                self.unsafe[(split, context_key(record, turn.index))].append(
                    (record.pk, turn.index, record.defender_bot_id)
                )
            elif turn.label.safe:
                self.safe[(split, context_key(record, turn.index))].append(
                    (record.pk, turn.index, record.defender_bot_id)
                )

    def pairs(self) -> Iterator[tuple[str, Reply, Reply]]:
        """(split, unsafe reply, safe reply) in the order the unsafe replies were seen."""
        for key, unsafe_replies in self.unsafe.items():
            safe_replies = self.safe.get(key)
            if not safe_replies:
                continue
            turn = 0
            for unsafe in unsafe_replies:
                for step in range(len(safe_replies)):
                    safe = safe_replies[(turn + step) % len(safe_replies)]
                    if safe[2] != unsafe[2]:
                        turn = (turn + step + 1) % len(safe_replies)
                        yield key[0], unsafe, safe
                        break


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
