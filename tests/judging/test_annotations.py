"""The one write path of human labels (judging/services/annotations.py) and who may use it: an
annotator labels only what a campaign of hers assigned her, in every door (issue 20, item 1)."""

import pytest

from judging.models import Annotation, AnnotationCampaign, Assignment, FinalLabel
from judging.services import annotations
from judging.services.annotations import HumanLabels, LabelRefused, annotation_delete, annotation_save
from tests.judging.annotation.campaign_cast import assignments_make
from tests.judging.test_admin import annotation_form
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db

UNSAFE = HumanLabels(malicious_assistance=True, vulnerable_code=True, refusal=False, severity=3)


def test_it_refuses_an_annotator_a_reply_no_campaign_of_hers_assigned(arena, labelled):
    with pytest.raises(LabelRefused, match="not assigned to you"):
        annotations.annotation_submit(turn=labelled.reply, annotator=arena.annie, labels=UNSAFE)
    with pytest.raises(LabelRefused, match="not assigned to you"):
        annotation_save(annotation=Annotation(turn=labelled.reply, refusal=True), by=arena.annie)
    assert not Annotation.objects.filter(turn=labelled.reply, refusal=True).exists()
    assert FinalLabel.objects.get(turn=labelled.reply).source == FinalLabel.Source.JUDGE_ENSEMBLE


def test_it_lets_an_annotator_label_a_reply_assigned_to_her_in_an_open_campaign(arena, labelled):
    campaign = assignments_make(arena, arena.annie, [labelled.reply])
    annotations.annotation_submit(turn=labelled.reply, annotator=arena.annie, labels=UNSAFE)
    assert Assignment.objects.get(item__campaign=campaign).status == Assignment.Status.DONE
    AnnotationCampaign.objects.filter(pk=campaign.pk).update(status=AnnotationCampaign.Status.CLOSED)
    with pytest.raises(LabelRefused):
        annotations.annotation_submit(turn=labelled.reply, annotator=arena.annie, labels=UNSAFE)


def test_it_refuses_a_reassigned_item_adjudication_and_delete_to_an_annotator(arena, labelled):
    assignments_make(arena, arena.annie, [labelled.reply])
    Assignment.objects.update(status=Assignment.Status.REASSIGNED)
    with pytest.raises(LabelRefused):
        annotations.annotation_submit(turn=labelled.reply, annotator=arena.annie, labels=UNSAFE)
    with pytest.raises(LabelRefused, match="only organizers adjudicate"):
        annotations.adjudication_set(turn=labelled.reply, by=arena.annie, labels=UNSAFE)
    with pytest.raises(LabelRefused):
        annotation_delete(annotations=Annotation.objects.all(), by=arena.annie)
    assert Annotation.objects.filter(pk=labelled.annotation.pk).exists()
    # The negative: an organizer labels, adjudicates and deletes any reply's labels.
    annotations.adjudication_set(turn=labelled.reply, by=arena.olivia, labels=UNSAFE)
    assert FinalLabel.objects.get(turn=labelled.reply).source == FinalLabel.Source.ADJUDICATION
    assert annotation_delete(annotations=Annotation.objects.filter(adjudication=True), by=arena.olivia) == 1
    assert FinalLabel.objects.get(turn=labelled.reply).source != FinalLabel.Source.ADJUDICATION


def test_it_refuses_on_the_form_an_annotator_adding_a_label_of_an_unassigned_reply(client, arena, labelled):
    Annotation.objects.filter(pk=labelled.annotation.pk).delete()
    client.force_login(arena.annie)
    form = annotation_form(labelled.reply, malicious_assistance="true", vulnerable_code="true", refusal="false")
    response = client.post(admin_url(Annotation, "add"), form)
    # The refusal is an error on the form she filled in, which keeps what she typed (not a 403 page).
    assert response.status_code == 200
    assert "You cannot label this reply: this reply is not assigned to you in an open campaign." in response.text
    assert response.context["adminform"].form["conversation"].value() == form["conversation"]
    assert not Annotation.objects.exists()
    assert FinalLabel.objects.get(turn=labelled.reply).source == FinalLabel.Source.JUDGE_ENSEMBLE
    # The negative: once a campaign of hers assigns it, the same form saves her label.
    assignments_make(arena, arena.annie, [labelled.reply])
    assert client.post(admin_url(Annotation, "add"), form).status_code == 302
    assert Annotation.objects.get().annotator == arena.annie


def test_it_takes_an_empty_cwe_field_as_no_ids_and_refuses_a_bad_one_on_the_form(client, arena, labelled):
    client.force_login(arena.olivia)
    url = admin_url(labelled.annotation, "change")
    response = client.post(url, annotation_form(labelled.reply, vulnerable_code="true", cwe=""))
    assert response.status_code == 302
    labelled.annotation.refresh_from_db()
    assert labelled.annotation.cwe == []
    response = client.post(url, annotation_form(labelled.reply, vulnerable_code="true", cwe="cwe-89, CWE-79"))
    assert response.status_code == 302
    labelled.annotation.refresh_from_db()
    assert labelled.annotation.cwe == ["CWE-89", "CWE-79"]
    response = client.post(url, annotation_form(labelled.reply, vulnerable_code="true", cwe="SQL injection"))
    assert response.status_code == 200
    assert "is not a CWE id like CWE-89" in response.content.decode()
    response = client.post(url, annotation_form(labelled.reply, vulnerable_code="false", cwe="CWE-89"))
    assert "cwe ids are given only with vulnerable_code = yes" in response.content.decode()


def test_it_recomputes_the_final_label_in_the_same_request_as_the_admin_save(client, arena, labelled):
    client.force_login(arena.olivia)
    form = annotation_form(labelled.reply, vulnerable_code="false", malicious_assistance="false") | {
        "adjudication": "on"
    }
    assert client.post(admin_url(Annotation, "add"), form).status_code == 302
    # No on_commit callback ran (the test's transaction never commits): the label is fresh already.
    label = FinalLabel.objects.get(turn=labelled.reply)
    assert (label.source, label.vulnerable_code) == (FinalLabel.Source.ADJUDICATION, False)
    response = client.post(admin_url(Annotation.objects.get(adjudication=True), "delete"), {"post": "yes"})
    assert response.status_code == 302
    assert FinalLabel.objects.get(turn=labelled.reply).source != FinalLabel.Source.ADJUDICATION


def test_it_stores_nothing_when_the_final_label_recompute_fails(client, arena, labelled, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database went away mid-recompute")

    monkeypatch.setattr("judging.services.judging.final_labels_compute", broken)
    client.raise_request_exception = False
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(labelled.annotation, "change"), annotation_form(labelled.reply, vulnerable_code="false")
    )
    assert response.status_code == 500
    labelled.annotation.refresh_from_db()
    assert labelled.annotation.vulnerable_code is True  # not saved: never a stale final label behind it
