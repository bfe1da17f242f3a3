"""Reads about conversations that build pages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Avg, Case, Count, F, Max, Q, QuerySet, Value, When
from django.utils import timezone

from competition.models import BotCircuit, Match, Round
from conversations.models import Conversation, Turn
from teams.models import Bot, Membership

# A benign probe: a conversation the platform's probe attacker plays to a defender
# (competition/pipeline/probes.py), not a match between two teams' bots.
PROBE = Q(match__attacker__kind=Bot.Kind.PROBE)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 'es' if word.endswith('ch') else 's'}"


@dataclass(frozen=True)
class RoundCounts:
    """A round's matches and conversations between teams' bots, and the benign probes apart."""

    matches: int
    conversations: int
    conversations_finished: int
    probe_matches: int
    probes: int
    probes_finished: int

    def text(self) -> str:
        """'12 matches, 24 conversations and 24 benign probes': the words of the pages and the demo."""
        text = f"{_plural(self.matches, 'match')}, {_plural(self.conversations, 'conversation')}"
        return text + (f" and {_plural(self.probes, 'benign probe')}" if self.probes else "")


def round_counts(*, round_id: int) -> RoundCounts:
    """The round's matches, conversations and benign probes, each with how many finished (two queries)."""
    finished = Q(status__in=Conversation.FINISHED_STATUSES)
    counts = Conversation.objects.filter(match__round_id=round_id).aggregate(
        conversations=Count("pk", filter=~PROBE),
        conversations_finished=Count("pk", filter=~PROBE & finished),
        probes=Count("pk", filter=PROBE),
        probes_finished=Count("pk", filter=PROBE & finished),
    )
    matches = Match.objects.filter(round_id=round_id).aggregate(
        matches=Count("pk", filter=~Q(attacker__kind=Bot.Kind.PROBE)),
        probe_matches=Count("pk", filter=Q(attacker__kind=Bot.Kind.PROBE)),
    )
    return RoundCounts(**counts, **matches)


@dataclass(frozen=True)
class RoundProgress:
    round: Round
    counted: RoundCounts
    counts: dict[str, int]
    total: int
    finished: int
    turns: int
    turns_last_minute: int
    turns_per_second: float
    failures: list[dict]
    recent_failures: list[Conversation]
    open_circuits: list[BotCircuit]

    @property
    def rerun_refusal(self) -> str:
        """Why failed conversations cannot be re-run now, and what can be done instead ("" when they can)."""
        return self.round.rerun_refusal()

    @property
    def percent(self) -> int:
        return int(100 * self.finished / self.total) if self.total else 0


def round_progress(*, round_id: int) -> RoundProgress:
    """Counts by status, throughput and recent failures of one round, for the organizers' progress page."""
    round_ = Round.objects.select_related("competition").get(pk=round_id)
    conversations = Conversation.objects.filter(match__round_id=round_id)
    counts = {status: 0 for status in Conversation.Status.values}
    counts.update(
        {row["status"]: row["n"] for row in conversations.values("status").annotate(n=Count("pk")).order_by()}
    )
    turns = Turn.objects.filter(conversation__match__round_id=round_id)
    since = timezone.now() - timedelta(seconds=60)
    last_minute = turns.filter(created_at__gte=since).count()
    failed_bot = Case(When(failure_side="attacker", then=F("match__attacker_id")), default=F("match__defender_id"))
    failures = list(
        conversations.filter(status=Conversation.Status.FAILED)
        .annotate(bot_id=failed_bot)
        .values("bot_id", "failure_side", "failure_kind")
        .annotate(n=Count("pk"), last=Max("ended_at"))
        .order_by("-last")[:20]
    )
    bots = Bot.objects.select_related("team").in_bulk([row["bot_id"] for row in failures])
    for row in failures:
        row["bot"] = bots.get(row["bot_id"])
    finished = sum(counts[s] for s in Conversation.FINISHED_STATUSES)
    return RoundProgress(
        round=round_,
        counted=round_counts(round_id=round_id),
        counts=counts,
        total=sum(counts.values()),
        finished=finished,
        turns=turns.count(),
        turns_last_minute=last_minute,
        turns_per_second=round(last_minute / 60, 2),
        failures=failures,
        recent_failures=list(
            conversations.filter(status=Conversation.Status.FAILED)
            .select_related("match__attacker__team", "match__defender__team")
            .order_by("-ended_at")[:10]
        ),
        open_circuits=list(
            BotCircuit.objects.filter(round_id=round_id, opened_at__isnull=False).select_related("bot__team")
        ),
    )


