"""Export jobs and the datasets admin: background exports, progress, downloads (organizers only),
the export actions of every shape, the chat JSONL import page."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from competition.models import Round
from judging.datasets.filters import ExportSpec
from judging.datasets.resources import DATASET_FORMATS, SHAPE_RESOURCES
from judging.datasets.services import export_job_create
from judging.datasets.shapes import COLUMNS
from judging.models import DatasetConversation, ExportJob
from tests.cast import SAFE, UNSAFE, played_conversation_make
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db

FORM = {
    "competition": "",
    "shape": "chat",
    "format": "jsonl",
    "label_source": "any",
    "split": "1,0,0",
    "seed": "0",
    "dedup": "none",
    "near_threshold": "0.8",
}


@pytest.fixture
def exported(arena, client, settings, tmp_path, django_capture_on_commit_callbacks) -> ExportJob:
    """A finished chat export job of the cast's competition, requested by olivia in the admin."""
    settings.ARENA_EXPORT_DIR = tmp_path / "exports"
    played_conversation_make(arena, messages=["ask", "=cmd|' /C calc'!A0"], labels=[UNSAFE])
    played_conversation_make(arena, messages=["ask", "no"], labels=[SAFE], defender=arena.aegis_bot)
    client.force_login(arena.olivia)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    client.logout()
    return ExportJob.objects.get()


def test_it_runs_an_export_job_to_a_zip_with_its_card(exported, arena):
    assert exported.status == ExportJob.Status.DONE, exported.error
    assert (exported.progress, exported.total, exported.percent) == (2, 2, 100)
    assert exported.requested_by == arena.olivia
    assert exported.report["rows"] == {"train": 2}
    with zipfile.ZipFile(exported.file_path) as archive:
        names = sorted(archive.namelist())
        rows = [json.loads(line) for line in archive.read(f"job-{exported.pk}/chat-train.jsonl").splitlines()]
    assert names == [f"job-{exported.pk}/README.md", f"job-{exported.pk}/chat-train.jsonl"]
    assert {row["messages"][1]["content"] for row in rows} == {"=cmd|' /C calc'!A0", "no"}


def test_it_leaves_undecided_replies_out_of_a_chat_job_by_default_and_keeps_them_when_asked(
    arena, client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.ARENA_EXPORT_DIR = tmp_path / "exports"
    played_conversation_make(arena, messages=["ask", "undecided"], labels=[None])
    played_conversation_make(arena, messages=["ask", "no"], labels=[SAFE], defender=arena.aegis_bot)
    client.force_login(arena.olivia)
    for undecided in ("", "keep"):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk, "undecided": undecided}
            )

    by_default, kept = ExportJob.objects.order_by("pk")

    assert (by_default.spec["undecided"], by_default.report["rows"]) == ("default", {"train": 1})
    assert by_default.report["undecided_left_out"] == 1
    assert (kept.spec["undecided"], kept.report["rows"]) == ("keep", {"train": 2})


def test_it_lets_only_organizers_download_an_export(exported, arena, client):
    url = reverse("admin:judging_exportjob_download", args=[exported.pk])
    client.force_login(arena.olivia)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="trusted-ai-2026-chat-')
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).testzip() is None
    client.force_login(arena.annie)
    assert client.get(url).status_code == 403
    assert client.get(admin_url(exported, "change")).status_code == 403
    client.force_login(arena.alice)
    assert client.get(url)["Location"].startswith(reverse("admin:login"))
    client.logout()
    assert client.get(url)["Location"].startswith(reverse("admin:login"))


def test_it_shows_the_jobs_progress_to_organizers(exported, arena, client):
    client.force_login(arena.olivia)
    page = client.get(admin_url(ExportJob, "changelist")).content.decode()
    assert '<progress value="100" max="100"' in page
    assert reverse("admin:judging_exportjob_download", args=[exported.pk]) in page
    assert client.get(admin_url(exported, "change")).status_code == 200


