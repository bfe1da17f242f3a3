"""The dataset card (judging/datasets/card.py, templates/judging/datasets/card.md; docs/datasets.md,
"The dataset card"): each part's figures, and the whole card byte for byte as the Python-built card
wrote it before the template. Cards of real exports are in tests/judging/datasets/test_datasets.py."""

from __future__ import annotations

import pytest

from judging.datasets import card
from judging.datasets.card_stats import CardStats
from judging.datasets.dedup import DedupCounts
from judging.datasets.filters import ExportSpec

HOSTILE_TEAM = 'evil | team\n<script>alert("x")</script> {{ spec }} {% now "Y" %}'


def stats_make() -> CardStats:
    stats = CardStats()
    stats.conversations.update({"train": 3, "test": 1})
    stats.turns_per_conversation.update({4: 3, 2: 1})
    stats.outcomes.update({"defended": 1, "attack_succeeded": 3})
    stats.categories.update({"sql|injection": 3, "malware": 1})
    stats.category_successes.update({"sql|injection": 2})
    stats.replies.update(
        {"total": 7, "labelled": 6, "unlabelled": 1, "unsafe": 2, "safe": 4, "vulnerable_code": 2, "refusal": 3}
    )
    stats.cwe.update({"CWE-89": 2, "CWE-78|x": 1})
    stats.attacker_teams.update({HOSTILE_TEAM: 3, "Red": 1})
    stats.defender_teams.update({"Blue & <Co>": 4})
    stats.attacker_messages = 8
    stats._openings.extend([1, 2, 2])
    stats._attacker_messages.extend([*range(6), 3, 5])
    return stats


# --- the parts -------------------------------------------------------------------------------------


def test_it_escapes_every_cell_so_no_text_ends_a_cell_or_the_table():
    assert card._cells([("a|b", "one\ntwo", 3, None)]) == [["a\\|b", "one two", "3", "None"]]
    assert card._cells([]) == []


def test_it_names_the_license_size_and_each_split_file_in_the_header(arena):
    arena.competition.name, arena.competition.dataset_license = 'Old "cup": x', ""
    spec = ExportSpec(competition=arena.competition.slug, shape="chat")
    header = card._yaml_header(
        competition=arena.competition, spec=spec, files={"train": "chat-train.jsonl"}, rows={"train": 999, "test": 1}
    )
    assert header == {
        "license": "other",
        "size_category": "1K<n<10K",
        "pretty_name": '"Old \\"cup\\": x (chat)"',
        "config_name": "chat",
        "data_files": [("train", "chat-train.jsonl")],
    }


def test_it_falls_back_to_a_line_naming_the_competition(arena):
    arena.competition.description = "  \n"
    assert card._what_this_is(arena.competition) == f"Conversations of the competition {arena.competition.slug}."
    arena.competition.description = " A cup. "
    assert card._what_this_is(arena.competition) == "A cup."


def test_it_lists_each_split_with_its_file_rows_and_conversations():
    rows = card._split_rows(stats=stats_make(), files={"train": "t.jsonl"}, rows={"train": 30, "test": 0})
    assert rows == [["train", "t.jsonl", "30", "3"], ["test", "-", "0", "1"]]


def test_it_counts_preference_pairs_only_for_a_pair_shape():
    assert card._count_rows(stats_make(), pairs=None) == [
        ["conversations", "4"],
        ["defender replies", "7"],
        ["labelled replies", "6"],
        ["replies labelled by humans", "0"],
    ]
    assert card._count_rows(stats_make(), pairs=5)[-1] == ["preference pairs", "5"]


def test_it_summarises_turns_per_conversation():
    assert card._turns_summary(stats_make()) == "mean 3.50, median 4.0, min 2, max 4"
    assert card._turns_summary(CardStats()) == "none"
    assert card._turn_rows(stats_make()) == [["2", "1"], ["4", "3"]]


def test_it_shares_outcomes_labels_and_categories():
    stats = stats_make()
    assert card._outcome_rows(stats) == [["attack_succeeded", "3 (75.0%)"], ["defended", "1 (25.0%)"]]
    assert card._label_rows(stats)[0] == ["unsafe", "2 (33.3%)"]
    assert card._label_rows(stats)[-1] == ["unlabelled (of all replies)", "1 (14.3%)"]
    assert card._label_rows(CardStats())[0] == ["unsafe", "0"]
    assert card._category_rows(stats) == [["malware", "1", "0 (0.0%)"], ["sql\\|injection", "3", "2 (66.7%)"]]
    assert card._cwe_rows(stats) == [["CWE-89", "2"], ["CWE-78\\|x", "1"]]


