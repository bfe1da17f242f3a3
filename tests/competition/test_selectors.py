"""Public leaderboards and the team dashboard: only published rounds, ranks with their parts and
rating intervals, members-only dashboards, and bounded queries per page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from competition.models import Round, Standing, StandingRevision
from competition.selectors import IntervalBar, competition_board, interval_bars
from judging.models import FinalLabel
from tests.cast import SAFE, UNSAFE, match_make, played_conversation_make, standing_make

PAGE_QUERY_BOUND = 15


@pytest.fixture
def scored(arena):
    round_ = arena.round
    standing_make(
        round_,
        arena.rogue_bot,
        rank=1,
        score=0.6,
        rating=1100,
        lower=1050,
        upper=1150,
        success_rate=0.6,
        multiplier=1.0,
    )
    standing_make(
        round_,
        arena.crimson_bot,
        rank=2,
        score=0.2,
        rating=950,
        lower=900,
        upper=1000,
        success_rate=0.25,
        multiplier=0.8,
    )
    standing_make(
        round_, arena.bastion_bot, rank=1, score=0.9, rating=1020, lower=980, upper=1060, safety=0.9, utility=1.0
    )
    standing_make(round_, arena.aegis_bot, rank=2, score=0.4, rating=900, lower=850, upper=950, safety=0.5, utility=0.8)
    return round_


def publish(round_) -> None:
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.PUBLISHED)


def test_it_places_interval_bars_on_one_shared_axis():
    rows = [
        {"rating": 1100, "rating_lower": 1050, "rating_upper": 1150},
        {"rating": 950, "rating_lower": 900, "rating_upper": 1000},
    ]

    bars = interval_bars(rows)

    assert bars == [IntervalBar(60.0, 80.0, 100.0), IntervalBar(0.0, 20.0, 40.0)]


def test_it_shows_a_published_rounds_leaderboard_to_anyone(client, arena, scored):
    publish(scored)

    html = client.get(reverse("round-leaderboard", args=["trusted-ai-2026", 1])).content.decode()

    assert html.index("Red Rogues / rogue") < html.index("Crimson Crew / crimson")
    assert html.index("Blue Bastion / bastion") < html.index("Azure Aegis / aegis")
    assert "[1050, 1150]" in html
    assert html.count('<svg class="interval"') == 4


def test_it_hides_an_unpublished_rounds_leaderboard(client, arena, scored):
    Round.objects.filter(pk=scored.pk).update(status=Round.Status.SCORED)

    assert client.get(reverse("round-leaderboard", args=["trusted-ai-2026", 1])).status_code == 404


def test_it_lists_revisions_of_a_published_round(client, arena, scored):
    publish(scored)
    StandingRevision.objects.create(
        round=scored,
        team=arena.bastion,
        bot=arena.bastion_bot,
        reason="an annotation changed a label",
        changes={"score": [0.8, 0.9]},
    )

    html = client.get(reverse("round-leaderboard", args=["trusted-ai-2026", 1])).content.decode()

    assert "an annotation changed a label" in html


def test_it_ranks_the_competition_over_published_tournament_rounds_only(client, arena, scored):
    practice = Round.objects.create(
        competition=arena.competition, number=2, name="Practice", slug="practice", practice=True
    )
    standing_make(practice, arena.crimson_bot, rank=1, score=1.0, rating=None, lower=None, upper=None)
    publish(scored)
    publish(practice)

    html = client.get(reverse("competition-leaderboard", args=["trusted-ai-2026"])).content.decode()

    assert "0.600" in html and "0.200" in html
    assert "1.000" not in html  # the practice round's score does not count


def test_it_shows_a_team_its_dashboard_with_its_chart(client, arena, scored):
    match_make(arena, attacker=arena.rogue_bot, defender=arena.bastion_bot)
    publish(scored)
    client.force_login(arena.alice)

    html = client.get(reverse("team-dashboard", args=["red-rogues"])).content.decode()

    assert '<svg class="chart"' in html and "<polyline" in html
    assert "vulnerable_code" in html
    assert "Tournament 1: v1" in html  # the version its bot played in the round


def test_it_hides_a_teams_dashboard_from_other_teams_and_anonymous(client, arena, scored):
    publish(scored)
    url = reverse("team-dashboard", args=["red-rogues"])

    anonymous = client.get(url)
    client.force_login(arena.dave)
    foreign = client.get(url)

    assert anonymous.status_code == 302
    assert foreign.status_code == 404


def test_it_lists_a_users_teams(client, arena):
    client.force_login(arena.mallory)

    html = client.get(reverse("my-teams")).content.decode()

    assert "Red Rogues" in html and "Blue Bastion" not in html


def test_it_renders_how_scoring_works_from_the_docs(client, db):
    html = client.get(reverse("scoring")).content.decode()

    assert "<h1>" in html
    assert "Bradley" in html


def test_it_links_competitions_from_home_to_their_pages(client, arena):
    home = client.get(reverse("home")).content.decode()
    page = client.get(reverse("competition", args=["trusted-ai-2026"])).content.decode()

    assert reverse("competition", args=["trusted-ai-2026"]) in home
    assert "Tournament 1" in page


def human_confirmed_round(arena) -> None:
    """Three labelled defender replies in the cast's round, one of them decided by people."""
    played_conversation_make(arena, messages=["a", "b", "c", "d"], labels=[SAFE, UNSAFE])
    played_conversation_make(arena, messages=["a", "b"], labels=[SAFE], source=FinalLabel.Source.ADJUDICATION)


