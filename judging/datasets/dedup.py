"""Duplicate removal by conversation: exact (identical text) and near (MinHash, datasketch).

Conversations are seen in a fixed order (primary key); the first of a group of duplicates is kept
and the later ones are dropped and counted. The text compared is the conversation's messages that
arrived, speaker by speaker. Near duplicates are found with MinHash signatures over word 3-shingles
(128 permutations, CRC-32 hashing) and an LSH index at the given Jaccard threshold, in memory
proportional to the conversations kept (about 1 KB each), not to their text.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, field

from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
SHINGLE = 3
_WORD = re.compile(r"\w+")


def _crc32(data: bytes) -> int:
    return zlib.crc32(data)


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
        return (self.exact + self.near) / self.seen if self.seen else 0.0

    def as_dict(self) -> dict:
        return {"seen": self.seen, "kept": self.kept, "exact_duplicates": self.exact, "near_duplicates": self.near}


@dataclass
class Deduplicator:
    """Says for each text whether it repeats an earlier one: "exact", "near" or None (kept)."""

    mode: str = "near"
    threshold: float = 0.8
    counts: DedupCounts = field(default_factory=DedupCounts)

    def __post_init__(self) -> None:
        self._exact: set[bytes] = set()
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM) if self.mode == "near" else None
        self._seed_minhash = MinHash(num_perm=NUM_PERM, hashfunc=_crc32) if self.mode == "near" else None

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
        if self._lsh is None:
            return None
        signature = self._signature(text)
        if signature is None:
            return None
        if self._lsh.query(signature):
            self.counts.near += 1
            return "near"
        self._lsh.insert(key, signature, check_duplication=False)
        return None

    def _signature(self, text: str) -> MinHash | None:
        words = _WORD.findall(text.lower())
        if not words:
            return None
        shingles = {
            " ".join(words[start : start + SHINGLE]).encode() for start in range(max(1, len(words) - SHINGLE + 1))
        }
        signature = self._seed_minhash.copy()
        signature.update_batch(list(shingles))
        return signature
