"""Reads that build the site's pages: the competitions, the public leaderboards and a team's dashboard.

Only published rounds leave the admin: a scored round waits for the organizers' "Publish". Every
page here reads a bounded number of queries whatever the round's size (tests assert the bounds).
Numbers come from the stored Standing rows (competition/pipeline/scoring.py); docs/scoring.md
explains each.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from statistics import fmean

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet

from competition.models import Competition, Match, Round, Standing, StandingRevision
from competition.pipeline.scoring import competition_ratings
from competition.revisions import RevisionLine, revision_lines
from competition.scoring.standings import standard_ranks
from judging.selectors import LabelsConfirmed, rounds_labels_confirmed
from teams.models import Bot, BotHealthCheck, Side, Team

PUBLISHED = Round.Status.PUBLISHED
HEALTH_WINDOW = 50
# Competition-wide ratings are a 1,000-resample bootstrap: computed once per change of the published
# standings, then served from the cache.
RATINGS_CACHE_SECONDS = 24 * 3600


def competition_list_public() -> QuerySet[Competition]:
    """Every competition with its number of rounds and of published rounds, newest first."""
    return Competition.objects.annotate(
        round_count=Count("rounds", filter=~Q(rounds__status=Round.Status.CANCELLED)),
        published_count=Count("rounds", filter=Q(rounds__status=Round.Status.PUBLISHED)),
    ).order_by("-created_at")


@dataclass(frozen=True)
class IntervalBar:
    """A rating and its 95% interval on an axis shared by a table's rows, in percent (0-100)."""

    lower: float
    point: float
    upper: float


def interval_bars(
    rows: list, *, point: str = "rating", lower: str = "rating_lower", upper: str = "rating_upper"
) -> list:
    """One IntervalBar (or None for a row without a rating) per row, on one axis spanning every interval.
    A rating without an interval (not enough data) is drawn as its point alone."""
    rated = [row for row in rows if _get(row, point) is not None]
    if not rated:
        return [None] * len(rows)

    def ends(row) -> tuple[float, float]:
        if _get(row, lower) is None or _get(row, upper) is None:
            return _get(row, point), _get(row, point)
        return _get(row, lower), _get(row, upper)

    low = min(ends(row)[0] for row in rated)
    high = max(ends(row)[1] for row in rated)
    span = (high - low) or 1.0

    def at(value: float) -> float:
        return round(100 * (value - low) / span, 2)

    return [
        IntervalBar(at(ends(row)[0]), at(_get(row, point)), at(ends(row)[1])) if _get(row, point) is not None else None
        for row in rows
    ]


def _get(row, name: str):
    return row[name] if isinstance(row, dict) else getattr(row, name)


@dataclass
class RoundBoard:
    round: Round
    attackers: list[tuple[Standing, IntervalBar | None]]
    defenders: list[tuple[Standing, IntervalBar | None]]
    teams: list[Standing]
    revisions: list[RevisionLine]
    # How many of the round's final labels a person confirmed (docs/scoring.md).
    labels_confirmed: LabelsConfirmed = field(default_factory=LabelsConfirmed)


def round_published(*, competition_slug: str, number: int) -> Round | None:
    return (
        Round.objects.select_related("competition")
        .filter(competition__slug=competition_slug, number=number, status=PUBLISHED, kind=Round.Kind.ROUND)
        .first()
    )


def round_board(*, round_: Round) -> RoundBoard:
    """A published round's standings: bots ranked per side with their rating bars, teams, revisions."""
    rows = list(Standing.objects.filter(round=round_).select_related("team", "bot").order_by("side", "rank", "pk"))
    bots = [row for row in rows if row.bot_id]

    def side(name: str) -> list:
        ranked = [row for row in bots if row.side == name]
        return list(zip(ranked, interval_bars(ranked), strict=True))

    return RoundBoard(
        round=round_,
        attackers=side(Side.ATTACKER),
        defenders=side(Side.DEFENDER),
        teams=[row for row in rows if not row.bot_id],
        revisions=revision_lines(StandingRevision.objects.filter(round=round_).select_related("team", "bot")),
        labels_confirmed=rounds_labels_confirmed(round_ids=[round_.pk])[round_.pk],
    )


@dataclass
class OverallRow:
    bot: Bot
    side: str
    rounds: int
    mean_score: float
    best_rank: int
    rating: float | None = None
    rating_lower: float | None = None
    rating_upper: float | None = None
    rank: int = 0


@dataclass
class CompetitionBoard:
    competition: Competition
    rounds: list[Round]
    attackers: list[tuple[OverallRow, IntervalBar | None]] = field(default_factory=list)
    defenders: list[tuple[OverallRow, IntervalBar | None]] = field(default_factory=list)


