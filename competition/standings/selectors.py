"""Reads of a round's standings as plain data."""

from __future__ import annotations

from competition.models import Round, Standing, StandingRevision


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
