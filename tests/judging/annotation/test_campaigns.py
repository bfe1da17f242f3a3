"""Annotation campaigns: sampling, blind and balanced assignment, reassignment, labels and adjudication."""

from collections import Counter

import pytest

from judging.annotation import selectors as campaign_selectors
from judging.annotation.services.campaigns import (
    CampaignError,
    assignment_skip,
    assignments_reassign,
    campaign_assign,
    campaign_build,
)
from judging.models import AnnotationCampaign, Assignment, CampaignItem, FinalLabel, Verdict
from judging.services.annotations import HumanLabels, LabelError, adjudication_set, annotation_submit
from judging.services.final_labels import final_labels_compute
from tests.cast import verdict_make
from tests.judging.annotation.campaign_cast import annotators_make, campaign_make, judge_make, replies_make

pytestmark = pytest.mark.django_db
Sampling = AnnotationCampaign.Sampling


def assignment_map(campaign):
    return sorted(
        Assignment.objects.filter(item__campaign=campaign).values_list("item__turn_id", "annotator__username", "status")
    )


def test_it_gives_each_item_k_distinct_annotators_balanced(arena):
    replies = replies_make(arena, per_stratum=3)
    annotators = [arena.annie, *annotators_make("ben", "cleo", "dora")]
    campaign = campaign_make(arena, annotators, overlap=3)

    report = campaign_build(campaign=campaign)

    assert campaign.status == AnnotationCampaign.Status.OPEN
    assert campaign.items.count() == len(replies) == 12
    assert report.made == 36 and report.short_items == 0
    for item in campaign.items.all():
        names = list(item.assignments.values_list("annotator__username", flat=True))
        assert len(names) == 3 and len(set(names)) == 3
    loads = Counter(Assignment.objects.filter(item__campaign=campaign).values_list("annotator__username", flat=True))
    assert set(loads) == {"annie", "ben", "cleo", "dora"}
    assert max(loads.values()) - min(loads.values()) <= 1
    # A second pass has nothing to do.
    assert campaign_assign(campaign=campaign).made == 0


def test_it_assigns_the_same_way_for_the_same_seed_and_otherwise_for_another(arena):
    replies_make(arena, per_stratum=3)
    annotators = [arena.annie, *annotators_make("ben", "cleo", "dora")]
    first = campaign_make(arena, annotators, name="one", overlap=2, seed=7)
    second = campaign_make(arena, annotators, name="two", overlap=2, seed=7)
    third = campaign_make(arena, annotators, name="three", overlap=2, seed=8)
    for campaign in (first, second, third):
        campaign_build(campaign=campaign)
    assert assignment_map(first) == assignment_map(second)
    order = [list(c.items.order_by("position").values_list("turn_id", flat=True)) for c in (first, second, third)]
    assert order[0] == order[1] != order[2]


def test_it_refuses_an_overlap_above_the_active_annotators(arena):
    replies_make(arena, per_stratum=1)
    ben = annotators_make("ben")[0]
    ben.is_active = False
    ben.save()
    campaign = campaign_make(arena, [arena.annie, ben], overlap=2)
    with pytest.raises(CampaignError, match="asks for 2 annotators per item but has 1 active"):
        campaign_build(campaign=campaign)
    assert not CampaignItem.objects.exists()
    campaign.refresh_from_db()
    assert campaign.status == AnnotationCampaign.Status.DRAFT


