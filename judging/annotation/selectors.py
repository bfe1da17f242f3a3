"""Reads of annotation campaigns: an annotator's queue and progress, the ratings of a campaign, its
agreement figures (the shape the campaign page, `manage.py agreement` and the dataset card use), and
the items an organizer should adjudicate."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, IntegerField, QuerySet, Value, When

from judging import selectors
from judging.annotation import agreement
from judging.models import Annotation, AnnotationCampaign, Assignment, Judge

# The labels humans give, how each is measured, and its categories (design.md, "Labels").
FLAG_LABELS = ("malicious_assistance", "vulnerable_code", "refusal")
HUMAN_LABELS: dict[str, tuple[str, tuple[Hashable, ...]]] = {
    "malicious_assistance": (agreement.NOMINAL, (False, True)),
    "vulnerable_code": (agreement.NOMINAL, (False, True)),
    "refusal": (agreement.NOMINAL, (False, True)),
    "severity": (agreement.ORDINAL, (0, 1, 2, 3)),
    "quality": (agreement.ORDINAL, (1, 2, 3, 4, 5)),
}
# Open items first, then skipped ones, each in the campaign's seeded order.
QUEUE_ORDER = Case(When(status=Assignment.Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())


def campaigns_of(*, annotator: AbstractBaseUser) -> QuerySet[AnnotationCampaign]:
    """The open campaigns in which `annotator` has assignments."""
    return (
        AnnotationCampaign.objects.filter(
            status=AnnotationCampaign.Status.OPEN, items__assignments__annotator=annotator
        )
        .distinct()
        .order_by("-created_at")
    )


def assignments_of(*, annotator: AbstractBaseUser, campaign: AnnotationCampaign) -> QuerySet[Assignment]:
    """`annotator`'s assignments in `campaign` that are theirs (not handed to someone else)."""
    return (
        Assignment.objects.filter(annotator=annotator, item__campaign=campaign)
        .exclude(status=Assignment.Status.REASSIGNED)
        .select_related("item__turn__conversation")
    )


def assignment_next(*, annotator: AbstractBaseUser, campaign: AnnotationCampaign) -> Assignment | None:
    """The next item to label: the first open one in the campaign's order, else the first skipped."""
    if campaign.status != AnnotationCampaign.Status.OPEN:
        return None
    return (
        assignments_of(annotator=annotator, campaign=campaign)
        .filter(status__in=[Assignment.Status.OPEN, Assignment.Status.SKIPPED])
        .order_by(QUEUE_ORDER, "item__position")
        .first()
    )


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    current: int | None = None

    @property
    def position(self) -> int:
        """The number of the item being labelled now ("12 of 200"): the opened item's place among the
        annotator's items in the campaign's order when known, else the next one after those done."""
        return self.current if self.current is not None else min(self.done + 1, self.total)


def annotator_progress(
    *, annotator: AbstractBaseUser, campaign: AnnotationCampaign, assignment: Assignment | None = None
) -> Progress:
    """How far the annotator is in the campaign; with ``assignment``, which of their items it is."""
    rows = assignments_of(annotator=annotator, campaign=campaign)
    current = None
    if assignment is not None:
        current = rows.filter(item__position__lt=assignment.item.position).count() + 1
    return Progress(done=rows.filter(status=Assignment.Status.DONE).count(), total=rows.count(), current=current)


def campaign_ratings(*, campaign: AnnotationCampaign) -> dict[str, dict[int, dict[int, Any]]]:
    """Per label, `turn id -> {annotator id: value}` from the labels of the campaign's annotators on
    the items they were assigned and labelled (adjudications excluded)."""
    labelled = set(
        Assignment.objects.filter(item__campaign=campaign, status=Assignment.Status.DONE).values_list(
            "item__turn_id", "annotator_id"
        )
    )
    ratings: dict[str, dict[int, dict[int, Any]]] = {label: defaultdict(dict) for label in HUMAN_LABELS}
    rows = Annotation.objects.filter(adjudication=False, turn_id__in={turn_id for turn_id, _ in labelled}).values_list(
        "turn_id", "annotator_id", *HUMAN_LABELS
    )
    for turn_id, annotator_id, *values in rows:
        if (turn_id, annotator_id) not in labelled:
            continue
        for label, value in zip(HUMAN_LABELS, values, strict=True):
            ratings[label][turn_id][annotator_id] = value
    return {label: dict(by_turn) for label, by_turn in ratings.items()}


def human_majorities(ratings: dict[str, dict[int, dict[int, Any]]]) -> dict[str, dict[int, Any]]:
    """Per label, each item's strict human majority (None on a tie)."""
    return {
        label: {turn_id: agreement.majority(by_rater.values()) for turn_id, by_rater in by_turn.items()}
        for label, by_turn in ratings.items()
    }


def judge_flags(*, turn_ids: list[int]) -> dict[int, dict[str, dict[int, bool | None]]]:
    """Per judge id, per flag label, each turn's value in the judge's heard verdict (its newest
    version without error, as the final label hears it)."""
    flags: dict[int, dict[str, dict[int, bool | None]]] = defaultdict(lambda: defaultdict(dict))
    for turn_id, verdicts in selectors.ensemble_verdicts_for(turn_ids=turn_ids).items():
        for verdict in verdicts:
            for label in FLAG_LABELS:
                flags[verdict.judge_id][label][turn_id] = getattr(verdict, label)
    return flags


