"""Bradley-Terry ratings of attackers and defenders from their games, with bootstrap intervals.

Every counted conversation is a game between its attacker and its defender, won by the attacker
when the attack succeeded (attacks.attack_succeeded), else by the defender. The Bradley-Terry model
(Bradley & Terry 1952, Biometrika 39:324-345) gives each bot a strength pi > 0 with
P(i beats j) = pi_i / (pi_i + pi_j). The maximum-likelihood strengths maximise the concave log-likelihood
sum over games of log(pi_winner / (pi_winner + pi_loser)) (Hunter 2004, "MM algorithms for
generalized Bradley-Terry models", Annals of Statistics 32:384-406, section 2, which also gives the
MM iteration); here it is maximised by Newton's method on theta = log pi, all bootstrap tables at
once, because Hunter's MM iteration needs hundreds of steps on a bipartite game graph (attackers
only ever meet defenders) where Newton's needs about ten.

So that a bot that won (or lost) every game still has a finite strength, each bot also plays
PRIOR_GAMES virtual games against a virtual bot of strength 1, winning half of them; the virtual
bot anchors the scale: rating = 1000 + 400 log10(pi), so the virtual bot rates 1000 and a rating
400 higher wins 10:1 against it (the Elo convention). With prior_games=0 the strengths are
normalised to a geometric mean of 1 instead.

Intervals: 95 % percentile bootstrap (Efron & Tibshirani 1993, ch. 13): the games are resampled
with replacement `resamples` times (a seeded generator, so a recomputation gives the same numbers),
the model is refitted on each resample, and the 2.5th and 97.5th percentiles of each bot's rating
are its interval, widened where needed to contain the point estimate (a percentile interval of a
skewed statistic can miss it). Where every resample gives the bot the same rating (one attacker
against one defender who always won, say) the games say nothing about its spread: the bot gets no
interval (lower and upper None, "not enough data"), never one of zero width.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

PRIOR_GAMES = 1.0
BASE_RATING = 1000.0
ELO_SCALE = 400.0 / np.log(10.0)
TOLERANCE = 1e-9
MAX_ITERATIONS = 100
MAX_STEP = 2.0


# A bootstrap interval narrower than this (rating points) is a degenerate one: no interval.
MIN_INTERVAL_WIDTH = 1e-6


@dataclass(frozen=True)
class Rating:
    """A bot's rating; ``lower``/``upper`` None when the games give no interval (not enough data)."""

    rating: float
    lower: float | None
    upper: float | None
    games: int


def _fit(
    wins: np.ndarray, losses: np.ndarray, prior: float, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Log-strengths of attackers and defenders for a batch of games tables, by Newton's method.

    wins[b, a, d]: games attacker a won against defender d in table b; losses[b, a, d]: games it lost.
    Maximises the log-likelihood (plus the virtual games); it is concave, so Newton's method with
    steps limited to MAX_STEP converges in a few iterations, fewer from a `start` near the answer
    (the bootstrap starts from the point estimate: warm start). Returns (log pi (B, A), log pi (B, D)).
    """
    batch, n_att, n_def = wins.shape
    size = n_att + n_def
    games = wins + losses
    theta = np.zeros((batch, size)) if start is None else np.repeat(start[None, :], batch, axis=0)
    half = prior / 2.0
    ridge = 1e-9 * np.eye(size)
    for _ in range(MAX_ITERATIONS):
        ta, td = theta[:, :n_att], theta[:, n_att:]
        p = _sigmoid(ta[:, :, None] - td[:, None, :])  # P(attacker beats defender)
        expected = games * p
        virtual = _sigmoid(theta)
        gradient = np.concatenate([(wins - expected).sum(axis=2), (expected - wins).sum(axis=1)], axis=1)
        gradient += half * (1.0 - 2.0 * virtual)
        information = games * p * (1.0 - p)
        hessian = np.zeros((batch, size, size))
        hessian[:, :n_att, n_att:] = information
        hessian[:, n_att:, :n_att] = information.transpose(0, 2, 1)
        diagonal = np.concatenate([information.sum(axis=2), information.sum(axis=1)], axis=1)
        diagonal += prior * virtual * (1.0 - virtual)
        index = np.arange(size)
        hessian[:, index, index] = -diagonal
        step = np.linalg.solve(hessian - ridge, -gradient[:, :, None])[:, :, 0]
        largest = np.abs(step).max(axis=1, keepdims=True)
        step *= np.minimum(1.0, MAX_STEP / np.maximum(largest, 1e-300))
        theta = theta + step
        if prior == 0:
            theta -= theta.mean(axis=1, keepdims=True)
        if largest.max() < TOLERANCE:
            break
    return theta[:, :n_att], theta[:, n_att:]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def bradley_terry(
    games: Iterable[tuple[int, int, bool]],
    *,
    resamples: int = 1000,
    seed: int = 0,
    prior_games: float = PRIOR_GAMES,
) -> dict[int, Rating]:
    """Ratings of every bot that played: games are (attacker id, defender id, attacker won).

    Returns bot id -> Rating(rating, lower, upper, games) on the scale in the module docstring; lower
    and upper are None where every resample gave the same rating (no interval: not enough data).
    With prior_games=0 every bot must have won and lost at least once (else the fit diverges).
    With resamples=0 the interval is the point.
    """
    games = list(games)
    if not games:
        return {}
    attackers = sorted({a for a, _, _ in games})
    defenders = sorted({d for _, d, _ in games})
    a_index = {bot: i for i, bot in enumerate(attackers)}
    d_index = {bot: i for i, bot in enumerate(defenders)}
    n_att, n_def = len(attackers), len(defenders)
    # cells: (attacker, defender, outcome) flattened; outcome 0 = attacker won, 1 = defender won
    cells = np.zeros(n_att * n_def * 2)
    for attacker, defender, attacker_won in games:
        cells[(a_index[attacker] * n_def + d_index[defender]) * 2 + (0 if attacker_won else 1)] += 1

    def tables(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shaped = counts.reshape(-1, n_att, n_def, 2)
        return shaped[..., 0], shaped[..., 1]

    log_a, log_d = _fit(*tables(cells[None, :]), prior_games)
    start = np.concatenate([log_a[0], log_d[0]])
    point = start * ELO_SCALE + BASE_RATING
    lower = upper = point
    if resamples:
        rng = np.random.default_rng(seed)
        drawn = rng.multinomial(len(games), cells / cells.sum(), size=resamples).astype(float)
        ratings = []
        # Chunks keep the working arrays small (about 8 MB each at 25 x 25 bots).
        for first in range(0, resamples, 250):
            boot_a, boot_d = _fit(*tables(drawn[first : first + 250]), prior_games, start)
            ratings.append(np.concatenate([boot_a, boot_d], axis=1) * ELO_SCALE + BASE_RATING)
        stacked = np.concatenate(ratings)
        lower = np.minimum(np.percentile(stacked, 2.5, axis=0), point)
        upper = np.maximum(np.percentile(stacked, 97.5, axis=0), point)
    played: dict[int, int] = {}
    for attacker, defender, _ in games:
        played[attacker] = played.get(attacker, 0) + 1
        played[defender] = played.get(defender, 0) + 1
    bots = attackers + defenders
    ratings_of = {}
    for i, bot in enumerate(bots):
        interval = (float(lower[i]), float(upper[i]))
        if resamples and interval[1] - interval[0] < MIN_INTERVAL_WIDTH:
            interval = (None, None)
        ratings_of[bot] = Rating(float(point[i]), *interval, played[bot])
    return ratings_of