def _published_counted(competition: Competition) -> list[Round]:
    return list(competition.rounds.filter(status=PUBLISHED, practice=False).order_by("number"))


def competition_ratings_published(*, competition: Competition, rounds: list[Round]) -> dict[int, object]:
    """Bradley-Terry ratings over the competition's published non-practice rounds, cached until their
    standings change (a recomputation or a new publication changes the key)."""
    if not rounds:
        return {}

    marker = Standing.objects.filter(round__in=rounds).aggregate(latest=Max("computed_at"))["latest"]
    stamp = marker.timestamp() if marker else 0
    key = f"competition-ratings:{competition.pk}:{'-'.join(str(r.pk) for r in rounds)}:{stamp}"
    ratings = cache.get(key)
    if ratings is None:
        ratings = competition_ratings(competition=competition, round_ids=[r.pk for r in rounds])
        cache.set(key, ratings, RATINGS_CACHE_SECONDS)
    return ratings


def competition_board(*, competition: Competition) -> CompetitionBoard:
    """Over the published non-practice rounds: each bot's mean score, rounds played, best rank, and
    the Bradley-Terry rating fitted over all their games, ranked by mean score per side."""
    rounds = _published_counted(competition)
    board = CompetitionBoard(competition=competition, rounds=rounds)
    standings = Standing.objects.filter(round__in=rounds, bot__isnull=False).select_related("bot__team")
    grouped: dict[int, list[Standing]] = defaultdict(list)
    for row in standings:
        grouped[row.bot_id].append(row)
    ratings = competition_ratings_published(competition=competition, rounds=rounds)
    overall = []
    for rows in grouped.values():
        rating = ratings.get(rows[0].bot_id)
        overall.append(
            OverallRow(
                bot=rows[0].bot,
                side=rows[0].side,
                rounds=len(rows),
                mean_score=fmean(row.score for row in rows),
                best_rank=min(row.rank for row in rows),
                rating=getattr(rating, "rating", None),
                rating_lower=getattr(rating, "lower", None),
                rating_upper=getattr(rating, "upper", None),
            )
        )
    for name, target in ((Side.ATTACKER, "attackers"), (Side.DEFENDER, "defenders")):
        # Shown best first, equals by name; ranked by the round boards' one tie rule (equals share a rank).
        ranked = sorted(
            (row for row in overall if row.side == name), key=lambda row: (-round(row.mean_score, 9), row.bot.name)
        )
        for row, rank in zip(ranked, standard_ranks([row.mean_score for row in ranked]), strict=True):
            row.rank = rank
        setattr(board, target, list(zip(ranked, interval_bars(ranked), strict=True)))
    return board


# --- A team's dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartSeries:
    """One line of a chart: a label and its points as SVG coordinates (x, y), with the values."""

    label: str
    points: tuple[tuple[float, float, float], ...]  # (x, y, value)

    @property
    def polyline(self) -> str:
        return " ".join(f"{x},{y}" for x, y, _value in self.points)


@dataclass(frozen=True)
class Chart:
    """A server-drawn line chart: scores in [0, 1] per round (viewBox 0 0 WIDTH HEIGHT)."""

    WIDTH = 640
    HEIGHT = 220
    LEFT = 40
    RIGHT = 16
    TOP = 12
    BOTTOM = 36
    LABEL_INSET = 50  # half of an 18-character label at font-size 10

    rounds: tuple[tuple[float, str], ...]  # (x, label)
    series: tuple[ChartSeries, ...]
    grid: tuple[tuple[float, str], ...]  # (y, label)

    @classmethod
    def of_scores(
        cls, *, rounds: list[Round], values: dict[str, dict[int, float]], labels: dict[int, str] | None = None
    ) -> Chart:
        """``values``: series label -> round id -> score in [0, 1]; ``labels``: round id -> axis label
        (default: the round's name)."""
        labels = labels or {}
        inner_w = cls.WIDTH - cls.LEFT - cls.RIGHT
        inner_h = cls.HEIGHT - cls.TOP - cls.BOTTOM
        # The first and last points stand in from the edges by half a round label (18 characters at
        # most), so the labels centred under them are never cut off.
        span = inner_w - 2 * cls.LABEL_INSET
        step = span / max(len(rounds) - 1, 1)
        xs = {
            round_.pk: round(cls.LEFT + cls.LABEL_INSET + (index * step if len(rounds) > 1 else span / 2), 1)
            for index, round_ in enumerate(rounds)
        }

        def y(value: float) -> float:
            return round(cls.TOP + inner_h * (1 - max(0.0, min(1.0, value))), 1)

        series = tuple(
            ChartSeries(label, tuple((xs[r.pk], y(by_round[r.pk]), by_round[r.pk]) for r in rounds if r.pk in by_round))
            for label, by_round in values.items()
        )
        return cls(
            rounds=tuple((xs[r.pk], labels.get(r.pk, r.name)) for r in rounds),
            series=series,
            grid=tuple((y(value), f"{value:.2f}") for value in (0, 0.25, 0.5, 0.75, 1)),
        )


