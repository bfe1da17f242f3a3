"""Duplicate removal by conversation: exact (identical text) and near (MinHash with LSH banding).

Conversations are seen in a fixed order (primary key); the first of a group of duplicates is kept
and the later ones are dropped and counted. The text compared is the conversation's messages that
arrived, speaker by speaker.

Exact duplicates: equal 128-bit XXH3 digests of the texts (xxhash; a chance collision among a million
texts is about 1 in 10^27), about four times faster than BLAKE2b, which an export does not need: the
digests never leave the process.

Near duplicates: a MinHash signature of each text's shingles (the 16 bytes from the start of each
word, case folded: about two to three words; each hashed to 32 bits), LSH banding with the bands and
rows datasketch's MinHashLSH would choose for the threshold (competition.scoring's `lsh_bands`, which
the scores' near-duplicate attacks use too), and every candidate checked: a conversation
is a near duplicate when its estimated Jaccard similarity to a kept one (the share of equal signature
slots) is at least the threshold.

The signature is one-permutation MinHash with densification (P. Li, A. Owen, C.-H. Zhang, "One
Permutation Hashing", NIPS 2012; A. Shrivastava, P. Li, "Densifying One Permutation Hashing via
Rotation for Fast Near Neighbor Search", ICML 2014): the top 6 bits of a shingle's hash choose one of
64 slots, a slot keeps the smallest hash that falls in it, and an empty slot takes the value of the
next non-empty slot to its right (circularly). It estimates the same Jaccard similarity as 64
independent permutations, from one hash per shingle instead of 64: the 64-permutation version was
the largest part of an export (bench/export.py: about 80 us per conversation against about 10 us).
A borrowed value can never equal a slot's own value (its top bits name the slot it came from), so
two texts agree on an empty slot only when they borrowed the same value.

Why not the scores' MinHash (competition/scoring/nearduplicates.py: datasketch's 128 permutations of
word 3-shingles, docs/scoring.md): that one compares one attacker's texts and costs 128 hash
operations per shingle; an export compares whole conversations, both sides, and must stay within
twice a plain JSON dump of the turns (bench/export.py), which one hash per shingle allows.

Signatures are computed with numpy for many texts at once (`check_many`): no Python loop over words
or shingles. Memory grows with the conversations kept (about 330 bytes each: the signature, and the
text's digest and five band keys in KeyIndex arrays), not with their text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from xxhash import xxh3_128_intdigest

from competition.scoring.nearduplicates import lsh_bands
from judging.datasets.key_index import KeyIndex

NUM_PERM = 64
# A shingle hash's top bits choose its slot (64 slots: 6 bits).
_SLOT_SHIFT = np.uint32(32 - 6)
_EMPTY = np.uint32(0xFFFFFFFF)
_PAD = b"\xff" * 15 + b" "
# Batches of a quarter megabyte of text: numpy's per-call cost is paid per batch, and the working
# arrays (a few bytes per byte of text) stay small enough for the allocator to reuse them; batches of
# a megabyte or more had each batch's arrays mapped afresh from the kernel (bench/export.py: 80,000
# page faults and a tenth of a second more per chat export of 20,000 conversations).
_BATCH_BYTES = 1 << 18
# Multipliers that mix two 8-byte windows into one 64-bit value (its high half is the shingle hash).
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
# Odd 64-bit multipliers that mix a band's slots into one key (sums wrap around, mod 2**64).
_BAND_MIX = np.random.default_rng(20261130).integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)
# Kept signatures per block (1 MiB of uint32 slots).
_BLOCK = 4096
_HALF = 1 << 64


@dataclass
class DedupCounts:
    seen: int = 0
    exact: int = 0
    near: int = 0

    @property
    def kept(self) -> int:
        return self.seen - self.exact - self.near

    @property
    def near_duplicate_rate(self) -> float:
        """Share of the conversations seen that were dropped as exact or near duplicates."""
        return (self.exact + self.near) / self.seen if self.seen else 0.0

    def as_dict(self) -> dict:
        return {"seen": self.seen, "kept": self.kept, "exact_duplicates": self.exact, "near_duplicates": self.near}


def _folded(text: str, encoded: bytes | None = None) -> bytes:
    """The text case folded, as UTF-8 (`encoded`: the text's UTF-8 when the caller has it already).
    An ASCII text is folded on its bytes (bytes.lower: the same result as str.casefold for ASCII, in a
    third of the time); any other text by str.casefold."""
    if text.isascii():
        return (text.encode() if encoded is None else encoded).lower()
    return text.casefold().encode()


def signatures(texts: Sequence[str]) -> list[np.ndarray | None]:
    """The MinHash signature (NUM_PERM uint32 slots) of each text's shingles: the 16 bytes (UTF-8,
    case folded) from the start of each word (the text's first byte and every byte after a white-space
    byte, ASCII <= 32), about two to three words each. None for a text with no word."""
    return _signatures_of([_folded(text) for text in texts])


def _signatures_of(datas: list[bytes]) -> list[np.ndarray | None]:
    """`signatures` of texts already case folded and encoded (`_folded`)."""
    result: list[np.ndarray | None] = [None] * len(datas)
    batch: list[int] = []
    size = 0
    for n, data in enumerate(datas):
        if not data.strip():
            continue
        batch.append(n)
        size += len(data)
        if size >= _BATCH_BYTES:
            _signatures_into(result, [datas[n] for n in batch], batch)
            batch, size = [], 0
    if batch:
        _signatures_into(result, [datas[n] for n in batch], batch)
    return result


def _signatures_into(result: list[np.ndarray | None], datas: list[bytes], positions: list[int]) -> None:
    lengths = np.array([len(data) for data in datas], dtype=np.int64)
    # One buffer: a space, then each text followed by 15 bytes 0xFF and a space. A shingle read from
    # a word near a text's end reads 0xFF (never in UTF-8), never the next text; the space before
    # each text makes its first byte a word start like any other.
    buffer = np.frombuffer(b" " + b"".join(data + _PAD for data in datas), dtype=np.uint8)
    offsets = np.concatenate(([1], 1 + np.cumsum(lengths + len(_PAD))[:-1]))
    starts = np.flatnonzero(buffer[:-1] <= 32) + 1
    # A white-space byte at a text's end points into its padding: not a word.
    starts = starts[buffer[starts] != 0xFF]
    windows = np.ndarray((len(buffer) - 7,), dtype="<u8", buffer=buffer, strides=(1,))
    # In place, one temporary at a time: the shingles are most of the memory an export touches.
    mixed = windows.take(starts)
    mixed *= _K1
    starts += 8
    following = windows.take(starts)
    starts -= 8
    following *= _K2
    mixed ^= following
    del following
    hashes = mixed.view("<u4")[1::2].astype(np.uint32)  # each high half: the second 4 bytes of "<u8"
    counts = np.diff(np.append(np.searchsorted(starts, offsets), len(starts)))
    slots = np.repeat(np.arange(len(datas)) * NUM_PERM, counts) + (hashes >> _SLOT_SHIFT)
    table = np.full(len(datas) * NUM_PERM, _EMPTY, dtype=np.uint32)
    np.minimum.at(table, slots, hashes)
    filled = np.bincount(slots, minlength=len(table)).reshape(len(datas), NUM_PERM) > 0
    table = table.reshape(len(datas), NUM_PERM)
    sparse = np.flatnonzero(~filled.all(axis=1))
    if len(sparse):
        # Densification by rotation: an empty slot takes the next non-empty slot's value (circularly),
        # for every row at once. Over the slots written twice (0..127, slot k + 64 being slot k), the
        # next non-empty slot at or after each one is a running minimum from the right of the
        # non-empty slots' numbers (2 * NUM_PERM where empty).
        twice = np.tile(filled[sparse], 2)
        numbers = np.where(twice, np.arange(2 * NUM_PERM), 2 * NUM_PERM)
        following = np.minimum.accumulate(numbers[:, ::-1], axis=1)[:, ::-1][:, :NUM_PERM] % NUM_PERM
        table[sparse] = np.take_along_axis(table[sparse], following, axis=1)
    for row, n in enumerate(positions):
        result[n] = table[row]


@dataclass
class Deduplicator:
    """Says for each text whether it repeats an earlier one: "exact", "near" or None (kept).

    Memory per conversation kept: its signature (256 bytes, in blocks of `_BLOCK` rows: no copy when
    they grow), its digest (16 bytes) and its five band keys (12 bytes each) in KeyIndex arrays: about
    330 bytes. With a set of digests, a dict per band and a signature array grown by doubling it was
    about 900 bytes (tracemalloc at 20,000 conversations), and a chat export of 200,000 conversations
    peaked at 398 MB (bench/export.py).
    """

    mode: str = "near"
    threshold: float = 0.8
    counts: DedupCounts = field(default_factory=DedupCounts)

    def __post_init__(self) -> None:
        # The texts' XXH3-128 digests: the low 64 bits the key, the high 64 bits the value.
        self._exact = KeyIndex(np.uint64)
        # The kept signatures, `_BLOCK` rows per block; `_kept` rows are in use.
        self._blocks: list[np.ndarray] = []
        self._kept = 0
        self._bands, self._rows = lsh_bands(self.threshold, NUM_PERM)
        # Per band: key -> the kept rows whose band has that key.
        self._buckets = [KeyIndex(np.int32) for _ in range(self._bands)]
        self._needed = self.threshold * NUM_PERM

    def _exact_many(self, texts: Sequence[str], verdicts: list[str | None]) -> tuple[list[int], list[bytes]]:
        """Mark the exact repeats among the texts in `verdicts` and remember the others; the others'
        positions, and their texts case folded (for their signatures) when the mode is near."""
        fresh: list[int] = []
        folded: list[bytes] = []
        encoded = [text.encode() for text in texts]
        # (high, low) 64-bit halves of each digest; a conversation with no message (failed at once)
        # repeats nothing: it is data about failures.
        halves = [divmod(xxh3_128_intdigest(data), _HALF) if data else None for data in encoded]
        lows = np.fromiter((half[1] if half else 0 for half in halves), dtype=np.uint64, count=len(halves))
        settled = set(self._exact.settled_many(lows))
        recent, near = self._exact.recent, self.mode == "near"
        for n, half in enumerate(halves):
            if half is None:
                continue
            high, low = half
            found = recent.get(low)
            repeated = found is not None and (found == high if type(found) is int else high in found)
            if not repeated and n in settled:
                repeated = high in self._exact.settled_values(low)
            if repeated:
                self.counts.exact += 1
                verdicts[n] = "exact"
                continue
            self._exact.add(low, high)
            fresh.append(n)
            if near:
                folded.append(_folded(texts[n], encoded[n]))
        self._exact.settle()
        return fresh, folded

    def _signature(self, row: int) -> np.ndarray:
        return self._blocks[row // _BLOCK][row % _BLOCK]

    def _keep(self, signature: np.ndarray) -> int:
        row = self._kept
        if row % _BLOCK == 0:
            self._blocks.append(np.empty((_BLOCK, NUM_PERM), dtype=np.uint32))
        self._blocks[-1][row % _BLOCK] = signature
        self._kept += 1
        return row

    def check_many(self, texts: Sequence[str]) -> list[str | None]:
        """For each text in turn, whether it repeats an earlier one (of this call or an earlier call):
        "exact", "near" or None (kept, and remembered). The signatures of all of them are computed at once."""
        verdicts: list[str | None] = [None] * len(texts)
        self.counts.seen += len(texts)
        if self.mode == "none":
            return verdicts
        fresh, folded = self._exact_many(texts, verdicts)
        if self.mode != "near" or not fresh:
            return verdicts
        bands, rows = self._bands, self._rows
        fresh_signatures = _signatures_of(folded)
        computed = [n for n, signature in zip(fresh, fresh_signatures, strict=True) if signature is not None]
        if not computed:
            return verdicts
        table = np.stack([signature for signature in fresh_signatures if signature is not None])
        # Each band's slots mixed into one 64-bit key, for all texts at once (a collision only adds
        # a candidate, and every candidate is checked).
        keys_array = (
            table[:, : bands * rows].reshape(len(computed), bands, rows).astype(np.uint64) * _BAND_MIX[:rows]
        ).sum(axis=2, dtype=np.uint64)
        # Where each band's key sits among the settled keys (kept before this call's last settle).
        settled = [set(bucket.settled_many(keys_array[:, band])) for band, bucket in enumerate(self._buckets)]
        settled_hits = set().union(*settled)
        recents = [bucket.recent for bucket in self._buckets]
        needed = self._needed
        for position, n, keys in zip(range(len(computed)), computed, keys_array.tolist(), strict=True):
            hits = [recent.get(key) for recent, key in zip(recents, keys, strict=True)]
            candidates = set()
            if hits.count(None) < bands:  # some band met a conversation kept since the last settle
                candidates = {row for hit in hits if hit is not None for row in ((hit,) if type(hit) is int else hit)}
            if position in settled_hits:  # some band met a conversation kept before it
                for bucket, positions, key in zip(self._buckets, settled, keys, strict=True):
                    if position in positions:
                        candidates.update(bucket.settled_values(key))
            if candidates:
                signature = table[position]
                if any(np.count_nonzero(self._signature(row) == signature) >= needed for row in sorted(candidates)):
                    self.counts.near += 1
                    verdicts[n] = "near"
                    continue
            row = self._keep(table[position])
            for recent, key, hit in zip(recents, keys, hits, strict=True):
                if hit is None:
                    recent[key] = row
                elif type(hit) is int:
                    recent[key] = [hit, row]
                else:
                    hit.append(row)
        for bucket in self._buckets:
            bucket.settle()
        return verdicts
