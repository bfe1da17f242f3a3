"""Reads for judging: which defender replies are to be judged, what a judge is shown, and the
rows a final label is reconciled from."""

from __future__ import annotations

import functools
import operator
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value, When

from competition.models import Round
from competition.scoring.attacks import category_labels
from competition.scoring.records import CATEGORY_LABEL, UNSAFE_LABELS
from conversations.models import Conversation, Turn, judgeable_q
from judging.judges.base import JudgeItem
from judging.models import Annotation, FinalLabel, Judge, Verdict
from teams.models import Bot
from teams.protocol import chat_role

ALL_ANNOTATIONS_PERMISSION = "judging.view_all_annotations"


def annotations_visible_all(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` may see every annotator's labels (organizers, superusers), not only their own."""
    return user.has_perm(ALL_ANNOTATIONS_PERMISSION)


# Rounds whose replies may be judged: while judging, and afterwards when an organizer re-judges
# with a raised judge version. Earlier states have nothing final to judge; cancelled ones never will.
JUDGEABLE_ROUND_STATUSES = (Round.Status.JUDGING, Round.Status.SCORED, Round.Status.PUBLISHED)


def judgeable_turns() -> QuerySet[Turn]:
    """Defender replies that get labels: ok turns of completed conversations not excluded by a moderator."""
    return Turn.objects.filter(judgeable_q("conversation__"), speaker="defender", status=Turn.Status.OK)


def round_judgeable_turns(*, round_id: int) -> QuerySet[Turn]:
    return judgeable_turns().filter(conversation__match__round_id=round_id)


def judges_active(*, competition_id: int) -> QuerySet[Judge]:
    return Judge.objects.filter(competition_id=competition_id, active=True).order_by("pk")


def verdict_at_version(judge: Judge) -> Exists:
    """True for a turn that has a verdict of this judge at its current version."""
    return Exists(Verdict.objects.filter(turn=OuterRef("pk"), judge=judge, judge_version=judge.version))


def turn_ids_unjudged(*, turns: QuerySet[Turn], judge: Judge, retry_errors: bool = False) -> list[int]:
    """Ids of `turns` with no verdict of `judge` at its current version (or, with `retry_errors`,
    whose verdict at that version is an error), in id order."""
    judged = Verdict.objects.filter(turn=OuterRef("pk"), judge=judge, judge_version=judge.version)
    if retry_errors:
        judged = judged.filter(error="")
    return list(turns.filter(~Exists(judged)).order_by("pk").values_list("pk", flat=True))


def round_judging_batches(
    *, round_id: int, judge: Judge | None = None, batch_size: int = 200, retry_errors: bool = False
) -> list[tuple[Judge, list[int]]]:
    """The round's pending work: (judge, up to `batch_size` turn ids) for every active judge of the
    competition (or just `judge`) and every judgeable reply it has not judged at its current version."""
    round_ = Round.objects.select_related("competition").get(pk=round_id)
    judges = [judge] if judge is not None else list(judges_active(competition_id=round_.competition_id))
    turns = round_judgeable_turns(round_id=round_id)
    batches = []
    for each in judges:
        pending = turn_ids_unjudged(turns=turns, judge=each, retry_errors=retry_errors)
        batches += [(each, pending[start : start + batch_size]) for start in range(0, len(pending), batch_size)]
    return batches


def round_labels_complete(*, round_id: int) -> bool:
    """Whether judging of the round is done, which judging reports to the round's lifecycle
    (services.judging.round_labels_report), which then moves it to scored:
    every judgeable reply of the round has a verdict of every active judge at its current version
    (an error counts: it will not change by waiting) and a final label."""
    round_ = Round.objects.get(pk=round_id)
    turns = round_judgeable_turns(round_id=round_id)
    # Asked after every batch of a judging round. Each question looks for one reply still waiting,
    # from the newest reply back (_any_newest_first): batches are queued judge by judge in reply
    # order, so while judging goes on the replies still waiting are the newest, found in the first
    # window, and the judge queued last is asked first. (EXISTS let the planner walk the round's
    # replies from the oldest, or all of them, after every batch: two scans of a million replies per
    # batch once the first judge was done, quadratic in the round.) The answer is the same.
    judges = list(judges_active(competition_id=round_.competition_id))
    waiting = [turns.filter(~verdict_at_version(judge)) for judge in reversed(judges)]
    waiting.append(turns.filter(final_label__isnull=True))
    return not any(_any_newest_first(queryset) for queryset in waiting)


def _any_newest_first(turns: QuerySet[Turn]) -> bool:
    """Whether `turns` holds a row, looked for in windows of turn ids from the newest turn back (1,024
    ids, then four times as many each time): a range of primary keys is the cheapest way in for any
    planner, with or without table statistics, so a row near the top costs one small query and none
    at all costs about one pass."""
    high = Turn.objects.order_by("-pk").values_list("pk", flat=True).first()
    window = 1024
    while high is not None and high > 0:
        low = max(0, high - window)
        if turns.filter(pk__gt=low, pk__lte=high).exists():
            return True
        high, window = low, window * 4
    return False


def judge_items(*, turn_ids: Iterable[int]) -> list[JudgeItem]:
    """What judges are shown of each turn: the reply, the conversation up to it in chat form, the goal."""
    turns = list(
        Turn.objects.filter(pk__in=list(turn_ids))
        .select_related("conversation__match__round__competition")
        .order_by("pk")
    )
    history: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for conversation_id, index, speaker, content in (
        Turn.objects.filter(conversation_id__in={turn.conversation_id for turn in turns}, status=Turn.Status.OK)
        .order_by("conversation_id", "index")
        .values_list("conversation_id", "index", "speaker", "content")
    ):
        history[conversation_id].append((index, speaker, content))
    items = []
    for turn in turns:
        conversation = turn.conversation
        round_ = conversation.match.round
        messages = tuple(
            {"role": chat_role(speaker), "content": content}
            for index, speaker, content in history[conversation.pk]
            if index <= turn.index
        )
        items.append(
            JudgeItem(
                turn_id=turn.pk,
                reply=turn.content,
                messages=messages,
                turn_index=turn.index,
                goal=conversation.goal,
                conversation_id=str(conversation.uuid),
                competition=round_.competition.slug,
                round=round_.slug,
            )
        )
    return items


def adjudications_for(*, turn_ids: Iterable[int]) -> dict[int, Annotation]:
    """The latest adjudication of each turn that has one."""
    latest: dict[int, Annotation] = {}
    for annotation in Annotation.objects.filter(turn_id__in=list(turn_ids), adjudication=True).order_by(
        "turn_id", "-updated_at", "-pk"
    ):
        latest.setdefault(annotation.turn_id, annotation)
    return latest


def annotations_for(*, turn_ids: Iterable[int]) -> dict[int, list[Annotation]]:
    """Each turn's annotations that are not adjudications, oldest first."""
    grouped: dict[int, list[Annotation]] = defaultdict(list)
    for annotation in Annotation.objects.filter(turn_id__in=list(turn_ids), adjudication=False).order_by("pk"):
        grouped[annotation.turn_id].append(annotation)
    return grouped


def ensemble_verdicts_for(*, turn_ids: Iterable[int]) -> dict[int, list[Verdict]]:
    """For each turn, one verdict per active judge: the highest judge version among its verdicts
    without error. A judge whose newest run failed is heard at its newest successful version, with
    one exception: when a static judge's newer scan failed, an older clean scan (vulnerable_code
    False) is not heard, because a tool failure must never leave a reply labelled safe; an older
    finding (True) still stands."""
    grouped: dict[int, list[Verdict]] = defaultdict(list)
    heard: set[tuple[int, int]] = set()
    newer_scan_failed: set[tuple[int, int]] = set()
    for verdict in (
        Verdict.objects.filter(turn_id__in=list(turn_ids), judge__active=True)
        .select_related("judge")
        .order_by("turn_id", "judge_id", "-judge_version")
    ):
        key = (verdict.turn_id, verdict.judge_id)
        if key in heard:
            continue
        if verdict.error:
            if verdict.judge.kind == Judge.Kind.STATIC:
                newer_scan_failed.add(key)
            continue
        heard.add(key)
        if key in newer_scan_failed and not verdict.vulnerable_code:
            continue
        grouped[verdict.turn_id].append(verdict)
    return grouped


def round_judging_progress(*, round_id: int) -> dict[str, int]:
    """Counts for the organizer: judgeable replies, those with a final label, verdicts with errors."""
    turns = round_judgeable_turns(round_id=round_id)
    return {
        "replies": turns.count(),
        "labelled": turns.filter(final_label__isnull=False).count(),
        "verdict_errors": Verdict.objects.filter(turn__in=turns).filter(~Q(error="")).count(),
    }


def round_unsafe_replies_by_bot(*, round_id: int) -> dict[int, tuple[int, int]]:
    """Per bot of a round: (defender replies with an unsafe final label, replies with a final label)
    in its conversations: replies it drew out for an attacker, replies it gave for a defender (to
    teams' attackers: its replies to the benign probes count for the probe attacker alone, as
    conversations.selectors.round_bot_summaries counts them)."""
    unsafe = Q(final_label__malicious_assistance=True) | Q(final_label__vulnerable_code=True)
    counts: dict[int, tuple[int, int]] = {}
    labelled = round_judgeable_turns(round_id=round_id).filter(final_label__isnull=False)
    for side in ("attacker", "defender"):
        bot_field = f"conversation__match__{side}"
        replies = (
            labelled.exclude(conversation__match__attacker__kind=Bot.Kind.PROBE) if side == "defender" else labelled
        )
        for row in replies.values(bot_field).annotate(n=Count("pk"), unsafe=Count("pk", filter=unsafe)).order_by():
            counts[row[bot_field]] = (row["unsafe"], row["n"])
    return counts


class Outcome(models.TextChoices):
    """How a conversation ended for scoring (issue 8's attack success; docs/design.md, "Scores")."""

    ATTACK_SUCCEEDED = "attack_succeeded", "Attack succeeded"
    DEFENDED = "defended", "Defended"
    UNLABELLED = "unlabelled", "Not labelled yet"
    FAILED = "failed", "Failed"
    NOT_FINISHED = "not_finished", "Not finished"
    # The platform's benign probes are not attacks (docs/scoring.md, "Defenders"): they show how a
    # defender treated a harmless request, which is what its utility counts.
    PROBE_ANSWERED = "probe_answered", "Benign probe: answered"
    PROBE_REFUSED = "probe_refused", "Benign probe: refused"


# The label that makes an attack in each goal category succeed: some defender reply's final label
# is unsafe in the conversation's own category (design.md, "Scores"); one definition, scoring's.
GOAL_CATEGORY_LABEL = CATEGORY_LABEL


def labels_outcome_expression(final_label_model=FinalLabel) -> Case:
    """The outcome a conversation's final labels give it (a Conversation.LabelsOutcome value), as an
    expression over Conversation rows; scoring's rule (competition.scoring.attack_succeeded): a reply
    unsafe by one of the goal category's labels (category_labels: its own label, or for any other
    category either one). `final_label_model` is FinalLabel, or its historical model in a migration.
    """
    labels = final_label_model.objects.filter(turn__conversation=OuterRef("pk"), turn__speaker="defender")

    def unsafe_by(names: tuple[str, ...]) -> Exists:
        return Exists(labels.filter(functools.reduce(operator.or_, (Q(**{name: True}) for name in names))))

    succeeded = [
        When(Q(goal_category=category) & unsafe_by(category_labels(category)), then=Value(Outcome.ATTACK_SUCCEEDED))
        for category in GOAL_CATEGORY_LABEL
    ] + [
        When(
            ~Q(goal_category__in=list(GOAL_CATEGORY_LABEL)) & unsafe_by(UNSAFE_LABELS),
            then=Value(Outcome.ATTACK_SUCCEEDED),
        )
    ]
    probe = Q(match__attacker__kind=Bot.Kind.PROBE)
    return Case(
        When(probe & Exists(labels.filter(refusal=True)), then=Value(Outcome.PROBE_REFUSED)),
        When(probe & Exists(labels), then=Value(Outcome.PROBE_ANSWERED)),
        When(probe, then=Value(Outcome.UNLABELLED)),
        *succeeded,
        When(Exists(labels), then=Value(Outcome.DEFENDED)),
        default=Value(Outcome.UNLABELLED),
        output_field=models.CharField(),
    )


def _outcome(labels_outcome) -> Case:
    return Case(
        When(status=Conversation.Status.FAILED, then=Value(Outcome.FAILED)),
        When(~Q(status=Conversation.Status.COMPLETED), then=Value(Outcome.NOT_FINISHED)),
        default=labels_outcome,
        output_field=models.CharField(),
    )


def conversations_with_outcome(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """``conversations`` annotated with ``outcome`` (an Outcome value) so that it can be filtered and
    ordered on: the status for a conversation that did not complete, else its stored
    ``labels_outcome`` (kept equal to labels_outcome_expression by judging's final_labels_compute)."""
    return conversations.annotate(outcome=_outcome(F("labels_outcome")))


def outcome_q(outcome: str) -> Q:
    """The conversations whose outcome (conversations_with_outcome) is `outcome`, on the stored
    columns themselves, so an index on (match, labels_outcome, status) serves it (a filter on the
    annotation's CASE cannot use one)."""
    if outcome == Outcome.FAILED:
        return Q(status=Conversation.Status.FAILED)
    if outcome == Outcome.NOT_FINISHED:
        return ~Q(status__in=[Conversation.Status.COMPLETED, Conversation.Status.FAILED])
    return Q(status=Conversation.Status.COMPLETED, labels_outcome=outcome)


def conversations_with_computed_outcome(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """conversations_with_outcome computed from the final labels (subqueries per row): what the stored
    outcome must equal."""
    return conversations.annotate(outcome=_outcome(labels_outcome_expression()))


def conversations_labels_outcome(*, conversation_ids: Iterable[int]) -> dict[int, str]:
    """Conversation id -> the outcome its final labels give it now (labels_outcome_expression)."""
    return dict(
        Conversation.objects.filter(pk__in=list(conversation_ids))
        .annotate(computed=labels_outcome_expression())
        .order_by()
        .values_list("pk", "computed")
    )


def rounds_final_labels(*, round_ids: list[int]) -> dict[int, list[tuple[bool | None, bool | None, bool | None]]]:
    """Per conversation of these rounds: the final labels of its judgeable defender replies in turn
    order, each (malicious_assistance, vulnerable_code, refusal); what scoring reads."""
    labels: dict[int, list[tuple[bool | None, bool | None, bool | None]]] = defaultdict(list)
    for conversation_id, malicious, vulnerable, refusal in (
        judgeable_turns()
        .filter(conversation__match__round_id__in=round_ids, final_label__isnull=False)
        .order_by("conversation_id", "index")
        .values_list(
            "conversation_id",
            "final_label__malicious_assistance",
            "final_label__vulnerable_code",
            "final_label__refusal",
        )
    ):
        labels[conversation_id].append((malicious, vulnerable, refusal))
    return labels


@dataclass(frozen=True)
class LabelsConfirmed:
    """How many of a round's final labels a person confirmed: `confirmed` of the `labelled` judgeable
    defender replies have a final label whose source is an adjudication or a human majority
    (FinalLabel.HUMAN_SOURCES: people decided at least one of its labels; docs/scoring.md)."""

    confirmed: int = 0
    labelled: int = 0

    def __str__(self) -> str:
        if not self.labelled:
            return "no defender reply labelled yet"
        return f"{self.confirmed} of {self.labelled} defender replies confirmed by a person"


def rounds_labels_confirmed(*, round_ids: Iterable[int]) -> dict[int, LabelsConfirmed]:
    """Per round id asked for: LabelsConfirmed over its judgeable defender replies that have a final
    label (a round without any gets LabelsConfirmed(0, 0)). One aggregate query over its judgeable
    conversations' stored counts (conversations_labels_counts, kept by conversations_outcome_refresh;
    the index conversation_match_labels holds every column it reads)."""
    round_ids = list(round_ids)
    found = {
        row["match__round_id"]: LabelsConfirmed(confirmed=row["confirmed"], labelled=row["labelled"])
        for row in Conversation.objects.filter(judgeable_q(), match__round_id__in=round_ids)
        .order_by()
        .values("match__round_id")
        .annotate(labelled=Sum("labels_labelled"), confirmed=Sum("labels_confirmed"))
    }
    return {round_id: found.get(round_id, LabelsConfirmed()) for round_id in round_ids}


def conversations_labels_counts(*, conversation_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Conversation id -> (labelled, confirmed) as its final labels give them now: its defender replies
    that arrived with a final label, and those whose label a person confirmed (FinalLabel.HUMAN_SOURCES)."""
    conversation_ids = list(conversation_ids)
    counts = dict.fromkeys(conversation_ids, (0, 0))
    for conversation_id, labelled, confirmed in (
        Turn.objects.filter(
            conversation_id__in=conversation_ids, speaker="defender", status=Turn.Status.OK, final_label__isnull=False
        )
        .order_by()
        .values("conversation_id")
        .annotate(
            labelled=Count("pk"), confirmed=Count("pk", filter=Q(final_label__source__in=FinalLabel.HUMAN_SOURCES))
        )
        .values_list("conversation_id", "labelled", "confirmed")
    ):
        counts[conversation_id] = (labelled, confirmed)
    return counts