@dataclass
class BotHealth:
    bot: Bot
    latest: BotHealthCheck | None
    uptime_percent: float | None
    versions: list[tuple[str, int]]  # (round name, version it played)


@dataclass
class TeamDashboard:
    team: Team
    rounds: list[Round]
    standings: list[Standing]
    chart: Chart | None
    categories: list[dict]
    revisions: list[RevisionLine]
    bots: list[BotHealth]
    # (round, how many of its final labels a person confirmed) per published round (docs/scoring.md).
    labels_confirmed: list[tuple[Round, LabelsConfirmed]] = field(default_factory=list)


def team_dashboard(*, team: Team) -> TeamDashboard:
    """Everything a team's members come back for: its standings per published round (drawn as a
    chart), the per-category breakdown of its latest published round, revisions of published
    standings, and its bots' health and the versions each round played."""
    rounds = list(
        Round.objects.filter(status=PUBLISHED, standings__team=team)
        .distinct()
        .select_related("competition")
        .order_by("competition_id", "number")
    )
    standings = list(
        Standing.objects.filter(team=team, round__in=rounds)
        .select_related("bot", "round__competition")
        .order_by("round__number", "bot__name")
    )
    bot_rows = [row for row in standings if row.bot_id]
    # A team in several competitions: one series per bot and competition, named so, and each round
    # on the axis named with its competition, so no line joins rounds of different competitions.
    several = len({round_.competition_id for round_ in rounds}) > 1
    values: dict[str, dict[int, float]] = defaultdict(dict)
    for row in bot_rows:
        label = f"{row.bot.name} · {row.round.competition.name}" if several else row.bot.name
        values[label][row.round_id] = row.score
    labels = {round_.pk: f"{round_.competition.name} · {round_.name}" for round_ in rounds} if several else None
    chart = Chart.of_scores(rounds=rounds, values=dict(values), labels=labels) if bot_rows else None
    categories = []
    if rounds:
        # The most recently published round, whatever its competition.
        latest = max(rounds, key=lambda round_: (round_.published_at is not None, round_.published_at, round_.pk))
        for row in (row for row in bot_rows if row.round_id == latest.pk):
            for category, counts in sorted((row.inputs.get("categories") or {}).items()):
                categories.append({"round": latest, "bot": row.bot, "category": category, **counts})
    revisions = revision_lines(
        StandingRevision.objects.filter(team=team, round__status=PUBLISHED).select_related("round", "bot")
    )
    versions: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for bot_id, round_name, version in _versions_played(team=team, rounds=rounds):
        versions[bot_id].append((round_name, version))
    health = []
    for bot in team.bots.order_by("name"):
        # One bounded query per bot: a team has a few bots, each with weeks of checks every 10 minutes.
        recent = list(BotHealthCheck.objects.filter(bot=bot).order_by("-checked_at", "-pk")[:HEALTH_WINDOW])
        uptime = round(100 * sum(check.ok for check in recent) / len(recent), 1) if recent else None
        health.append(
            BotHealth(bot=bot, latest=recent[0] if recent else None, uptime_percent=uptime, versions=versions[bot.pk])
        )
    confirmed = rounds_labels_confirmed(round_ids=[round_.pk for round_ in rounds])
    return TeamDashboard(
        team=team,
        rounds=rounds,
        standings=standings,
        chart=chart,
        categories=categories,
        revisions=revisions,
        bots=health,
        labels_confirmed=[(r, confirmed[r.pk]) for r in rounds],
    )


def _versions_played(*, team: Team, rounds: list[Round]) -> list[tuple[int, str, int]]:
    """(bot id, round name, version) for every version of the team's bots frozen into a published round."""
    played = set()
    for side in ("attacker", "defender"):
        played |= set(
            Match.objects.filter(round__in=rounds, **{f"{side}__team": team}).values_list(
                side, "round__name", f"{side}_version"
            )
        )
    order = {round_.name: index for index, round_ in enumerate(rounds)}
    return sorted(played, key=lambda row: (row[0], order.get(row[1], 0)))
