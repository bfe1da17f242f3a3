"""The words of many texts at once, as 64-bit hashes, and their n-grams as 64-bit keys.

Diversity (diversity.py) and near-duplicates (nearduplicates.py) both work on the words of a round's
attacker texts; they are read once here, in one regex pass over all the texts joined.

A word's hash depends on the word alone (BLAKE2b of its UTF-8 bytes), and an n-gram's key on its words
alone (their hashes mixed by position), so a text's shingles and their MinHash signature do not depend
on which other texts a round holds: excluding one conversation changes nobody else's near-duplicates.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WORD_PATTERN = r"(?u)\w+"  # runs of word characters (letters, digits, underscore in any script)

# Odd 64-bit multipliers that mix word hashes into one n-gram key (wrapping arithmetic); keys of
# different lengths also differ by a marker, so a bigram never meets a trigram.
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))
_MARK = {1: np.uint64(0x27D4EB2F165667C5), 2: np.uint64(0x85EBCA77C2B2AE63), 3: np.uint64(0x94D049BB133111EB)}
_BREAK = "\x00"  # never inside a word, and the database stores no NUL in a turn
_WORD_OR_BREAK = re.compile(WORD_PATTERN + "|\x00")
# Marks the one shingle of a text without words (emoji, punctuation, nothing): the hash of the whole
# text, so equal texts share it and different ones do not.
_WORDLESS = "\x01wordless\x01"


@dataclass(frozen=True)
class Words:
    """Every text's words, flattened: word k of the texts is hashes[k] (its hash) and index[k] (its
    number in this batch's vocabulary), in text doc[k] (doc ascending)."""

    hashes: np.ndarray  # uint64
    index: np.ndarray  # int64, in [0, vocabulary)
    doc: np.ndarray  # int64
    count: int  # texts
    vocabulary: int  # distinct words

    def lengths(self) -> np.ndarray:
        """Words per text."""
        return np.bincount(self.doc, minlength=self.count)

    def ngrams(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(text index, key) of every run of n consecutive words inside one text, in text order."""
        if len(self.hashes) < n:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64)
        last = len(self.hashes) - n + 1
        inside = self.doc[:last] == self.doc[n - 1 :]
        keys = np.full(last, _MARK[n], dtype=np.uint64)
        with np.errstate(over="ignore"):  # wrapping multiplication is the mixing
            for offset in range(n):
                keys = keys + self.hashes[offset : offset + last] * _MIX[offset]
        return self.doc[:last][inside], keys[inside]


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class Vocabulary:
    """Words numbered in order of first appearance over every batch of texts read with it (words_read),
    with each word's hash: batches read one after the other get the numbers all their texts read at
    once would have got."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.hashes = np.empty(0, dtype=np.uint64)
        self.texts = 0  # texts read so far

    def __len__(self) -> int:
        return len(self.numbers)

    def indices(self, flat: list[str]) -> np.ndarray:
        """The number of each word of `flat`, numbering the words not seen before in order."""
        numbers = self.numbers
        new = [word for word in dict.fromkeys(flat) if word not in numbers]
        numbers.update(zip(new, range(len(numbers), len(numbers) + len(new)), strict=True))
        fresh = np.fromiter(map(_word_hash, new), dtype=np.uint64, count=len(new))
        self.hashes = np.concatenate([self.hashes, fresh])
        return np.fromiter(map(numbers.__getitem__, flat), dtype=np.int64, count=len(flat))


def words_read(texts: Sequence[str], vocabulary: Vocabulary | None = None) -> Words:
    """Lower-cased words (WORD_PATTERN) of every text. One regex pass over all the texts joined by a
    separator the pattern also matches, so the texts' boundaries come out with the words; each distinct
    word is hashed once.

    With a `vocabulary` shared by several calls, the words are numbered as if every batch's texts had
    been read in one call, in the order of the calls (Words.vocabulary is then the size of the
    vocabulary so far); `doc` still counts from 0 in each batch.
    """
    vocabulary = Vocabulary() if vocabulary is None else vocabulary
    # After an earlier batch a separator comes first, as it would between that batch's last text and
    # this one's first: the separator's number is then the one reading every text at once gives it.
    lead = 1 if vocabulary.texts else 0
    flat = _WORD_OR_BREAK.findall((_BREAK * lead + _BREAK.join(texts)).lower())
    vocabulary.texts += len(texts)
    index = vocabulary.indices(flat)
    break_index = vocabulary.numbers.get(_BREAK, -1)
    breaks = index == break_index
    doc = np.cumsum(breaks) - lead
    kept = index[~breaks]
    return Words(
        hashes=vocabulary.hashes[kept], index=kept, doc=doc[~breaks], count=len(texts), vocabulary=len(vocabulary)
    )


def shingles(words: Words, size: int, *, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(text index, key) of every shingle (`size` consecutive words) of every text, ordered by text.

    ``texts`` are the texts ``words`` was read from. A text of fewer than `size` words is its own one
    shingle (all its words), so equal short texts are duplicates and different ones are not. A text
    without any word (only emoji or punctuation, or empty) is its own one shingle too: a hash of its
    whole lower-cased text, so such texts are near-duplicates only when they are equal (they used to
    share one key, which made every word-less attack one cluster).
    """
    docs, keys = words.ngrams(size)
    lengths = words.lengths()
    short = np.flatnonzero(lengths < size)
    if not len(short):
        return docs, keys
    parts_docs, parts_keys = [docs], [keys]
    for n in range(1, size):
        n_docs, n_keys = words.ngrams(n)
        wanted = lengths[n_docs] == n
        parts_docs.append(n_docs[wanted])
        parts_keys.append(n_keys[wanted])
    wordless = np.flatnonzero(lengths == 0)
    parts_docs.append(wordless)
    parts_keys.append(
        np.fromiter(
            (_word_hash(_WORDLESS + texts[i].lower()) for i in wordless.tolist()), dtype=np.uint64, count=len(wordless)
        )
    )
    docs, keys = np.concatenate(parts_docs), np.concatenate(parts_keys)
    order = np.argsort(docs, kind="stable")
    return docs[order], keys[order]
