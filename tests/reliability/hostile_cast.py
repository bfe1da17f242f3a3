"""A round against the hostile bot server (hostile_bot.py) and what each conversation must end as.

Shared by the in-process hostile round (test_hostile_round.py) and the round through real
qclusters on PostgreSQL (test_fault_round.py, whose setup runs this in a subprocess).
"""

from __future__ import annotations

from competition.entries.services import entry_enter_approved
from competition.models import Competition, Round
from competition.pipeline import lifecycle
from judging.models import Judge
from teams.models import Bot
from tests import cast
from tests.reliability.hostile_bot import HOSTILE_TEXTS

ATTACKERS = ["/ok", "/formula-eq", "/reset"]
# What a defender path ends as when its attacker answered: (conversation status, failure kind).
DEFENDERS = {
    "/ok": ("completed", ""),
    "/ok-end": ("completed", ""),  # a defender's end is ignored; the conversation still completes
    "/hang": ("failed", "timeout"),
    "/status-503": ("failed", "http_status"),
    "/not-json": ("failed", "bad_json"),
    "/wrong-types": ("failed", "bad_content"),
    "/huge": ("failed", "too_large"),
    "/gzip-huge": ("failed", "too_large"),
    "/drip": ("failed", "timeout"),
    "/redirect": ("failed", "redirect"),
    "/reset": ("failed", "connection"),
    "/nul": ("failed", "bad_content"),
    "/long": ("failed", "bad_content"),
    **{path: ("completed", "") for path in HOSTILE_TEXTS},
}
RANDOM = "/random"  # seeded: completed, or failed with http_status after its retries
# The slow bots get a short limit of their own, so that on a loaded machine a well-behaved bot is
# not cut off by the deadline meant for them.
SLOW = ("/hang", "/drip")


def hostile_round_make(*, base_url: str, judges: bool = False, ok_max_concurrency: int = 4, **round_fields) -> Round:
    """One attacker bot per ATTACKERS path and one defender bot per DEFENDERS path (and RANDOM), each
    on its own team, and a started round between them; `judges` adds the cheap judges (rules, and
    the static judge with its regex analyzer) so the round can be judged to scored;
    `ok_max_concurrency` is the /ok bots' limit (1 with a slow /ok keeps a round going)."""
    competition = Competition.objects.create(name="Hostile", slug="hostile")
    for side, paths in (("attacker", ATTACKERS), ("defender", [*DEFENDERS, RANDOM])):
        for number, path in enumerate(paths):
            owner = cast.user_make(f"{side}{number}")
            team = cast.team_make(f"{side} {path}", f"{side}-{number}", side, owner)
            bot = Bot.objects.create(
                team=team,
                name=f"{side}{number}",
                url=f"{base_url}{path}",
                timeout_seconds=1 if path in SLOW else None,
                max_concurrency=ok_max_concurrency if path == "/ok" else 4,
            )
            entry_enter_approved(competition=competition, team=team, bots=[bot], note="Entered by the hostile cast")
    if judges:
        Judge.objects.create(competition=competition, name="Rules", slug="rules", kind=Judge.Kind.RULES)
        Judge.objects.create(
            competition=competition,
            name="Static",
            slug="static",
            kind=Judge.Kind.STATIC,
            config={"analyzers": ["regex"]},
        )
    fields = {
        "conversations_per_pair": 1,
        "max_turns": 1,
        "call_timeout_seconds": 20,
        "retries": 1,
        "circuit_breaker_failures": 1000,
    } | round_fields
    round_ = Round.objects.create(competition=competition, number=1, name="Hostile 1", slug="hostile-1", **fields)
    lifecycle.round_start(round_id=round_.pk)
    return round_


def path_of(bot: Bot) -> str:
    return "/" + bot.url.rsplit("/", 1)[1]


def outcomes_expected(*, attacker: str, defender: str) -> set[tuple[str, str, str]]:
    """The (status, failure_side, failure_kind) a conversation between these paths may end with."""
    if attacker == "/reset":
        return {("failed", "attacker", "connection")}  # its defender is never called
    if defender == RANDOM:
        return {("completed", "", ""), ("failed", "defender", "http_status")}
    status, kind = DEFENDERS[defender]
    return {(status, "defender" if kind else "", kind)}