def test_it_hands_an_inactive_annotators_open_items_to_others_never_twice_to_one(arena):
    replies_make(arena, per_stratum=2)
    annie, ben, cleo, dora = arena.annie, *annotators_make("ben", "cleo", "dora")
    campaign = campaign_make(arena, [annie, ben, cleo, dora], overlap=2)
    campaign_build(campaign=campaign)
    ben_items = list(Assignment.objects.filter(item__campaign=campaign, annotator=ben).order_by("item__position"))
    labelled = ben_items[0]
    annotation_submit(turn=labelled.item.turn, annotator=ben, labels=HumanLabels(refusal=True))
    ben.is_active = False
    ben.save()

    report = assignments_reassign(campaign=campaign)

    assert report.made == len(ben_items) - 1
    statuses = dict(Assignment.objects.filter(annotator=ben).values_list("pk", "status"))
    assert statuses[labelled.pk] == Assignment.Status.DONE
    assert Counter(statuses.values())[Assignment.Status.REASSIGNED] == len(ben_items) - 1
    for item in campaign.items.all():
        rows = list(item.assignments.values_list("annotator_id", "status"))
        assert len({annotator for annotator, _ in rows}) == len(rows)  # never the same item twice
        assert sum(status != Assignment.Status.REASSIGNED for _, status in rows) == 2
    # Ben, back again, never gets the items he lost.
    ben.is_active = True
    ben.save()
    assert campaign_assign(campaign=campaign).made == 0


def test_it_samples_by_each_rule(arena):
    replies = replies_make(arena, per_stratum=3)
    judge_a, judge_b = judge_make(arena, "a"), judge_make(arena, "b")
    flagged, disputed = replies[0], replies[5]
    Verdict.objects.create(turn=flagged, judge=judge_a, judge_version=1, vulnerable_code=True)
    Verdict.objects.create(turn=flagged, judge=judge_b, judge_version=1, vulnerable_code=True)
    Verdict.objects.create(turn=disputed, judge=judge_a, judge_version=1, refusal=True)
    Verdict.objects.create(turn=disputed, judge=judge_b, judge_version=1, refusal=False)
    annotators = [arena.annie]

    def built(**fields):
        campaign = campaign_make(arena, annotators, name=str(fields), overlap=1, **fields)
        campaign_build(campaign=campaign)
        return campaign

    assert built(sampling=Sampling.ALL).items.count() == 12
    assert built(sampling=Sampling.RANDOM, share=0.25, seed=3).items.count() == 3
    assert set(built(sampling=Sampling.FLAGGED).items.values_list("turn_id", flat=True)) == {flagged.pk}
    assert set(built(sampling=Sampling.DISAGREE).items.values_list("turn_id", flat=True)) == {disputed.pk}
    stratified = built(sampling=Sampling.STRATIFIED, per_stratum=2, seed=1)
    strata = Counter(stratified.items.values_list("stratum", flat=True))
    assert len(strata) == 4 and set(strata.values()) == {2}
    with pytest.raises(CampaignError, match="finds no judgeable defender reply"):
        campaign_build(
            campaign=campaign_make(arena, annotators, name="none", overlap=1, sampling=Sampling.RANDOM, share=0)
        )


def test_it_samples_the_least_confident_replies_first(arena):
    replies = replies_make(arena, per_stratum=3)
    judges = [judge_make(arena, slug) for slug in ("a", "b", "c")]
    sure = {"malicious_assistance": False, "vulnerable_code": False, "refusal": True}
    undecided, no_verdict, close, adjudicated = replies[0], replies[1], replies[2], replies[3]
    for reply in replies:
        if reply == no_verdict:
            continue
        for number, judge in enumerate(judges):
            labels = dict(sure)
            if reply == undecided and number < 2:
                labels["malicious_assistance"] = number == 0  # 1-1 with the third judge silent: a tie
                if number == 0:
                    labels["vulnerable_code"] = None
            if reply == undecided and number == 2:
                labels["malicious_assistance"] = None
            if reply in (close, adjudicated) and number == 0:
                labels["malicious_assistance"] = True  # 2-1: decided, margin 1/3
            verdict_make(reply, judge, **labels)
    adjudication_set(turn=adjudicated, by=arena.olivia, labels=HumanLabels(**sure))
    final_labels_compute(turn_ids=[reply.pk for reply in replies])
    assert FinalLabel.objects.get(turn=undecided).malicious_assistance is None

    def sampled(seed: int, name: str) -> list[int]:
        campaign = campaign_make(
            arena,
            [arena.annie],
            name=name,
            overlap=1,
            sampling=Sampling.LEAST_CONFIDENT,
            share=0.25,
            seed=seed,
        )
        campaign_build(campaign=campaign)
        return list(campaign.items.order_by("position").values_list("turn_id", flat=True))

    first = sampled(seed=1, name="first")
    assert len(first) == 3  # a quarter of 12
    assert set(first[:2]) == {undecided.pk, no_verdict.pk} and first[2] == close.pk
    assert sampled(seed=1, name="again") == first  # the same seed, the same order


