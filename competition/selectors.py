"""Reads that build the competition pages."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from competition.models import ROUND_PLAYER_LEASE, Competition, PlayerLease, Round, Standing, StandingRevision


def competition_list_public() -> QuerySet[Competition]:
    """Every competition with its number of rounds and of published rounds, newest first."""
    return Competition.objects.annotate(
        round_count=Count("rounds", filter=~Q(rounds__status=Round.Status.CANCELLED)),
        published_count=Count("rounds", filter=Q(rounds__status=Round.Status.PUBLISHED)),
    ).order_by("-created_at")


def player_leases_live() -> list[str]:
    """The names of the player leases a live player holds (its holder renews it), the primary's
    ("rounds") first, then "rounds:1", "rounds:2" ... in index order."""
    names = (
        PlayerLease.objects.filter(Q(name=ROUND_PLAYER_LEASE) | Q(name__startswith=f"{ROUND_PLAYER_LEASE}:"))
        .filter(expires_at__gte=timezone.now())
        .exclude(holder="")
        .values_list("name", flat=True)
    )
    return sorted(names, key=lambda name: int(name.partition(":")[2] or 0))


def round_standings_table(*, round_: Round) -> dict:
    """A round's standings as plain data (what `manage.py standings --json` prints and pages show):
    competition, round, bots (ranked per side, with every part and the rating interval), teams,
    and the revisions made after publishing."""
    rows = list(
        Standing.objects.filter(round=round_)
        .select_related("team", "bot")
        .order_by("side", "bot", "rank", "team__name")
    )

    def row_dict(row: Standing) -> dict:
        return {
            "rank": row.rank,
            "side": row.side,
            "team": row.team.name,
            "team_slug": row.team.slug,
            "bot": row.bot.name if row.bot else None,
            "bot_id": row.bot_id,
            "score": row.score,
            "success_rate": row.success_rate,
            "multiplier": row.multiplier,
            "safety": row.safety,
            "utility": row.utility,
            "availability": row.availability,
            "conversations": row.conversations,
            "successes": row.successes,
            "counted_successes": row.counted_successes,
            "near_duplicates": row.near_duplicates,
            "probes": row.probes,
            "probes_answered": row.probes_answered,
            "rating": row.rating,
            "rating_lower": row.rating_lower,
            "rating_upper": row.rating_upper,
            "inputs": row.inputs,
            "computed_at": row.computed_at.isoformat(),
        }

    bots = sorted((row for row in rows if row.bot_id), key=lambda r: (r.side, r.rank, r.team.name, r.bot.name))
    teams = sorted((row for row in rows if not row.bot_id), key=lambda r: (r.side, r.rank, r.team.name))
    revisions = StandingRevision.objects.filter(round=round_).select_related("team", "bot")
    return {
        "competition": {"slug": round_.competition.slug, "name": round_.competition.name},
        "round": {
            "number": round_.number,
            "slug": round_.slug,
            "name": round_.name,
            "status": round_.status,
            "practice": round_.practice,
        },
        "bots": [row_dict(row) for row in bots],
        "teams": [row_dict(row) for row in teams],
        "revisions": [
            {
                "team": revision.team.name,
                "bot": revision.bot.name if revision.bot else None,
                "reason": revision.reason,
                "changes": revision.changes,
                "changed_at": revision.changed_at.isoformat(),
            }
            for revision in revisions
        ],
    }