def test_it_refuses_an_export_job_the_shape_cannot_be_written_as(arena, client, tmp_path, settings):
    settings.ARENA_EXPORT_DIR = tmp_path
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk, "format": "csv", "rounds": "nope"}
    )
    assert response.status_code == 200
    assert "chat shape is written as jsonl" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_it_marks_a_job_failed_with_its_error(arena, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.ARENA_EXPORT_DIR = tmp_path
    spec = ExportSpec(competition=arena.competition.slug, shape="chat", format="jsonl", rounds=["gone"])
    with django_capture_on_commit_callbacks(execute=True):
        export_job_create(spec=spec)  # the shell or the API: the admin form refuses it (below)
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED and "no round 'gone'" in job.error
    assert list(tmp_path.iterdir()) == []


def export_action(client, shape: str, fmt: str, ids: list[int]):
    """Post the admin's export form for these conversations, every column of the shape ticked."""
    resource = [r.shape for r in SHAPE_RESOURCES].index(shape)
    columns = {f"{SHAPE_RESOURCES[resource].__name__.lower()}_{c}": "on" for c in COLUMNS[shape]}
    file_format = [f.name for f in DATASET_FORMATS].index(fmt)
    form = {"format": file_format, "resource": resource, "export_items": ids}
    return client.post(admin_url(DatasetConversation, "export"), form | columns)


def test_it_exports_a_selection_in_every_shape_from_the_admin(arena, client):
    attack = played_conversation_make(arena, messages=["+SUM(1)", "-bad"], labels=[UNSAFE])
    defence = played_conversation_make(arena, messages=["+SUM(1)", "@safe"], labels=[SAFE], defender=arena.aegis_bot)
    excluded = played_conversation_make(arena, messages=["x", "y"], moderation="excluded")
    client.force_login(arena.olivia)
    page = client.get(admin_url(DatasetConversation, "changelist")).content.decode()
    assert str(attack.uuid)[:8] in page and str(excluded.uuid)[:8] not in page
    # An excluded conversation's id posted by hand is refused: the form page comes back, no data.
    refused = export_action(client, "chat", "jsonl", [attack.pk, excluded.pk])
    assert refused["Content-Type"].startswith("text/html") and "Select a valid choice" in refused.content.decode()
    ids = [attack.pk, defence.pk]

    rows = [json.loads(line) for line in export_action(client, "chat", "jsonl", ids).content.splitlines()]
    assert [row["messages"][1]["weight"] for row in rows] == [0, 1]
    [pair] = [json.loads(line) for line in export_action(client, "preference", "jsonl", ids).content.splitlines()]
    assert (pair["chosen"][0]["content"], pair["rejected"][0]["content"]) == ("@safe", "-bad")
    text = export_action(client, "turns", "csv", ids).content.decode()
    assert "'+SUM(1)" in text and "'-bad" in text and "'@safe" in text and "\n+SUM" not in text
    conversations = json.loads(export_action(client, "conversations", "json", ids).content)
    assert [row["turns"][0]["content"] for row in conversations] == ["+SUM(1)", "+SUM(1)"]
    assert export_action(client, "conversations", "xlsx", ids)["Content-Type"].startswith("application/vnd.openxml")
    refused = export_action(client, "chat", "csv", ids)
    assert refused.status_code == 200 and "chat shape is written as jsonl" in refused.content.decode()


def test_it_refuses_the_datasets_pages_to_annotators_and_teams(arena, client, labelled):
    pages = [admin_url(DatasetConversation, "changelist"), admin_url(ExportJob, "changelist")]
    pages += [admin_url(ExportJob, "add"), reverse("admin:judging_datasetconversation_import_chat")]
    client.force_login(arena.annie)
    for url in pages:
        assert client.get(url).status_code == 403, url
    client.force_login(arena.dana)
    for url in pages:
        assert client.get(url)["Location"].startswith(reverse("admin:login")), url


def test_it_imports_chat_jsonl_from_the_admin_page_with_line_numbered_problems(arena, client):
    url = reverse("admin:judging_datasetconversation_import_chat")
    client.force_login(arena.olivia)
    good = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})
    form = {"competition": arena.competition.pk, "round_name": "Old data", "round_slug": "old-data"}
    bad = SimpleUploadedFile("in.jsonl", (good + "\n[1]\n").encode())
    page = client.post(url, form | {"file": bad}).content.decode()
    assert "Nothing was imported" in page and "line 2: must be a JSON object" in page
    assert not Round.objects.filter(slug="old-data").exists()
    response = client.post(url, form | {"file": SimpleUploadedFile("in.jsonl", good.encode())})
    assert response.status_code == 302
    assert Round.objects.get(slug="old-data").imported


