"""The train/validation/test split: deterministic per conversation, from a seed.

A conversation's split depends only on the seed and its public id (a SHA-256 of both read as a
number in [0, 1)), never on which other conversations are exported, so adding rounds or filters
never moves a conversation from train to test, and every run with the same seed agrees.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "validation", "test")


def split_of(conversation_id: str, *, ratios: tuple[float, float, float], seed: int) -> str:
    """The split of one conversation: train with probability ratios[0], validation ratios[1], test
    the rest."""
    digest = hashlib.sha256(f"{seed}:{conversation_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    edge = 0.0
    for name, ratio in zip(SPLITS, ratios, strict=True):
        edge += ratio
        if point < edge:
            return name
    # Ratios summing to 1 within rounding leave the last sliver to the last split with any share.
    return next(name for name, ratio in reversed(list(zip(SPLITS, ratios, strict=True))) if ratio > 0)
