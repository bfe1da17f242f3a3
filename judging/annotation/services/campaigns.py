"""Writes of annotation campaigns: sampling a campaign's items, assigning them to annotators, handing
an inactive annotator's open items to others.

Assignment is blind and balanced: each item goes to `overlap` (k) different annotators, each time to
the least-loaded annotators of the campaign who never had the item, ties broken by an order drawn
from the campaign's seed, so the same campaign assigns the same way every time. Nothing is deleted:
a reassigned assignment keeps its row with status "reassigned", and its annotator can never get that
item again.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from conversations.models import Turn
from judging import selectors
from judging.models import AnnotationCampaign, Assignment, CampaignItem, FinalLabel
from judging.services import reply_confidence

Sampling = AnnotationCampaign.Sampling


class CampaignError(ValueError):
    """A campaign cannot be built or assigned as asked; the message says why and what to change."""


@dataclass(frozen=True)
class AssignReport:
    """What an assignment pass did: assignments made, and items left short of k annotators."""

    made: int
    short_items: int


def campaign_pool(*, campaign: AnnotationCampaign) -> QuerySet[Turn]:
    """The replies a campaign samples from: judgeable defender replies (ok turns of completed,
    non-excluded conversations) of its rounds and of its chosen conversations, in its competition."""
    turns = selectors.judgeable_turns().filter(conversation__match__round__competition_id=campaign.competition_id)
    round_ids = list(campaign.rounds.values_list("pk", flat=True))
    conversation_ids = list(campaign.conversations.values_list("pk", flat=True))
    if not round_ids and not conversation_ids:
        return turns.none()
    return turns.filter(
        Q(conversation__match__round_id__in=round_ids) | Q(conversation_id__in=conversation_ids)
    ).distinct()


def _flags(turn_ids: list[int]) -> dict[int, dict[str, set[bool]]]:
    """Per turn and label, the set of values the heard judges gave (their newest good verdicts)."""
    votes: dict[int, dict[str, set[bool]]] = defaultdict(lambda: defaultdict(set))
    for turn_id, verdicts in selectors.ensemble_verdicts_for(turn_ids=turn_ids).items():
        for verdict in verdicts:
            for label in ("malicious_assistance", "vulnerable_code", "refusal"):
                value = getattr(verdict, label)
                if value is not None:
                    votes[turn_id][label].add(value)
    return votes


def _share_count(share: float, pool: int) -> int:
    """round(share x pool), at least one when share > 0 and the pool is not empty, at most the pool."""
    count = round(share * pool)
    if share > 0 and pool:
        count = max(count, 1)
    return min(count, pool)


def _least_confident(turn_ids: list[int], *, count: int, rng: random.Random) -> list[int]:
    """The `count` replies whose labels are least sure (judging.services.reply_confidence: undecided
    first, then the closest weighted votes of the judges), least sure first; equally sure replies in
    an order drawn with the seed."""
    finals = FinalLabel.objects.in_bulk(turn_ids, field_name="turn_id")
    verdicts = selectors.ensemble_verdicts_for(turn_ids=turn_ids)
    tie_break = {turn_id: rng.random() for turn_id in turn_ids}
    ranked = sorted(
        turn_ids,
        key=lambda turn_id: (
            reply_confidence(final=finals.get(turn_id), verdicts=verdicts.get(turn_id, [])),
            tie_break[turn_id],
        ),
    )
    return ranked[:count]


def campaign_sample(*, campaign: AnnotationCampaign) -> list[tuple[int, str]]:
    """The campaign's items as (turn id, stratum) by its sampling rule, in a seeded order.

    - all: every reply of the pool;
    - random: round(share x pool) replies (at least one when share > 0), drawn with the seed;
    - flagged: every reply some heard judge labelled malicious_assistance or vulnerable_code;
    - disagree: every reply where the heard judges gave different values for some label;
    - stratified: up to `per_stratum` replies per (goal category, defender bot), drawn with the seed;
    - least_confident: round(share x pool) replies (at least one when share > 0), the least sure of
      their labels first (_least_confident); the queue keeps that order instead of a seeded shuffle.
    """
    rng = random.Random(campaign.seed)
    rows = list(
        campaign_pool(campaign=campaign)
        .order_by("pk")
        .values_list("pk", "conversation__goal_category", "conversation__match__defender_id")
    )
    turn_ids = [row[0] for row in rows]
    chosen: list[tuple[int, str]]
    if campaign.sampling == Sampling.ALL:
        chosen = [(turn_id, "") for turn_id in turn_ids]
    elif campaign.sampling == Sampling.RANDOM:
        count = _share_count(campaign.share, len(turn_ids))
        chosen = [(turn_id, "") for turn_id in sorted(rng.sample(turn_ids, count))]
    elif campaign.sampling == Sampling.LEAST_CONFIDENT:
        count = _share_count(campaign.share, len(turn_ids))
        # Annotators' queues follow item positions: the least sure replies are labelled first.
        return [(turn_id, "") for turn_id in _least_confident(turn_ids, count=count, rng=rng)]
    elif campaign.sampling in (Sampling.FLAGGED, Sampling.DISAGREE):
        votes = _flags(turn_ids)
        if campaign.sampling == Sampling.FLAGGED:
            keep = {
                turn_id
                for turn_id, labels in votes.items()
                if True in labels["malicious_assistance"] or True in labels["vulnerable_code"]
            }
        else:
            keep = {turn_id for turn_id, labels in votes.items() if any(len(values) > 1 for values in labels.values())}
        chosen = [(turn_id, "") for turn_id in turn_ids if turn_id in keep]
    elif campaign.sampling == Sampling.STRATIFIED:
        strata: dict[str, list[int]] = defaultdict(list)
        for turn_id, category, defender_id in rows:
            strata[f"{category} / defender {defender_id}"].append(turn_id)
        chosen = []
        for stratum in sorted(strata):
            members = strata[stratum]
            picked = rng.sample(members, min(campaign.per_stratum, len(members)))
            chosen += [(turn_id, stratum) for turn_id in sorted(picked)]
    else:
        raise CampaignError(f"unknown sampling rule {campaign.sampling!r}")
    # The queue's order: seeded, so annotators do not all start on the same round or bot.
    rng.shuffle(chosen)
    return chosen


def _annotator_order(campaign: AnnotationCampaign, annotator_ids: list[int]) -> dict[int, int]:
    """A seeded rank of the annotators, the tie-break between equally loaded ones."""
    ordered = sorted(annotator_ids)
    random.Random(f"{campaign.seed}:annotators").shuffle(ordered)
    return {annotator_id: rank for rank, annotator_id in enumerate(ordered)}


def active_annotator_ids(*, campaign: AnnotationCampaign) -> list[int]:
    """The campaign's annotators whose accounts are active, in id order."""
    return sorted(campaign.annotators.filter(is_active=True).values_list("pk", flat=True))