def test_it_names_a_new_job_by_its_shape_and_competition_in_messages_and_recent_actions(
    arena, client, settings, tmp_path
):
    settings.ARENA_EXPORT_DIR = tmp_path
    played_conversation_make(arena, messages=["ask", "no"], labels=[SAFE])
    client.force_login(arena.olivia)
    page = client.post(admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk}, follow=True)
    job = ExportJob.objects.get()
    name = f"Export {job.pk}: chat (jsonl) of trusted-ai-2026"
    assert str(job) == name
    assert name in page.content.decode() and "None" not in str(list(page.context["messages"]))
    assert LogEntry.objects.get(object_id=str(job.pk)).object_repr == name
    assert str(ExportJob()) == "New export"


def test_it_refuses_a_round_that_is_not_among_the_choices(arena, client, settings, tmp_path):
    settings.ARENA_EXPORT_DIR = tmp_path
    played_conversation_make(arena, messages=["ask", "no"], labels=[SAFE])
    client.force_login(arena.olivia)
    response = client.post(admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk, "rounds": [999]})
    assert response.status_code == 200
    assert "Select a valid choice. 999 is not one of the available choices." in response.content.decode()
    assert not ExportJob.objects.exists()
    known = FORM | {"competition": arena.competition.pk, "rounds": [arena.round.pk]}
    assert client.post(admin_url(ExportJob, "add"), known).status_code == 302


def test_it_fails_an_export_that_matches_nothing_and_writes_no_file(
    arena, client, settings, tmp_path, django_capture_on_commit_callbacks
):
    """A card without data files loads nowhere (datasets.load_dataset fails on it): refused instead."""
    settings.ARENA_EXPORT_DIR = tmp_path
    played_conversation_make(arena, messages=["ask", "no"], labels=[SAFE])
    client.force_login(arena.olivia)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk, "labels": ["unsafe"]})
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED and not job.file_path
    # Said as a sentence on the job's page, without the kind of exception that carried it.
    assert job.error == "Nothing matched: no conversation matched these filters"
    page = client.get(admin_url(job, "change")).content.decode()
    assert job.error in page and "ExportNothingMatched" not in page
    with pytest.raises(CommandError, match="nothing matched: no conversation matched these filters"):
        call_command(
            "export_dataset", "--competition", arena.competition.slug, "--shape", "chat", "--label", "unsafe",
            "--output", str(tmp_path / "shell"), "--no-progress",
        )  # fmt: skip
    assert not (tmp_path / "shell").exists() or not any((tmp_path / "shell").iterdir())


def test_it_offers_each_shape_only_its_formats_and_says_when_a_selection_has_no_pair(arena, client):
    unsafe = played_conversation_make(arena, messages=["ask", "bad"], labels=[UNSAFE])
    client.force_login(arena.olivia)
    for shape, fmt in (("chat", "xlsx"), ("preference", "csv"), ("turns", "xlsx")):
        refused = export_action(client, shape, fmt, [unsafe.pk])
        assert refused["Content-Type"].startswith("text/html"), (shape, fmt)
        assert refused.context["form"].errors["format"][0].startswith(f"The {shape} shape is written as ")
    empty = export_action(client, "preference", "jsonl", [unsafe.pk])
    assert empty["Content-Type"].startswith("text/html")
    assert "No safe/unsafe pair among the selected conversations" in empty.content.decode()
