"""Agreement figures on fixed data, checked against krippendorff, statsmodels, sklearn and by hand."""

import json
import subprocess
import sys
from io import StringIO

import krippendorff
import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from judging.annotation import agreement
from judging.annotation import selectors as campaign_selectors
from judging.annotation.admin.campaigns import figure_text
from judging.annotation.services.campaigns import campaign_build
from judging.models import AnnotationCampaign, Verdict
from judging.services.annotations import HumanLabels, annotation_submit
from tests.judging.annotation.campaign_cast import (
    annotators_make,
    assignments_make,
    campaign_make,
    judge_make,
    replies_make,
)

# Three raters, six items, one missing rating (item 5 by c).
SEVERITY = {
    1: {"a": 0, "b": 0, "c": 1},
    2: {"a": 2, "b": 2, "c": 2},
    3: {"a": 3, "b": 2, "c": 3},
    4: {"a": 1, "b": 0, "c": 0},
    5: {"a": 0, "b": 1, "c": None},
    6: {"a": 3, "b": 3, "c": 3},
}
# Mostly safe replies: the kappa paradox.
FLAGS_RARE = {item: {"a": False, "b": False} for item in range(1, 10)} | {10: {"a": True, "b": False}}


def matrix(ratings, raters=("a", "b", "c")):
    return np.array(
        [[np.nan if ratings[item].get(r) is None else ratings[item][r] for item in sorted(ratings)] for r in raters]
    )


def test_it_matches_krippendorff_for_ordinal_and_nominal_alpha():
    ordinal = agreement.krippendorff_alpha(SEVERITY, level="ordinal", categories=(0, 1, 2, 3))
    expected = krippendorff.alpha(reliability_data=matrix(SEVERITY), level_of_measurement="ordinal")
    assert ordinal.value == pytest.approx(expected) and ordinal.items == 6
    nominal = agreement.krippendorff_alpha(SEVERITY, level="nominal", categories=(0, 1, 2, 3))
    expected = krippendorff.alpha(reliability_data=matrix(SEVERITY), level_of_measurement="nominal")
    assert nominal.value == pytest.approx(expected)
    assert ordinal.value != pytest.approx(nominal.value)


def test_it_matches_statsmodels_fleiss_kappa_on_items_with_all_raters():
    figure = agreement.fleiss_kappa(SEVERITY, categories=(0, 1, 2, 3))
    full = np.array([[SEVERITY[item][r] for r in "abc"] for item in (1, 2, 3, 4, 6)])
    table, _ = aggregate_raters(full, n_cat=4)
    assert figure.value == pytest.approx(sm_fleiss(table)) and figure.items == 5
    assert figure.detail == {"raters_per_item": 3}


def test_it_matches_sklearn_cohen_kappa_per_pair():
    figure = agreement.cohen_kappa_pairs(SEVERITY)
    pairs = {tuple(pair["raters"]): pair for pair in figure.detail["pairs"]}
    a = [SEVERITY[i]["a"] for i in range(1, 7)]
    b = [SEVERITY[i]["b"] for i in range(1, 7)]
    assert pairs[("a", "b")]["kappa"] == pytest.approx(cohen_kappa_score(a, b)) and pairs[("a", "b")]["items"] == 6
    assert pairs[("a", "c")]["items"] == 5
    assert figure.value == pytest.approx(sum(pair["kappa"] for pair in pairs.values()) / 3)


def test_it_computes_gwet_ac1_as_by_hand():
    # Item pa: 1, 1, 1, 1/3 -> pa = 5/6; pi_T = (1 + 0 + 0 + 1/3) / 4 = 1/3; pe = 2 * 1/3 * 2/3 = 4/9;
    # AC1 = (5/6 - 4/9) / (1 - 4/9) = 7/10.
    ratings = {
        1: {"a": True, "b": True, "c": True},
        2: {"a": False, "b": False, "c": False},
        3: {"a": False, "b": False, "c": False},
        4: {"a": True, "b": False, "c": False},
    }
    figure = agreement.gwet_ac1(ratings, categories=(False, True))
    assert figure.value == pytest.approx(0.7) and figure.items == 4


def test_it_keeps_ac1_high_where_kappa_collapses_on_mostly_safe_replies():
    # pa = 0.9; pi_T = 0.05; pe = 2 * 0.05 * 0.95 = 0.095; AC1 = 0.805 / 0.905.
    assert agreement.gwet_ac1(FLAGS_RARE, categories=(False, True)).value == pytest.approx(0.805 / 0.905)
    assert agreement.cohen_kappa_pairs(FLAGS_RARE).value == pytest.approx(0.0)
    assert agreement.percent_agreement(FLAGS_RARE).value == pytest.approx(0.9)


def test_it_says_undefined_rather_than_a_number():
    same = {1: {"a": False, "b": False}, 2: {"a": False, "b": False}}
    assert agreement.cohen_kappa_pairs(same).value is None
    assert agreement.krippendorff_alpha(same, categories=(False, True)).value is None
    assert agreement.percent_agreement({1: {"a": True}}).as_dict() == {"value": None, "items": 0, "detail": {}}
    with pytest.raises(ValueError, match="outside the categories"):
        agreement.gwet_ac1({1: {"a": 7, "b": 1}}, categories=(0, 1))