@dataclass(frozen=True)
class BotRoundSummary:
    bot: Bot
    side: str
    conversations: int
    completed: int
    failed: int
    turns: int
    failed_calls: int
    mean_latency_ms: float | None


def round_bot_summaries(*, round_id: int) -> list[BotRoundSummary]:
    """Per bot of a round: its conversations by outcome, its turns, failed calls and mean latency.
    A defender's leave out the benign probes, which the probe attacker's own summary counts (as the
    leaderboard counts a defender's games apart from its probes)."""
    summaries = []
    for side in ("attacker", "defender"):
        bot_field = f"match__{side}"
        played = Conversation.objects.filter(match__round_id=round_id)
        turns_played = Turn.objects.filter(conversation__match__round_id=round_id, speaker=side)
        if side == "defender":
            played = played.exclude(PROBE)
            turns_played = turns_played.exclude(conversation__match__attacker__kind=Bot.Kind.PROBE)
        conversation_rows = {
            row[bot_field]: row
            for row in played.values(bot_field)
            .annotate(
                n=Count("pk"),
                completed=Count("pk", filter=Q(status=Conversation.Status.COMPLETED)),
                failed=Count("pk", filter=Q(status=Conversation.Status.FAILED)),
            )
            .order_by()
        }
        turn_rows = {
            row[f"conversation__{bot_field}"]: row
            for row in turns_played.values(f"conversation__{bot_field}")
            .annotate(
                ok=Count("pk", filter=Q(status=Turn.Status.OK)),
                failed=Count("pk", filter=~Q(status=Turn.Status.OK)),
                latency=Avg("latency_ms", filter=Q(status=Turn.Status.OK)),
            )
            .order_by()
        }
        bots = Bot.objects.select_related("team").in_bulk(list(conversation_rows))
        for bot_id, row in sorted(conversation_rows.items(), key=lambda item: str(bots[item[0]])):
            turns = turn_rows.get(bot_id, {})
            summaries.append(
                BotRoundSummary(
                    bot=bots[bot_id],
                    side=side,
                    conversations=row["n"],
                    completed=row["completed"],
                    failed=row["failed"],
                    turns=turns.get("ok", 0),
                    failed_calls=turns.get("failed", 0),
                    mean_latency_ms=turns.get("latency"),
                )
            )
    return summaries


def play_left() -> bool:
    """Whether a conversation of a running round is still to play (pending, or running: held by a
    player now, or by a dead one whose claim the reaper hands back)."""
    return Conversation.objects.unfinished().filter(match__round__status=Round.Status.RUNNING).exists()


def claim_candidates(
    *, exclude_ids: Iterable[int], limit: int
) -> list[tuple[int, int, int, int | None, int | None, bool]]:
    """Claimable conversations of running rounds, rounds' before practice matches' (a practice match
    takes a bot's slots only when no round's conversation wants them), then lowest sequence first,
    without `exclude_ids`, at most `limit`: (id, attacker bot id, defender bot id, the bots' frozen
    max_concurrency, and whether it is a practice match's)."""
    practice_last = Case(When(match__round__kind=Round.Kind.PRACTICE_MATCH, then=Value(1)), default=Value(0))
    return list(
        Conversation.objects.claimable(now=timezone.now())
        .filter(match__round__status=Round.Status.RUNNING)
        .exclude(pk__in=list(exclude_ids))
        .annotate(practice=practice_last)
        .order_by("practice", "sequence", "match_id")
        .values_list(
            "pk",
            "match__attacker_id",
            "match__defender_id",
            "match__attacker_snapshot__max_concurrency",
            "match__defender_snapshot__max_concurrency",
            "practice",
        )[:limit]
    )


def conversations_with_turns(*, conversation_ids: Iterable[int]) -> list[tuple[Conversation, list[Turn]]]:
    """Each conversation (match, round and competition loaded) with its stored turns in index order."""
    ids = list(conversation_ids)
    conversations = list(Conversation.objects.filter(pk__in=ids).select_related("match__round__competition"))
    turns_by_conversation: dict[int, list[Turn]] = {}
    for turn in Turn.objects.filter(conversation_id__in=ids).order_by("conversation_id", "index"):
        turns_by_conversation.setdefault(turn.conversation_id, []).append(turn)
    return [(conversation, turns_by_conversation.get(conversation.pk, [])) for conversation in conversations]


# Past this many visible matches the ids are not listed in the query (match_ids_first): a subquery.
_MATCH_IDS_LISTED = 2_000


