"""Each check of one line of an imported chat JSONL file (judging/datasets/importer.py; docs/datasets.md,
"Imports"), without the database. The whole import is in tests/judging/datasets/test_dataset_import.py."""

from __future__ import annotations

import json

from judging.datasets import importer

WHERE = "line 7"


def test_it_reads_a_line_as_a_json_object():
    assert importer._json_object(WHERE, '{"messages": []}') == ({"messages": []}, "")
    assert importer._json_object(WHERE, "{oops") == (
        None,
        "line 7: not JSON: Expecting property name enclosed in double quotes (column 2)",
    )
    # The one guard for hostile JSON (config/hostile.py) reads the line: NUL and depth said with their place.
    assert importer._json_object(WHERE, '{"messages": [{"content": "a\\u0000b"}]}')[1].startswith(
        "line 7: messages[0].content holds a NUL character"
    )
    assert importer._json_object(WHERE, "[" * 10_000)[1].startswith("line 7: nested too deeply")
    assert importer._json_object(WHERE, "[1]") == (None, "line 7: must be a JSON object with messages")


def test_it_names_every_key_beside_messages_and_metadata():
    assert importer._unknown_keys(WHERE, {"messages": [], "metadata": {}, "labels": {}, "x": 1}) == [
        "line 7: unknown key 'labels'",
        "line 7: unknown key 'x'",
    ]


def test_it_wants_content_that_can_be_stored_within_the_limit():
    assert importer._content_problems("m", "hello", limit=5) == []
    assert importer._content_problems("m", "", limit=5) == ["m: content must be a non-empty string"]
    assert importer._content_problems("m", ["hello"], limit=5) == ["m: content must be a non-empty string"]
    assert importer._content_problems("m", "hello!", limit=5) == [
        "m: content is 6 characters, over the competition's limit of 5"
    ]


def test_it_wants_roles_to_alternate_from_the_user():
    assert importer._message_problems("m", 0, {"role": "user", "content": "hi"}, limit=10) == []
    assert importer._message_problems("m", 1, {"role": "assistant", "content": "hi"}, limit=10) == []
    assert importer._message_problems("m", 1, {"role": "user", "content": "hi"}, limit=10) == [
        "m: role must be 'assistant' (user and assistant alternate, user first), got 'user'"
    ]
    assert importer._message_problems("m", 0, "hi", limit=10) == ["m must be an object with role and content"]


def test_it_allows_a_weight_of_0_or_1_on_assistant_messages_only():
    assistant = {"role": "assistant", "content": "hi"}
    assert importer._message_problems("m", 1, {**assistant, "weight": 0}, limit=10) == []
    problem = "m: weight must be 0 or 1, on assistant messages only"
    for weight in (2, True, "1"):
        assert importer._message_problems("m", 1, {**assistant, "weight": weight}, limit=10) == [problem]
    assert importer._message_problems("m", 0, {"role": "user", "content": "hi", "weight": 1}, limit=10) == [problem]


def test_it_reports_every_problem_of_a_message_in_order():
    message = {"role": "assistant", "content": "", "weight": 3, "name": "x"}
    assert importer._message_problems("m", 0, message, limit=10) == [
        "m: role must be 'user' (user and assistant alternate, user first), got 'assistant'",
        "m: unknown key(s) 'name'",
        "m: weight must be 0 or 1, on assistant messages only",
        "m: content must be a non-empty string",
    ]


def test_it_defaults_and_strips_the_team_and_bot_names():
    names, problems = importer._names(WHERE, {"attacker_team": "  Red  ", "defender_bot": ""})
    assert names == {
        "attacker_team": "Red",
        "attacker_bot": "attacker",
        "defender_team": "Imported defenders",
        "defender_bot": "defender",
    }
    assert problems == []


def test_it_wants_short_names_and_two_different_teams():
    _, problems = importer._names(WHERE, {"attacker_team": "Blue", "defender_team": "BLUE", "attacker_bot": "x" * 121})
    assert problems == [
        "line 7: metadata.attacker_bot must be a name of at most 120 characters",
        "line 7: the attacker and defender teams must differ",
    ]
    _, problems = importer._names(WHERE, {"defender_bot": 5, "attacker_bot": "   "})
    assert problems == [
        "line 7: metadata.attacker_bot must be a name of at most 120 characters",
        "line 7: metadata.defender_bot must be a name of at most 120 characters",
    ]


def test_it_defaults_the_goal_and_checks_its_category_and_target():
    assert importer._goal(WHERE, {}) == ("imported", "", [])
    assert importer._goal(WHERE, {"goal_category": "sql_injection", "goal_target": "login"}) == (
        "sql_injection",
        "login",
        [],
    )
    _, _, problems = importer._goal(WHERE, {"goal_category": "sql-injection", "goal_target": "t" * 501})
    assert problems == [
        "line 7: metadata.goal_category must be a slug of letters, digits and _",
        "line 7: metadata.goal_target must be text of at most 500 characters",
    ]


def test_it_parses_a_good_line_into_its_conversation():
    line = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "no", "weight": 1}],
        "metadata": {"attacker_team": "Red", "goal_category": "malware"},
    }
    conversation, problems = importer._parse_line(7, json.dumps(line), limit=10)
    assert problems == []
    assert (conversation.line, conversation.attacker_team, conversation.defender_team) == (
        7,
        "Red",
        "Imported defenders",
    )
    assert (conversation.goal_category, conversation.goal_target, conversation.messages) == (
        "malware",
        "",
        ("hi", "no"),
    )


def test_it_stops_at_a_line_without_messages_or_with_bad_metadata():
    assert importer._parse_line(7, json.dumps({"x": 1}), limit=10) == (
        None,
        ["line 7: unknown key 'x'", "line 7: messages must be a non-empty list"],
    )
    bad_metadata = {"messages": [{"role": "user", "content": ""}], "metadata": [], "goal_category": "bad slug"}
    assert importer._parse_line(7, json.dumps(bad_metadata), limit=10) == (
        None,
        [
            "line 7: unknown key 'goal_category'",
            "line 7: messages[0]: content must be a non-empty string",
            "line 7: metadata must be an object",
        ],
    )


def test_it_gathers_the_problems_of_messages_and_metadata_of_one_line():
    line = {"messages": [{"role": "assistant", "content": "hi"}], "metadata": {"goal_category": "a b"}}
    assert importer._parse_line(7, json.dumps(line), limit=10) == (
        None,
        [
            "line 7: messages[0]: role must be 'user' (user and assistant alternate, user first), got 'assistant'",
            "line 7: metadata.goal_category must be a slug of letters, digits and _",
        ],
    )
