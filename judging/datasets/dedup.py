"""Duplicate removal by conversation: exact (identical text) and near (MinHash with LSH banding).

Conversations are seen in a fixed order (primary key); the first of a group of duplicates is kept
and the later ones are dropped and counted. The text compared is the conversation's messages that
arrived, speaker by speaker.

Near duplicates: a MinHash signature of each text's shingles (the 16 bytes from the start of each
word, case folded: about two to three words; 64 affine permutations of 32-bit shingle hashes), LSH
banding with the bands and rows datasketch's MinHashLSH chooses for the threshold, and every
candidate checked: a conversation is a near duplicate when its estimated Jaccard similarity to a
kept one is at least the threshold. Signatures are computed with numpy alone: datasketch's MinHash
hashes shingle by shingle in Python, which made de-duplication the largest part of an export (about
0.9 ms per conversation against 0.05 ms here). Memory grows with the conversations kept (about 1 KB
each), not with their text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

NUM_PERM = 64
_RNG = np.random.default_rng(20261130)
# 32-bit arithmetic wraps around (mod 2**32); odd multipliers make each affine map a permutation.
_A = (_RNG.integers(1, 2**32, size=NUM_PERM, dtype=np.uint32) | np.uint32(1)).reshape(1, NUM_PERM)
_B = _RNG.integers(0, 2**32, size=NUM_PERM, dtype=np.uint32).reshape(1, NUM_PERM)
# Multipliers that mix two 8-byte windows into one 64-bit value (its high half is the shingle hash).
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)


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


def lsh_bands(threshold: float) -> tuple[int, int]:
    """(bands, rows) for NUM_PERM permutations at this Jaccard threshold, as datasketch chooses them
    (equal weights on false positives and false negatives)."""
    # Imported here: datasketch (with scipy) takes about half a second to import, which every
    # process that loads the admin would pay.
    from datasketch import MinHashLSH

    index = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return index.b, index.r


@dataclass
class Deduplicator:
    """Says for each text whether it repeats an earlier one: "exact", "near" or None (kept)."""

    mode: str = "near"
    threshold: float = 0.8
    counts: DedupCounts = field(default_factory=DedupCounts)

    def __post_init__(self) -> None:
        self._exact: set[bytes] = set()
        self._signatures: list[np.ndarray] = []
        self._bands, self._rows = lsh_bands(self.threshold)
        self._buckets: list[dict[bytes, list[int]]] = [{} for _ in range(self._bands)]

    def check(self, key: str, text: str) -> str | None:
        self.counts.seen += 1
        # A conversation with no message (failed at once) repeats nothing: it is data about failures.
        if self.mode == "none" or not text:
            return None
        digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
        if digest in self._exact:
            self.counts.exact += 1
            return "exact"
        self._exact.add(digest)
        if self.mode != "near":
            return None
        signature = self.signature(text)
        if signature is None:
            return None
        keys = [signature[band * self._rows : (band + 1) * self._rows].tobytes() for band in range(self._bands)]
        candidates = {kept for band, key in enumerate(keys) for kept in self._buckets[band].get(key, ())}
        for kept in sorted(candidates):
            if np.count_nonzero(self._signatures[kept] == signature) >= self.threshold * NUM_PERM:
                self.counts.near += 1
                return "near"
        position = len(self._signatures)
        self._signatures.append(signature)
        for band, key in enumerate(keys):
            self._buckets[band].setdefault(key, []).append(position)
        return None

    def signature(self, text: str) -> np.ndarray | None:
        """The MinHash signature of the text's shingles: the 16 bytes (UTF-8, case folded) from the
        start of each word, about two to three words each. Built with numpy alone: no Python loop
        over words or shingles."""
        data = text.casefold().encode()
        if not data.strip():
            return None
        padded = np.frombuffer(data + b" " * 16, dtype=np.uint8)
        # A word starts at the text's first byte and after every white-space byte (ASCII <= 32).
        starts = np.flatnonzero(padded[: len(data)] <= 32) + 1
        starts = np.concatenate(([0], starts[starts < len(data)]))
        windows = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
        mixed = windows[starts] * _K1 ^ windows[starts + 8] * _K2
        shingles = (mixed >> np.uint64(32)).astype(np.uint32).reshape(-1, 1)
        return (shingles * _A + _B).min(axis=0)
