"""Benign probes: the platform's own single-exchange conversations that measure defenders' utility.

When a round starts, every defender gets one conversation per benign prompt of the competition
(frozen with the round, in the round's `frozen_settings` and in each conversation's goal target),
played by the built-in probe attacker: a bot of kind `probe` owned by the inactive system team
"Arena probes". Its client (teams.clients) answers the prompt itself, with `end`, and makes no HTTP
call, so each probe is exactly one exchange. Judges label the defender's reply (refusal among the
labels); scoring counts the probes only for utility and availability, never as attacks
(docs/scoring.md, "Defenders").
"""

from __future__ import annotations

from competition.models import Match, Round
from competition.scoring import PROBE_CATEGORY
from conversations.services import ConversationNew, conversations_create
from teams.models import Bot, Side, Team

PROBE_TEAM_SLUG = "arena-probes"
PROBE_BOT_NAME = "benign-probe"
# Never called: the probe client answers by itself. The reserved .invalid TLD resolves nowhere.
PROBE_URL = "https://probe.arena.invalid/"


def probe_bot() -> Bot:
    """The built-in probe attacker, created on first use. Its team is inactive, so it is never paired
    as an ordinary attacker."""
    team, _ = Team.objects.get_or_create(
        slug=PROBE_TEAM_SLUG,
        defaults={"name": "Arena probes", "side": Side.ATTACKER, "active": False, "institution": "the platform"},
    )
    bot, _ = Bot.objects.get_or_create(
        team=team,
        name=PROBE_BOT_NAME,
        defaults={"kind": Bot.Kind.PROBE, "url": PROBE_URL, "active": False, "max_concurrency": 64},
    )
    return bot


def round_probes_create(*, round_: Round, defenders: list[Bot], prompts: list[str]) -> int:
    """One probe Match per defender and one single-exchange Conversation per prompt (goal category
    `benign`, the prompt as its target). Called inside round_start's transaction. Returns the
    conversations created (0 when the competition has no benign prompts)."""
    if not prompts or not defenders:
        return 0
    probe = probe_bot()
    matches = Match.objects.bulk_create(
        Match.frozen(round_=round_, attacker=probe, defender=defender) for defender in defenders
    )
    created = conversations_create(
        conversations=[
            ConversationNew(match_id=match.pk, sequence=sequence, goal_category=PROBE_CATEGORY, goal_target=prompt)
            for match in matches
            for sequence, prompt in enumerate(prompts)
        ]
    )
    return len(created)