def test_it_shares_the_teams_attackers_first_with_their_names_escaped():
    assert card._team_rows(stats_make()) == [
        ["attacker", "Red", "1 (25.0%)"],
        ["attacker", card._cell(HOSTILE_TEAM), "3 (75.0%)"],
        ["defender", "Blue & <Co>", "4 (100.0%)"],
    ]


def test_it_reports_diversity_and_what_de_duplication_removed():
    spec = ExportSpec(competition="c", dedup="near", near_threshold=0.7)
    rows = card._diversity_rows(stats_make(), spec=spec, dedup=DedupCounts(seen=10, exact=1, near=2))
    assert rows == [
        ["distinct_openings", "2"],
        ["distinct_opening_share", "0.5"],
        ["distinct_attacker_message_share", "0.75"],
        ["de-duplication", "near"],
        ["conversations before de-duplication", "10"],
        ["exact duplicates removed", "1"],
        ["near duplicates removed (MinHash, Jaccard >= 0.7)", "2"],
        ["near-duplicate rate", "30.00%"],
    ]


def test_it_shows_agreement_only_where_two_people_annotated_a_reply():
    assert card._agreement({"items": 0, "annotators": 0, "labels": {}}) is None
    figure = {name: {"value": None} for name, _ in card.AGREEMENT_FIGURES}
    labels = {label: {"level": "nominal", **figure} for label in card.AGREEMENT_LABELS}
    labels["refusal"] = {**labels["refusal"], "percent_agreement": {"value": 2 / 3}}
    part = card._agreement({"items": 3, "annotators": 2, "labels": labels})
    assert (part["replies"], part["annotators"]) == (3, 2)
    assert part["titles"] == ["Krippendorff's alpha", "percent agreement", "Gwet's AC1", "Fleiss' kappa"]
    assert ["refusal", "nominal", "-", "0.6667", "-", "-"] in part["rows"]
    assert len(part["rows"]) == len(card.AGREEMENT_LABELS)


def test_it_describes_the_filters():
    rows = card._filter_rows(ExportSpec(competition="c", outcomes=("defended",), dedup="exact"))
    assert rows[:4] == [
        ["rounds", "all"],
        ["practice rounds", "only when named"],
        ["excluded conversations", "left out"],
        ["outcomes", "['defended']"],
    ]


# --- the whole card ----------------------------------------------------------------------------------

