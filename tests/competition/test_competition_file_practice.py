"""The competition file's practice section: loaded through practice's services, every key checked,
each problem at its place."""

from __future__ import annotations

import pytest

from competition.competition_file.load import competition_file_load
from competition.models import PracticeOpponent, PracticePolicy
from tests.competition.competition_files import good_data, problems_of, write

pytestmark = pytest.mark.django_db


def with_practice(practice: dict) -> dict:
    data = good_data()
    data["competition"]["practice"] = practice
    return data


def test_it_opens_the_named_bots_for_practice_with_the_cap(tmp_path):
    path = write(
        tmp_path,
        with_practice({"opponents": [{"team": "blue-team", "bot": "wall"}], "daily_conversations": 6, "max_turns": 2}),
    )
    competition_file_load(path=path)
    policy = PracticePolicy.objects.get()
    assert (policy.daily_conversations, policy.max_turns, policy.paused) == (6, 2, False)
    assert [(o.bot.team.slug, o.bot.name, o.reference) for o in PracticeOpponent.objects.all()] == [
        ("blue-team", "wall", True)
    ]


def test_it_leaves_practice_closed_without_the_section(tmp_path):
    competition_file_load(path=write(tmp_path, good_data()))
    assert not PracticePolicy.objects.exists()


def test_it_locates_every_problem_of_the_section(tmp_path):
    path = write(
        tmp_path,
        with_practice(
            {
                "opponents": [{"team": "blue-team", "bot": "nobody"}, {"team": "nowhere", "bot": "x"}, {"bot": "y"}],
                "daily_conversations": -1,
                "paused": "maybe",
                "colour": "blue",
            }
        ),
    )
    lines = "\n".join(problems_of(path))
    assert "competition.practice.colour" in lines
    assert "competition.practice.daily_conversations" in lines
    assert "competition.practice.paused" in lines
    assert "competition.practice.opponents[0].bot" in lines and "no bot 'nobody'" in lines
    assert "competition.practice.opponents[2].team: required key is missing" in lines
    assert not PracticePolicy.objects.exists()