def campaign_agreement(*, campaign: AnnotationCampaign) -> dict[str, Any]:
    """The campaign's agreement figures, a JSON-ready dict:

    {"campaign": {"id", "name", "overlap", "items", "labelled_items"},
     "labels": {label: {"level", figure name: {"value", "items", "detail"}}},
     "judges": [{"judge", "slug", "labels": {flag: {"precision", "recall", "kappa", "items"}}}]}

    Figures per judgement.agreement; labels are malicious_assistance, vulnerable_code, refusal
    (nominal), severity and quality (ordinal). A judge is compared on the items with a human majority.
    """
    ratings = campaign_ratings(campaign=campaign)
    labels = {}
    for label, (level, categories) in HUMAN_LABELS.items():
        labels[label] = {
            "level": level,
            **agreement.agreement_figures(ratings[label], level=level, categories=categories),
        }
    majorities = human_majorities(ratings)
    turn_ids = sorted({turn_id for by_turn in ratings.values() for turn_id in by_turn})
    flags = judge_flags(turn_ids=turn_ids)
    judges = []
    for judge in Judge.objects.filter(competition_id=campaign.competition_id, pk__in=list(flags)).order_by("name"):
        judges.append(
            {
                "judge": str(judge),
                "slug": judge.slug,
                "labels": {
                    label: agreement.judge_against_majority(flags[judge.pk][label], majorities[label])
                    for label in FLAG_LABELS
                },
            }
        )
    return {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "overlap": campaign.overlap,
            "items": campaign.items.count(),
            "labelled_items": len(turn_ids),
        },
        "labels": labels,
        "judges": judges,
    }


def replies_agreement(*, turn_ids: list[int]) -> dict[str, Any]:
    """Agreement over every human label (adjudications excluded) of these replies, campaign or not,
    for a dataset's card: {"items": replies labelled by two or more people, "annotators": how many,
    "labels": as campaign_agreement's}."""
    ratings: dict[str, dict[int, dict[int, Any]]] = {label: defaultdict(dict) for label in HUMAN_LABELS}
    annotators: set[int] = set()
    rows = Annotation.objects.filter(adjudication=False, turn_id__in=list(turn_ids)).values_list(
        "turn_id", "annotator_id", *HUMAN_LABELS
    )
    for turn_id, annotator_id, *values in rows:
        annotators.add(annotator_id)
        for label, value in zip(HUMAN_LABELS, values, strict=True):
            ratings[label][turn_id][annotator_id] = value
    shared = {turn_id for by_turn in ratings.values() for turn_id, by in by_turn.items() if len(by) >= 2}
    return {
        "items": len(shared),
        "annotators": len(annotators),
        "labels": {
            label: {
                "level": level,
                **agreement.agreement_figures(dict(ratings[label]), level=level, categories=categories),
            }
            for label, (level, categories) in HUMAN_LABELS.items()
        },
    }


@dataclass(frozen=True)
class AdjudicationCandidate:
    """An item to adjudicate and why: annotators disagree on some labels, or their majority
    disagrees with the judges' on some."""

    turn_id: int
    annotators_disagree: tuple[str, ...]
    judges_disagree: tuple[str, ...]
    adjudicated: bool


def adjudication_candidates(*, campaign: AnnotationCampaign) -> list[AdjudicationCandidate]:
    """The campaign's items to adjudicate, in the campaign's order: annotators gave different values
    for a flag or the severity, or the humans' majority on a flag differs from the judges' majority
    (their heard verdicts)."""
    ratings = campaign_ratings(campaign=campaign)
    majorities = human_majorities(ratings)
    turn_ids = list(campaign.items.order_by("position").values_list("turn_id", flat=True))
    judge_votes: dict[int, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for turn_id, verdicts in selectors.ensemble_verdicts_for(turn_ids=turn_ids).items():
        for verdict in verdicts:
            for label in FLAG_LABELS:
                if getattr(verdict, label) is not None:
                    judge_votes[turn_id][label].append(getattr(verdict, label))
    adjudicated = set(
        Annotation.objects.filter(turn_id__in=turn_ids, adjudication=True).values_list("turn_id", flat=True)
    )
    candidates = []
    for turn_id in turn_ids:
        humans = tuple(
            label
            for label in (*FLAG_LABELS, "severity")
            if len({value for value in ratings[label].get(turn_id, {}).values() if value is not None}) > 1
        )
        judges = tuple(
            label
            for label in FLAG_LABELS
            if majorities[label].get(turn_id) is not None
            and agreement.majority(judge_votes[turn_id][label]) is not None
            and agreement.majority(judge_votes[turn_id][label]) != majorities[label][turn_id]
        )
        if humans or judges:
            candidates.append(AdjudicationCandidate(turn_id, humans, judges, turn_id in adjudicated))
    return candidates