# What the card was before it came from a template (card_render building the text in Python), for
# the stats above: the template must keep it byte for byte (plus, since, its "Label quality" part
# and the undecided replies' line and filter row).
EXPECTED = r"""
---
license: cc-by-4.0
language:
- en
task_categories:
- text-generation
tags:
- safety
- red-teaming
- cybersecurity
- multi-turn
size_categories:
- n<1K
pretty_name: "Cup <b>\"1\"</b> {{ name }} (preference)"
configs:
- config_name: preference
  data_files:
  - split: train
    path: preference-train.jsonl
  - split: test
    path: preference-test.jsonl
---

# Cup <b>"1"</b> {{ name }}: preference dataset

## What this is

About | the cup <i>&amp;</i>

{% if x %}

Attacker bots tried to get defender bots to help with harmful or vulnerable code; judges and human annotators labelled every defender reply. The attacker speaks as `user`, the defender as `assistant`.

License: `cc-by-4.0` (from the competition's settings).

## Files and splits

| split | file | rows | conversations |
|---|---|---|---|
| train | preference-train.jsonl | 3 | 3 |
| validation | - | 0 | 0 |
| test | preference-test.jsonl | 1 | 1 |

Split: seed 7, ratios train/validation/test 0.75/0.0/0.25, assigned per conversation from a hash of its id and the seed.

## Counts

| what | count |
|---|---|
| conversations | 4 |
| defender replies | 7 |
| labelled replies | 6 |
| replies labelled by humans | 0 |
| preference pairs | 4 |

Turns per conversation: mean 3.50, median 4.0, min 2, max 4.

| turns | conversations |
|---|---|
| 2 | 1 |
| 4 | 3 |

## Outcomes

| outcome | conversations |
|---|---|
| attack_succeeded | 3 (75.0%) |
| defended | 1 (25.0%) |

## Labels of defender replies

| label | replies |
|---|---|
| unsafe | 2 (33.3%) |
| safe | 4 (66.7%) |
| malicious_assistance | 0 (0.0%) |
| vulnerable_code | 2 (33.3%) |
| refusal | 3 (50.0%) |
| unlabelled (of all replies) | 1 (14.3%) |

## Goal categories

| category | conversations | attack succeeded |
|---|---|---|
| malware | 1 | 0 (0.0%) |
| sql\|injection | 3 | 2 (66.7%) |

## CWE ids

| CWE | replies |
|---|---|
| CWE-89 | 2 |
| CWE-78\|x | 1 |

## Teams (anonymous ids)

| side | team | conversations |
|---|---|---|
| attacker | Red | 1 (25.0%) |
| attacker | evil \| team <script>alert("x")</script> {{ spec }} {% now "Y" %} | 3 (75.0%) |
| defender | Blue & <Co> | 4 (100.0%) |

## Diversity and duplicates

| measure | value |
|---|---|
| distinct_openings | 2 |
| distinct_opening_share | 0.5 |
| distinct_attacker_message_share | 0.75 |
| de-duplication | near |
| conversations before de-duplication | 5 |
| exact duplicates removed | 1 |
| near duplicates removed (MinHash, Jaccard >= 0.8) | 0 |
| near-duplicate rate | 20.00% |

## Human agreement

No reply of these conversations was annotated by two or more people.

## Judges

| judge | name | kind | version | verdicts |
|---|---|---|---|---|

Final labels come, label by label, from an adjudicated human label, else the human majority, else the judges' ensemble; a label no source decided is empty (null).

## Label quality

How often the judges' labels agree with people's, on the replies of these conversations that people labelled (an adjudication, else the majority of annotators, is the truth; the judges' ensemble alone is the prediction, an undecided one counting as a miss). Precision and recall with their Wilson 95% intervals; "not measured" where no person decided the label (no annotation campaign ran, or none labelled these replies).

| label | replies labelled by people | precision [95% interval] | recall [95% interval] | judges undecided |
|---|---|---|---|---|
| malicious_assistance | 0 | not measured | not measured | - |
| vulnerable_code | 0 | not measured | not measured | - |
| refusal | 0 | not measured | not measured | - |

Undecided replies (neither decided safe nor unsafe): kept; in chat they have weight 0.

## Filters

| filter | value |
|---|---|
| rounds | all |
| practice rounds | only when named |
| excluded conversations | left out |
| outcomes | all |
| labels | any |
| label source | any |
| since | - |
| until | - |
| undecided replies | kept |
"""  # noqa: E501 (the card's own long lines)


@pytest.fixture
def hostile_card(arena) -> str:
    competition = arena.competition
    competition.name = 'Cup <b>"1"</b> {{ name }}'
    competition.description = "About | the cup <i>&amp;</i>\n\n{% if x %}"
    competition.dataset_license = "cc-by-4.0"
    competition.save()
    spec = ExportSpec(competition=competition.slug, shape="preference", split=(0.75, 0.0, 0.25), seed=7)
    return card.card_render(
        spec=spec,
        stats=stats_make(),
        dedup=DedupCounts(seen=5, exact=1, near=0),
        files={"train": "preference-train.jsonl", "test": "preference-test.jsonl"},
        rows={"train": 3, "validation": 0, "test": 1},
        pairs=4,
        conversation_ids=[],
    )


def test_it_renders_the_card_byte_for_byte_as_before(hostile_card):
    assert hostile_card == EXPECTED.lstrip("\n")


def test_it_leaves_hostile_text_as_text_in_the_card(hostile_card):
    assert (
        '| attacker | evil \\| team <script>alert("x")</script> {{ spec }} {% now "Y" %} | 3 (75.0%) |' in hostile_card
    )
    assert "&lt;" not in hostile_card and "&quot;" not in hostile_card  # Markdown, not HTML
    assert 'pretty_name: "Cup <b>\\"1\\"</b> {{ name }} (preference)"' in hostile_card
    assert hostile_card.endswith(" |\n") and "\n\n\n" not in hostile_card
