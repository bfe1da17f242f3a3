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

Memory: 34 bytes per labelled reply (PairFinder); texts are read again, in
chunks, only for the pairs found (`pair_records`).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator

import numpy as np

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

    Memory: 34 bytes per labelled reply, in arrays (the context's key, the reply, its side); the
    contexts are grouped once, by sorting, when the pairs are asked for. A dict per side with a
    packed integer per reply took about 115 bytes per reply (tracemalloc, 20,000 conversations of
    bench/export.py; 115 MB at 200,000).
    """

    def __init__(self) -> None:
        # One entry per labelled reply, in the order seen: its context's key (split and probe as a
        # tag, the 128-bit digest in two halves), the reply (pk, and turn index << 32 | defender bot
        # id) and its side (1 unsafe, 0 safe).
        self._tag, self._side = array("B"), array("B")
        self._high, self._low = array("Q"), array("Q")
        self._pk, self._index_bot = array("q"), array("q")
        self._splits: list[str] = []

    def add(self, record: ConversationRecord, *, split: str) -> None:
        keys = None
        for turn in record.replies:
            label = turn.label
            if record.reply_rejected(label):
                side = 1
            elif record.reply_taught(label):
                side = 0
            else:
                continue
            if keys is None:
                keys = context_keys(record)
                if split not in self._splits:
                    self._splits.append(split)
                tag = 2 * self._splits.index(split) + record.probe
            high, low = divmod(int.from_bytes(keys[turn.index]), _HALF)
            self._tag.append(tag)
            self._side.append(side)
            self._high.append(high)
            self._low.append(low)
            self._pk.append(record.pk)
            self._index_bot.append((turn.index << 32) | record.defender_bot_id)

    def _contexts(self) -> Iterator[tuple[str, list[Reply], list[Reply]]]:
        """(split, unsafe replies, safe replies) of each context with both, in the order of each
        context's first unsafe reply, the replies of each side in the order seen."""
        count = len(self._tag)
        if not count:
            return
        columns = [np.frombuffer(column, dtype=dtype) for column, dtype in (
            (self._tag, np.uint8), (self._high, np.uint64), (self._low, np.uint64))]  # fmt: skip
        order = np.lexsort(columns[::-1])  # stable: each context's replies stay in the order seen
        same = np.ones(count - 1, dtype=bool)  # entry n + 1 (in that order) has entry n's context
        for column in columns:
            ordered = column[order]
            same &= ordered[1:] == ordered[:-1]
        del ordered
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        ends = np.append(starts[1:], count)
        side = np.frombuffer(self._side, dtype=np.uint8)[order]
        unsafe = np.add.reduceat(side.astype(np.int64), starts)
        first_unsafe = np.minimum.reduceat(np.where(side == 1, order, count), starts)
        both = np.flatnonzero((unsafe > 0) & (unsafe < ends - starts))
        pk, index_bot = np.frombuffer(self._pk, dtype=np.int64), np.frombuffer(self._index_bot, dtype=np.int64)
        for group in both[np.argsort(first_unsafe[both], kind="stable")].tolist():
            start, end = starts[group], ends[group]
            members = order[start:end]
            replies: tuple[list[Reply], list[Reply]] = ([], [])  # safe, unsafe
            for reply_pk, packed, reply_side in zip(
                pk[members].tolist(), index_bot[members].tolist(), side[start:end].tolist(), strict=True
            ):
                replies[reply_side].append((reply_pk, packed >> 32, packed & 0xFFFFFFFF))
            yield self._splits[self._tag[members[0]] // 2], replies[1], replies[0]

    def pairs(self) -> Iterator[tuple[str, Reply, Reply]]:
        """(split, unsafe reply, safe reply) in the order the unsafe replies were seen."""
        for split, unsafe_replies, safe_replies in self._contexts():
            turn = 0
            for unsafe in unsafe_replies:
                for step in range(len(safe_replies)):
                    safe = safe_replies[(turn + step) % len(safe_replies)]
                    if safe[2] != unsafe[2]:
                        turn = (turn + step + 1) % len(safe_replies)
                        yield split, unsafe, safe
                        break


_HALF = 1 << 64


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