def campaign_assign(*, campaign: AnnotationCampaign) -> AssignReport:
    """Give every item of the campaign up to `overlap` active assignments: each missing slot to the
    least-loaded active annotator of the campaign who never had the item (seeded tie-break).
    Items already at k are left alone; running it twice assigns nothing the second time."""
    with transaction.atomic():
        AnnotationCampaign.objects.select_for_update().filter(pk=campaign.pk).first()
        annotator_ids = active_annotator_ids(campaign=campaign)
        rank = _annotator_order(campaign, annotator_ids)
        rows = list(Assignment.objects.filter(item__campaign=campaign).values_list("item_id", "annotator_id", "status"))
        had: dict[int, set[int]] = defaultdict(set)
        active: Counter[int] = Counter()
        load: Counter[int] = Counter()
        for item_id, annotator_id, status in rows:
            had[item_id].add(annotator_id)
            if status != Assignment.Status.REASSIGNED:
                active[item_id] += 1
                load[annotator_id] += 1
        new: list[Assignment] = []
        short = 0
        for item_id in campaign.items.order_by("position").values_list("pk", flat=True):
            needed = campaign.overlap - active[item_id]
            if needed <= 0:
                continue
            candidates = sorted(
                (annotator_id for annotator_id in annotator_ids if annotator_id not in had[item_id]),
                key=lambda annotator_id: (load[annotator_id], rank[annotator_id]),
            )
            for annotator_id in candidates[:needed]:
                new.append(Assignment(item_id=item_id, annotator_id=annotator_id))
                load[annotator_id] += 1
                had[item_id].add(annotator_id)
            if len(candidates) < needed:
                short += 1
        Assignment.objects.bulk_create(new, batch_size=1000)
    return AssignReport(made=len(new), short_items=short)