def _matches_visible_q(team_ids: QuerySet, prefix: str = "") -> Q:
    """The matches of these teams a member reads: their bots' in published rounds, and the practice
    matches their teams asked for (never the opponent team's). `prefix` is the path to the match."""
    published = Q(
        Q(**{f"{prefix}attacker__team_id__in": team_ids}) | Q(**{f"{prefix}defender__team_id__in": team_ids}),
        **{f"{prefix}round__status": Round.Status.PUBLISHED, f"{prefix}round__kind": Round.Kind.ROUND},
    )
    # A practice match is its asking team's alone, from its start: not the opponent's team.
    practice = Q(
        **{f"{prefix}round__kind": Round.Kind.PRACTICE_MATCH, f"{prefix}round__practice_match__team_id__in": team_ids}
    )
    return published | practice


def conversations_visible_to(*, user, match_ids_first: bool = False) -> QuerySet[Conversation]:
    """The conversations ``user`` may read outside the admin.

    Organizers (who may view matches, i.e. who played whom) read every conversation. A team member
    reads the conversations of their teams' bots in published rounds, and of the practice matches
    their teams asked for (never another team's, whoever's bot was the opponent), except those a
    moderator hid from teams. Anonymous users read none.

    With `match_ids_first`, a team member's visible matches are read first (one query) and the
    conversations filtered by their ids: PostgreSQL cannot tell from the rule how few of the
    conversations those matches hold (it guessed 22 of 25 matches for a team's 5), so it scanned and
    sorted every conversation for a page that the (match, created_at) index answers from the team's
    own (bench/pages.py, 200,000 conversations: 50 ms against 16 ms per query).
    """
    if not user.is_authenticated:
        return Conversation.objects.none()
    conversations = Conversation.objects.all()
    if user.has_perm("competition.view_match"):
        return conversations
    team_ids = Membership.objects.filter(user=user).values("team_id")
    visible = _matches_visible_q(team_ids, "match__")
    if match_ids_first:
        match_ids = Match.objects.filter(_matches_visible_q(team_ids)).values_list("pk", flat=True)
        listed = list(match_ids[: _MATCH_IDS_LISTED + 1])
        if len(listed) <= _MATCH_IDS_LISTED:
            visible = Q(match_id__in=listed)
    return conversations.filter(visible).exclude(moderation=Conversation.Moderation.HIDDEN)


@dataclass(frozen=True)
class ScoringConversation:
    """What scoring reads of one finished conversation (competition/pipeline/scoring.py)."""

    id: int
    attacker_id: int
    defender_id: int
    attacker_kind: str
    category: str
    status: str
    failure_side: str
    attacker_text: str
    attacker_calls: int
    defender_calls: int


def round_scoring_conversations(*, round_ids: list[int], with_text: bool = True) -> list[ScoringConversation]:
    """The completed and failed conversations of these rounds that a moderator did not exclude, with
    their attacker's messages joined (when `with_text`) and each side's answered calls (ok turns)."""
    rows = list(
        Conversation.objects.filter(
            match__round_id__in=round_ids, status__in=[Conversation.Status.COMPLETED, Conversation.Status.FAILED]
        )
        .exclude(moderation=Conversation.Moderation.EXCLUDED)
        .order_by("pk")
        .values_list(
            "pk",
            "match__attacker_id",
            "match__defender_id",
            "match__attacker__kind",
            "goal_category",
            "status",
            "failure_side",
        )
    )
    texts: dict[int, list[str]] = {}
    calls: dict[tuple[int, str], int] = {}
    turns = Turn.objects.filter(conversation__match__round_id__in=round_ids, status=Turn.Status.OK)
    for conversation_id, speaker, n in (
        turns.values_list("conversation_id", "speaker").annotate(n=Count("pk")).order_by()
    ):
        calls[(conversation_id, speaker)] = n
    if with_text:
        for conversation_id, content in (
            turns.filter(speaker="attacker")
            .order_by("conversation_id", "index")
            .values_list("conversation_id", "content")
        ):
            texts.setdefault(conversation_id, []).append(content)
    return [
        ScoringConversation(
            id=pk,
            attacker_id=attacker_id,
            defender_id=defender_id,
            attacker_kind=kind or "",
            category=category,
            status=status,
            failure_side=failure_side,
            attacker_text="\n".join(texts.get(pk, [])),
            attacker_calls=calls.get((pk, "attacker"), 0),
            defender_calls=calls.get((pk, "defender"), 0),
        )
        for pk, attacker_id, defender_id, kind, category, status, failure_side in rows
    ]