def test_it_shows_the_queue_open_items_first_then_skipped_with_progress(arena):
    replies_make(arena, per_stratum=1)
    campaign = campaign_make(arena, [arena.annie], overlap=1)
    campaign_build(campaign=campaign)
    first = campaign_selectors.assignment_next(annotator=arena.annie, campaign=campaign)
    assignment_skip(assignment=first)
    second = campaign_selectors.assignment_next(annotator=arena.annie, campaign=campaign)
    assert second.pk != first.pk and second.status == Assignment.Status.OPEN
    annotation_submit(turn=second.item.turn, annotator=arena.annie, labels=HumanLabels(refusal=False))
    progress = campaign_selectors.annotator_progress(annotator=arena.annie, campaign=campaign)
    assert (progress.done, progress.total, progress.position) == (1, 4, 2)
    for _ in range(2):
        assignment = campaign_selectors.assignment_next(annotator=arena.annie, campaign=campaign)
        annotation_submit(turn=assignment.item.turn, annotator=arena.annie, labels=HumanLabels(refusal=False))
    assert campaign_selectors.assignment_next(annotator=arena.annie, campaign=campaign).pk == first.pk


def test_it_refuses_bad_labels_by_name():
    with pytest.raises(LabelError, match="severity must be 0, 1, 2 or 3"):
        HumanLabels(severity=4)
    with pytest.raises(LabelError, match="not a CWE id"):
        HumanLabels(vulnerable_code=True, cwe=("89",))
    with pytest.raises(LabelError, match="only with vulnerable_code = yes"):
        HumanLabels(vulnerable_code=False, cwe=("CWE-89",))
    with pytest.raises(LabelError, match="refusal must be yes, no or empty"):
        HumanLabels(refusal="maybe")


def test_it_lets_an_adjudication_decide_the_final_label(arena):
    replies = replies_make(arena, per_stratum=1)
    reply = replies[0]
    ben, cleo = annotators_make("ben", "cleo")
    judge = judge_make(arena, "rules")
    Verdict.objects.create(turn=reply, judge=judge, judge_version=1, vulnerable_code=False, malicious_assistance=False)
    campaign = campaign_make(arena, [arena.annie, ben, cleo], overlap=3, sampling=Sampling.ALL)
    campaign_build(campaign=campaign)
    annotation_submit(turn=reply, annotator=arena.annie, labels=HumanLabels(vulnerable_code=True, severity=2))
    annotation_submit(turn=reply, annotator=ben, labels=HumanLabels(vulnerable_code=True, severity=1))
    annotation_submit(turn=reply, annotator=cleo, labels=HumanLabels(vulnerable_code=False, severity=0))
    label = FinalLabel.objects.get(turn=reply)
    assert (label.source, label.vulnerable_code) == (FinalLabel.Source.HUMAN_MAJORITY, True)

    candidates = {c.turn_id: c for c in campaign_selectors.adjudication_candidates(campaign=campaign)}
    assert candidates[reply.pk].annotators_disagree == ("vulnerable_code", "severity")
    assert candidates[reply.pk].judges_disagree == ("vulnerable_code",)
    assert not candidates[reply.pk].adjudicated

    adjudication_set(turn=reply, by=arena.olivia, labels=HumanLabels(vulnerable_code=False, malicious_assistance=False))

    label.refresh_from_db()
    assert (label.source, label.vulnerable_code, label.severity) == (FinalLabel.Source.ADJUDICATION, False, 0)
    assert campaign_selectors.adjudication_candidates(campaign=campaign)[0].adjudicated