def test_it_compares_a_judge_with_the_human_majority():
    humans = {1: True, 2: True, 3: False, 4: False, 5: None}
    judge = {1: True, 2: False, 3: True, 4: False, 5: True}
    result = agreement.judge_against_majority(judge, humans)
    assert result["precision"] == pytest.approx(0.5) and result["recall"] == pytest.approx(0.5)
    assert result["kappa"] == pytest.approx(cohen_kappa_score([1, 0, 1, 0], [1, 1, 0, 0]))
    assert result["items"] == 4


@pytest.mark.django_db
def test_it_reports_a_campaigns_figures_per_label_and_judge(arena):
    replies = replies_make(arena, per_stratum=1)
    ben, cleo = annotators_make("ben", "cleo")
    judge = judge_make(arena, "rules")
    campaign = campaign_make(arena, [arena.annie, ben, cleo], overlap=3, sampling=AnnotationCampaign.Sampling.ALL)
    campaign_build(campaign=campaign)
    votes = {0: (True, True, False), 1: (False, False, False), 2: (True, True, True), 3: (False, True, False)}
    for position, reply in enumerate(replies):
        Verdict.objects.create(turn=reply, judge=judge, judge_version=1, vulnerable_code=position in (0, 1))
        for annotator, vote in zip((arena.annie, ben, cleo), votes[position], strict=True):
            annotation_submit(turn=reply, annotator=annotator, labels=HumanLabels(vulnerable_code=vote, severity=1))

    report = campaign_selectors.campaign_agreement(campaign=campaign)

    assert report["campaign"]["labelled_items"] == 4 and report["campaign"]["items"] == 4
    ratings = {reply.pk: dict(zip("abc", votes[n], strict=True)) for n, reply in enumerate(replies)}
    vulnerable = report["labels"]["vulnerable_code"]
    assert vulnerable["krippendorff_alpha"]["value"] == pytest.approx(
        agreement.krippendorff_alpha(ratings, categories=(False, True)).value
    )
    assert vulnerable["gwet_ac1"]["items"] == 4
    assert report["labels"]["severity"]["percent_agreement"]["value"] == pytest.approx(1.0)
    assert report["labels"]["malicious_assistance"]["percent_agreement"]["items"] == 0
    rules = report["judges"][0]["labels"]["vulnerable_code"]
    # Human majority: T, F, T, F; the judge: T, T, F, F.
    assert (rules["precision"], rules["recall"], rules["items"]) == (0.5, 0.5, 4)


@pytest.mark.django_db
def test_it_prints_the_figures_from_the_command_as_text_and_json(arena):
    replies_make(arena, per_stratum=1)
    ben = annotators_make("ben")[0]
    campaign = campaign_make(arena, [arena.annie, ben], overlap=2, name="Check 1")
    campaign_build(campaign=campaign)
    for item in campaign.items.all():
        for annotator in (arena.annie, ben):
            annotation_submit(turn=item.turn, annotator=annotator, labels=HumanLabels(refusal=True, severity=0))

    out = StringIO()
    call_command("agreement", "Check 1", stdout=out)
    assert "4 of 4 items labelled, k=2" in out.getvalue() and "gwet_ac1" in out.getvalue()
    out = StringIO()
    call_command("agreement", str(campaign.pk), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["labels"]["refusal"]["percent_agreement"] == {"value": 1.0, "items": 4, "detail": {}}
    with pytest.raises(CommandError, match="no annotation campaign"):
        call_command("agreement", "nope")


@pytest.mark.django_db
def test_it_reports_agreement_over_any_labelled_replies_for_a_dataset_card(arena):
    replies = replies_make(arena, per_stratum=1)
    ben = annotators_make("ben")[0]
    assignments_make(arena, arena.annie, replies[:4], name="annie's")
    assignments_make(arena, ben, replies[:3], name="ben's")
    for reply, votes in zip(replies[:3], ((True, True), (False, False), (True, False)), strict=True):
        for annotator, vote in zip((arena.annie, ben), votes, strict=True):
            annotation_submit(turn=reply, annotator=annotator, labels=HumanLabels(refusal=vote, severity=1))
    annotation_submit(turn=replies[3], annotator=arena.annie, labels=HumanLabels(refusal=True))

    report = campaign_selectors.replies_agreement(turn_ids=[reply.pk for reply in replies])

    assert (report["items"], report["annotators"]) == (3, 2)
    assert report["labels"]["refusal"]["percent_agreement"]["value"] == pytest.approx(2 / 3)
    assert report["labels"]["refusal"]["percent_agreement"]["items"] == 3


def test_it_counts_the_items_a_pair_rated_even_when_kappa_is_undefined_and_says_why():
    same = {item: {"a": False, "b": False} for item in range(12)}

    figure = agreement.cohen_kappa_pairs(same)

    assert figure.value is None
    assert figure.items == 12 == figure.detail["pairs"][0]["items"]
    assert figure.detail["undefined"] == agreement.KAPPA_UNDEFINED
    assert figure_text(figure.as_dict()).startswith("n/a (n=12: every pair gave one same value")


def test_it_computes_agreement_without_importing_statsmodels():
    # The first campaign page of a web process paid statsmodels' import (pandas, scipy): seconds.
    code = (
        "import sys; from judging.annotation import agreement; "
        "agreement.fleiss_kappa({1: {'a': 0, 'b': 1}, 2: {'a': 1, 'b': 1}}, categories=(0, 1)); "
        "print('statsmodels' in sys.modules, 'pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)

    assert done.stdout.split() == ["False", "False"]
