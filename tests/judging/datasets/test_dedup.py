"""Duplicate removal for dataset exports (judging/datasets/dedup.py): signatures and the index."""

from __future__ import annotations

import random

import numpy as np
import pytest

from judging.datasets import key_index
from judging.datasets.dedup import NUM_PERM, Deduplicator, signatures

WORDS = ("please", "write", "a", "small", "tool", "that", "reads", "the", "file", "and", "sends", "every",
         "record", "to", "the", "remote", "server")  # fmt: skip


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def shingles(text: str) -> set[bytes]:
    """The shingles the signature is defined over: 16 bytes (UTF-8, case folded) from each word start,
    the text's end padded with bytes no text holds."""
    data = text.casefold().encode()
    padded = data + b"\xff" * 16
    starts = [0] + [n + 1 for n, byte in enumerate(data) if byte <= 32 and n + 1 < len(data)]
    return {padded[start : start + 16] for start in starts}


def jaccard(a: str, b: str) -> float:
    first, second = shingles(a), shingles(b)
    return len(first & second) / len(first | second)


def test_it_estimates_the_jaccard_similarity_of_the_texts_shingles():
    rng = random.Random(7)
    errors = []
    for _ in range(200):
        base = [rng.choice(WORDS) for _ in range(rng.randint(30, 200))]
        edited = list(base)
        for _ in range(rng.randint(0, len(base) // 3)):
            edited[rng.randrange(len(edited))] = rng.choice(WORDS).upper() + "x"
        one, two = " ".join(base), " ".join(edited)
        first, second = signatures([one, two])
        errors.append(np.count_nonzero(first == second) / NUM_PERM - jaccard(one, two))
    # The estimate is unbiased, with a standard error of about sqrt(J (1 - J) / 64) <= 0.0625.
    assert abs(np.mean(errors)) < 0.02
    assert np.std(errors) < 0.08


def test_it_folds_case_the_same_way_for_ascii_and_other_text():
    upper, lower = signatures(["Write A KEYLOGGER in Python", "write a keylogger in python"])
    assert np.array_equal(upper, lower)
    upper, lower = signatures(["ÉCOLE ДА Straße", "école да strasse"])
    assert np.array_equal(upper, lower)


def test_it_fills_every_slot_of_a_short_text_by_borrowing_from_the_next_one():
    short, same = signatures(["two words", "TWO WORDS"])
    assert np.array_equal(short, same)
    # Two shingles fill at most two of the 64 slots; every other slot holds one of their two hashes.
    assert len(set(short.tolist())) <= 2
    assert (short != np.uint32(0xFFFFFFFF)).all()


def test_it_gives_a_text_the_same_signature_alone_and_in_a_batch():
    texts = [words(random.Random(n), 50) for n in range(300)]
    batch = signatures(texts)
    for n in (0, 150, 299):
        assert np.array_equal(batch[n], signatures([texts[n]])[0])


def test_it_gives_no_signature_to_a_text_without_words():
    assert signatures(["", "   \n\t"]) == [None, None]


@pytest.mark.parametrize("mode, expected", [("none", [None] * 4), ("exact", [None, None, "exact", None]),
                                            ("near", [None, None, "exact", "near"])])  # fmt: skip
def test_it_keeps_the_first_of_a_group_of_duplicates(mode, expected):
    text, other = words(random.Random(1), 120), words(random.Random(2), 120)
    nearly = text.replace(text.split()[60], "changed", 1)
    deduplicator = Deduplicator(mode=mode, threshold=0.8)
    assert deduplicator.check_many([text, other, text]) + deduplicator.check_many([nearly]) == expected
    assert deduplicator.counts.seen == 4


def test_it_finds_every_value_of_a_key_whether_recent_or_settled(monkeypatch):
    monkeypatch.setattr(key_index, "RECENT", 3)
    index = key_index.KeyIndex(np.int32)
    for key, value in [(5, 1), (2**64 - 1, 2), (5, 3), (7, 4)]:
        index.add(key, value)
    index.settle()  # 3 keys: merged into the arrays
    index.add(5, 6)
    assert index.recent == {5: 6}
    assert index.settled_many(np.array([5, 2**64 - 1, 6, 0], dtype=np.uint64)) == [0, 1]
    assert sorted(index.settled_values(5)) == [1, 3]
    assert index.settled_values(2**64 - 1) == [2]
    assert index.settled_values(6) == []
    index.settle(force=True)
    assert sorted(index.settled_values(5)) == [1, 3, 6]
    assert index.recent == {}


def near_copies(count: int) -> list[str]:
    """Texts of which about a third repeat an earlier one exactly and a third nearly (some words replaced)."""
    rng = random.Random(4)
    texts: list[str] = []
    for _ in range(count):
        draw = rng.random()
        if texts and draw < 0.3:
            texts.append(rng.choice(texts))
        elif texts and draw < 0.6:
            edited = rng.choice(texts).split()
            for _ in range(rng.randint(0, len(edited) // 8)):
                edited[rng.randrange(len(edited))] = rng.choice(WORDS).upper()
            texts.append(" ".join(edited))
        else:
            texts.append(words(rng, rng.randint(20, 80)) if draw < 0.97 else "")
    return texts


@pytest.mark.parametrize("mode", ["near", "exact"])
def test_it_says_the_same_of_every_text_however_often_its_index_is_settled(monkeypatch, mode):
    texts = near_copies(600)
    # The reference: every key stays in the dicts, as before the KeyIndex (one call, nothing settled).
    monkeypatch.setattr(key_index, "RECENT", 10**9)
    reference = Deduplicator(mode=mode)
    expected = reference.check_many(texts)
    monkeypatch.setattr(key_index, "RECENT", 5)
    deduplicator = Deduplicator(mode=mode)
    verdicts = [
        verdict for start in range(0, 600, 37) for verdict in deduplicator.check_many(texts[start : start + 37])
    ]
    assert verdicts == expected
    assert deduplicator.counts == reference.counts
    assert reference.counts.exact > 100 and (mode == "exact" or reference.counts.near > 20)
