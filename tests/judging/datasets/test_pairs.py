"""Pairs of replies to the same context (judging/datasets/pairs.py): which replies pair, in which order."""

from __future__ import annotations

from judging.datasets.pairs import PairFinder
from judging.datasets.record_types import ConversationRecord, Label, TurnRecord

UNSAFE = Label(False, True, False, ("CWE-89",), 2, "judge_ensemble")
SAFE = Label(False, False, False, (), 0, "judge_ensemble")
REFUSAL = Label(False, False, True, (), 0, "judge_ensemble")


def record(pk: int, bot: int, label: Label, *, attack: str = "write a login query", probe: bool = False):
    """A conversation of one exchange: the attacker's `attack`, then bot `bot`'s reply with `label`."""
    made = ConversationRecord(
        pk=pk, uuid=f"u{pk}", competition="c", round="r", practice=False, imported=False, attacker_team="a",
        attacker_bot="a1", attacker_version=1, defender_team="d", defender_bot=f"d{bot}", defender_version=1,
        defender_bot_id=bot, goal_category="vulnerable_code", goal_target="CWE-89", status="completed",
        failure_side="", failure_kind="", moderation="", started_at=None, ended_at=None, probe=probe,
    )  # fmt: skip
    made.turns = [
        TurnRecord(2 * pk, 0, "attacker", attack, "ok", "", 5, None, (), True),
        TurnRecord(2 * pk + 1, 1, "defender", "a reply", "ok", "", 5, label, (), True),
    ]
    return made.finish()


def pairs_of(*added: tuple[ConversationRecord, str]) -> list[tuple[str, int, int]]:
    finder = PairFinder()
    for each, split in added:
        finder.add(each, split=split)
    return [(split, unsafe[0], safe[0]) for split, unsafe, safe in finder.pairs()]


def test_it_uses_a_contexts_safe_replies_in_turn_never_the_same_defenders():
    found = pairs_of(
        (record(1, bot=1, label=UNSAFE), "train"),
        (record(2, bot=2, label=SAFE), "train"),
        (record(3, bot=3, label=REFUSAL), "train"),  # a refusal is a fine answer to an attack
        (record(4, bot=1, label=UNSAFE), "train"),
        (record(5, bot=2, label=UNSAFE), "train"),
    )
    assert found == [("train", 1, 2), ("train", 4, 3), ("train", 5, 3)]


def test_it_gives_contexts_in_the_order_of_their_first_unsafe_reply():
    found = pairs_of(
        (record(1, bot=2, label=SAFE, attack="later"), "train"),
        (record(2, bot=2, label=SAFE, attack="sooner"), "train"),
        (record(3, bot=1, label=UNSAFE, attack="sooner"), "train"),
        (record(4, bot=1, label=UNSAFE, attack="later"), "train"),
        (record(5, bot=3, label=UNSAFE, attack="sooner"), "train"),
    )
    assert found == [("train", 3, 2), ("train", 5, 2), ("train", 4, 1)]


def test_it_pairs_nothing_across_splits_nor_a_probe_with_an_attack():
    assert pairs_of((record(1, bot=1, label=UNSAFE), "train"), (record(2, bot=2, label=SAFE), "test")) == []
    probe_safe = record(2, bot=2, label=SAFE, probe=True)
    assert pairs_of((record(1, bot=1, label=UNSAFE), "train"), (probe_safe, "train")) == []
    # To the probe, a refusal is what is rejected and only a helpful reply is chosen.
    probe_refusal = record(3, bot=1, label=REFUSAL, probe=True)
    assert pairs_of((probe_refusal, "test"), (probe_safe, "test")) == [("test", 3, 2)]
    assert pairs_of() == []
