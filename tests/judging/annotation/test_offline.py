"""Offline annotation: export a campaign's assignments, label them in a file, import them back."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from judging.annotation.services.campaigns import campaign_build
from judging.annotation.services.offline import campaign_labels_export, campaign_labels_import
from judging.models import Annotation, AnnotationCampaign, Assignment
from tests.judging.annotation.campaign_cast import annotators_make, campaign_make, replies_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(arena):
    replies = replies_make(arena, per_stratum=1)
    replies[0].content = "=HYPERLINK('http://evil')"
    replies[0].save()
    ben = annotators_make("ben")[0]
    campaign = campaign_make(arena, [arena.annie, ben], overlap=2, sampling=AnnotationCampaign.Sampling.ALL)
    campaign_build(campaign=campaign)
    return campaign


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


def to_csv(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def label(row, **cells):
    row.update({"malicious_assistance": "no", "vulnerable_code": "yes", "refusal": "no", "severity": "2"} | cells)
    return row


def test_it_exports_only_the_annotators_own_rows_with_formulas_defused(arena, campaign):
    rows = rows_of(campaign_labels_export(campaign=campaign, user=arena.annie))
    assert len(rows) == 4 and {row["annotator"] for row in rows} == {"annie"}
    assert any(row["reply"] == "'=HYPERLINK('http://evil')" for row in rows)
    everyone = json.loads(
        campaign_labels_export(campaign=campaign, user=arena.olivia, everyone=True, file_format="json")
    )
    assert len(everyone) == 8 and any(row["reply"] == "=HYPERLINK('http://evil')" for row in everyone)


def test_it_imports_labelled_rows_and_leaves_empty_ones(arena, campaign):
    rows = rows_of(campaign_labels_export(campaign=campaign, user=arena.annie))
    label(rows[0], cwe="CWE-89, cwe-78", quality="4", rationale="injectable")
    label(rows[1], vulnerable_code="no", severity="0")

    report = campaign_labels_import(campaign=campaign, user=arena.annie, content=to_csv(rows))

    assert report.ok and (report.labelled, report.left_alone) == (2, 2)
    first = Annotation.objects.get(
        turn__campaign_items__assignments__pk=int(rows[0]["assignment"]), annotator=arena.annie
    )
    assert (first.vulnerable_code, first.cwe, first.quality) == (True, ["CWE-89", "CWE-78"], 4)
    assert Assignment.objects.filter(annotator=arena.annie, status=Assignment.Status.DONE).count() == 2
    # The export now carries the labels given, ready to revise.
    again = rows_of(campaign_labels_export(campaign=campaign, user=arena.annie))
    assert again[0]["vulnerable_code"] == "yes" and again[0]["cwe"] == "CWE-89, CWE-78"


def test_it_imports_nothing_from_a_file_with_bad_rows_and_names_each(arena, campaign):
    rows = rows_of(campaign_labels_export(campaign=campaign, user=arena.annie))
    ben_row = rows_of(
        campaign_labels_export(
            campaign=campaign, user=Assignment.objects.exclude(annotator=arena.annie).first().annotator
        )
    )[0]
    label(rows[0])
    label(rows[1], refusal="maybe")
    label(rows[2], severity="7", cwe="89")
    label(ben_row)
    rows.append(ben_row)

    report = campaign_labels_import(campaign=campaign, user=arena.annie, content=to_csv(rows))

    assert not report.ok
    assert report.problems == [
        "row 2: refusal: 'maybe' is not a yes/no value; use 1 or 0 (true/false, yes/no)",
        "row 3: cwe: 89: not CWE ids like CWE-89",
        "row 3: severity: '7' is not one of 0 to 3",
        f"row 5: assignment: {ben_row['assignment']} is not an assignment of yours in this campaign",
    ]
    assert not Annotation.objects.filter(annotator=arena.annie, adjudication=False).exists()


def test_it_refuses_a_file_that_is_not_the_campaigns(arena, campaign):
    assert campaign_labels_import(campaign=campaign, user=arena.annie, content="a,b\n1,2\n").problems == [
        "the file has no 'assignment' column: export the campaign's file first"
    ]
    assert (
        campaign_labels_import(campaign=campaign, user=arena.annie, content="{", file_format="json")
        .problems[0]
        .startswith("the file is not JSON")
    )


def test_it_serves_files_to_their_annotators_and_names_bad_rows_on_upload(client, arena, campaign):
    export = reverse("admin:judging_assignment_file_export", args=[campaign.pk, "csv"])
    upload = reverse("admin:judging_assignment_file_import", args=[campaign.pk])
    outsider = annotators_make("otto")[0]
    client.force_login(outsider)
    assert client.get(export).status_code == 403
    assert client.get(upload).status_code == 403

    client.force_login(arena.annie)
    response = client.get(export)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = rows_of(response.content.decode())
    label(rows[0], vulnerable_code="maybe")
    file = SimpleUploadedFile("labels.csv", to_csv(rows).encode())
    response = client.post(upload, {"file": file})
    assert response.status_code == 200
    assert "row 1: vulnerable_code: &#x27;maybe&#x27; is not a yes/no value" in response.content.decode()
    assert not Annotation.objects.filter(annotator=arena.annie).exists()

    label(rows[0], vulnerable_code="no", severity="0")
    response = client.post(upload, {"file": SimpleUploadedFile("labels.csv", to_csv(rows).encode())})
    assert response.status_code == 302 and Annotation.objects.filter(annotator=arena.annie).count() == 1


def test_it_links_label_import_only_on_an_open_campaign_and_says_why_not(client, arena, campaign):
    client.force_login(arena.olivia)
    upload = reverse("admin:judging_assignment_file_import", args=[campaign.pk])
    link = f'href="{upload}"'
    assert link in client.get(reverse("admin:judging_annotationcampaign_change", args=[campaign.pk])).content.decode()
    AnnotationCampaign.objects.filter(pk=campaign.pk).update(status=AnnotationCampaign.Status.DRAFT)
    page = client.get(reverse("admin:judging_annotationcampaign_change", args=[campaign.pk])).content.decode()
    assert link not in page
    assert "import labels: the campaign is a draft: build it first" in page
    refused = client.get(upload)
    assert refused.status_code == 403
    text = refused.content.decode()
    assert "the campaign is a draft: build it first" in text
    assert "Team owners" not in text and "Ask an organizer" in text
    assert reverse("admin:index") in text