def test_it_says_on_a_rounds_leaderboard_how_many_labels_a_person_confirmed(client, arena, scored):
    human_confirmed_round(arena)
    publish(scored)

    html = client.get(reverse("round-leaderboard", args=["trusted-ai-2026", 1])).content.decode()

    assert "1 of 3 defender replies confirmed by a person" in html


def test_it_says_on_a_teams_dashboard_how_many_labels_a_person_confirmed_per_round(client, arena, scored):
    human_confirmed_round(arena)
    publish(scored)
    client.force_login(arena.alice)

    html = client.get(reverse("team-dashboard", args=["red-rogues"])).content.decode()

    assert "Tournament 1: 1 of 3 defender replies confirmed by a person" in html


@pytest.mark.parametrize("page", ["round", "competition", "dashboard"])
def test_it_reads_a_bounded_number_of_queries(client, arena, scored, django_assert_max_num_queries, page):
    publish(scored)
    client.force_login(arena.alice)
    url = {
        "round": reverse("round-leaderboard", args=["trusted-ai-2026", 1]),
        "competition": reverse("competition-leaderboard", args=["trusted-ai-2026"]),
        "dashboard": reverse("team-dashboard", args=["red-rogues"]),
    }[page]

    with django_assert_max_num_queries(PAGE_QUERY_BOUND):
        assert client.get(url).status_code == 200


def test_it_shows_a_rating_without_an_interval_as_not_enough_data(client, arena, scored):
    Standing.objects.filter(round=scored, bot=arena.aegis_bot).update(rating_lower=None, rating_upper=None)
    publish(scored)

    html = client.get(reverse("round-leaderboard", args=["trusted-ai-2026", 1])).content.decode()

    assert "no interval: not enough data" in html
    rows = [{"rating": 1000, "rating_lower": None, "rating_upper": None}, {"rating": 900, "rating_lower": 800}]
    rows[1]["rating_upper"] = 1000
    assert interval_bars(rows) == [IntervalBar(100.0, 100.0, 100.0), IntervalBar(0.0, 50.0, 100.0)]


def test_it_writes_how_scoring_works_for_teams_without_code_paths(client, db):
    html = client.get(reverse("scoring")).content.decode()

    assert "Attack success" in html and "Bradley" in html
    for code in ("competition.tasks", "round_score_task", "StandingRevision", "competition/", ".py", "manage.py"):
        assert code not in html, code


def test_it_says_so_when_no_tournament_round_is_published(client, arena):
    html = client.get(reverse("competition-leaderboard", args=["trusted-ai-2026"])).content.decode()

    assert "Over the 0" not in html
    assert "No tournament round is published yet" in html


def test_it_lists_each_standings_change_once_with_counts_as_integers(client, arena, scored):
    publish(scored)
    change = {"conversations": [7.0, 6.0], "score": [0.8, 0.8125]}
    for bot in (arena.bastion_bot, None):
        StandingRevision.objects.create(
            round=scored, team=arena.bastion, bot=bot, reason="a moderator excluded one", changes=change
        )
    client.force_login(arena.dana)

    dashboard = client.get(reverse("team-dashboard", args=["blue-bastion"])).content.decode()
    board = client.get(reverse("round-leaderboard", args=["trusted-ai-2026", 1])).content.decode()

    for html in (dashboard, board):
        assert html.count("a moderator excluded one") == 1
        assert "score 0.800 → 0.812, conversations 7 → 6" in html  # Standing.FIGURES order on every database
        assert "7.000" not in html


def test_it_names_each_competition_on_the_chart_and_shows_the_latest_rounds_categories(client, arena, scored):
    from datetime import timedelta

    from django.utils import timezone

    from competition.models import Competition

    other = Competition.objects.create(name="Winter Cup", slug="winter-cup")
    older = Round.objects.create(competition=other, number=1, name="Round 1", slug="round-1")
    standing_make(older, arena.rogue_bot, rank=1, score=0.3, rating=None, lower=None, upper=None)
    Standing.objects.filter(round=older).update(inputs={"categories": {"old_category": {"conversations": 1}}})
    Round.objects.filter(pk=older.pk).update(status=Round.Status.PUBLISHED, published_at=timezone.now() - timedelta(1))
    Round.objects.filter(pk=scored.pk).update(status=Round.Status.PUBLISHED, published_at=timezone.now())
    client.force_login(arena.alice)

    html = client.get(reverse("team-dashboard", args=["red-rogues"])).content.decode()

    assert "rogue · Winter Cup" in html and f"rogue · {arena.competition.name}" in html
    assert "latest published round: " + arena.competition.name in html
    assert "old_category" not in html


def test_it_breaks_ties_on_the_competition_board_as_on_the_round_board(client, arena, scored):
    Standing.objects.filter(round=scored, bot=arena.crimson_bot).update(score=0.6, rank=1)
    publish(scored)

    board = competition_board(competition=arena.competition)

    assert [(row.bot.name, row.rank) for row, _bar in board.attackers] == [("crimson", 1), ("rogue", 1)]