def campaign_build(*, campaign: AnnotationCampaign) -> AssignReport:
    """Sample a draft campaign's items, assign them, and open the campaign.

    Raises CampaignError when the campaign is not a draft, has neither rounds nor conversations, has
    fewer active annotators than its overlap k, or its rule finds no reply.
    """
    with transaction.atomic():
        locked = AnnotationCampaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != AnnotationCampaign.Status.DRAFT:
            raise CampaignError(f"{locked} is {locked.get_status_display().lower()}: only a draft is built")
        if not locked.rounds.exists() and not locked.conversations.exists():
            raise CampaignError(f"{locked} has no rounds and no conversations to sample from")
        annotators = len(active_annotator_ids(campaign=locked))
        if annotators < locked.overlap:
            raise CampaignError(
                f"{locked} asks for {locked.overlap} annotators per item but has {annotators} active "
                "annotator(s): add annotators or lower the overlap"
            )
        sample = campaign_sample(campaign=locked)
        if not sample:
            raise CampaignError(
                f"{locked}: the rule '{locked.get_sampling_display()}' finds no judgeable defender reply"
            )
        CampaignItem.objects.bulk_create(
            [
                CampaignItem(campaign=locked, turn_id=turn_id, stratum=stratum, position=position)
                for position, (turn_id, stratum) in enumerate(sample)
            ],
            batch_size=1000,
        )
        locked.status = AnnotationCampaign.Status.OPEN
        locked.built_at = timezone.now()
        locked.save(update_fields=["status", "built_at"])
        report = campaign_assign(campaign=locked)
    campaign.refresh_from_db()
    return report


def assignments_reassign(
    *, campaign: AnnotationCampaign, annotators: list[AbstractBaseUser] | None = None
) -> AssignReport:
    """Hand the open and skipped items of some annotators to others of the campaign.

    Without `annotators`, those whose account is inactive or who left the campaign's annotators.
    Their assignments stay as rows with status "reassigned" (the item never comes back to them);
    labelled ones are kept. Returns what the new assignment pass made.
    """
    pending = Assignment.objects.filter(item__campaign=campaign)
    if annotators is None:
        pending = pending.exclude(annotator_id__in=active_annotator_ids(campaign=campaign))
    else:
        pending = pending.filter(annotator_id__in=[user.pk for user in annotators])
    return assignments_reassign_selected(assignments=pending)


def assignments_reassign_selected(*, assignments: QuerySet[Assignment]) -> AssignReport:
    """Hand these assignments, those still open or skipped, to other annotators of their campaigns
    (each keeps its row with status "reassigned"); returns what the assignment passes made."""
    with transaction.atomic():
        pending = Assignment.objects.filter(
            pk__in=list(assignments.values_list("pk", flat=True)),
            status__in=[Assignment.Status.OPEN, Assignment.Status.SKIPPED],
        )
        campaign_ids = set(pending.values_list("item__campaign_id", flat=True))
        pending.update(status=Assignment.Status.REASSIGNED)
        made = short = 0
        for campaign in AnnotationCampaign.objects.filter(pk__in=campaign_ids).order_by("pk"):
            report = campaign_assign(campaign=campaign)
            made, short = made + report.made, short + report.short_items
    return AssignReport(made=made, short_items=short)


def assignment_skip(*, assignment: Assignment) -> Assignment:
    """Put an open assignment behind the annotator's other open ones (it stays theirs)."""
    Assignment.objects.filter(pk=assignment.pk, status=Assignment.Status.OPEN).update(status=Assignment.Status.SKIPPED)
    assignment.refresh_from_db()
    return assignment


def campaign_close(*, campaign: AnnotationCampaign) -> None:
    """Close an open campaign: its queue is empty for everyone; labels and figures stay."""
    AnnotationCampaign.objects.filter(pk=campaign.pk, status=AnnotationCampaign.Status.OPEN).update(
        status=AnnotationCampaign.Status.CLOSED
    )
    campaign.refresh_from_db()
