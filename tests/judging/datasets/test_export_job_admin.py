"""The export job's admin pages as an organizer uses them: rounds chosen from the competition's
rounds, every problem of the form at once, an empty selection refused with why, and a job's page
in words (its options, counts, file link and error), never raw JSON."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from competition.models import Competition, Round
from judging.datasets.filters import ExportSpec, ExportSpecInvalid
from judging.models import ExportJob
from tests.cast import SAFE, UNSAFE, played_conversation_make
from tests.judging.datasets.test_dataset_jobs import FORM
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(arena) -> Round:
    """The demo's state after its first run: the practice round played and judged, the tournament round a draft."""
    round_ = Round.objects.create(
        competition=arena.competition, number=2, name="Warm-up", slug="warm-up", practice=True
    )
    played_conversation_make(arena, messages=["ask", "bad"], labels=[UNSAFE], round_=round_)
    played_conversation_make(arena, messages=["ask", "no"], labels=[SAFE], round_=round_, defender=arena.aegis_bot)
    return round_


def errors(response) -> dict[str, list[str]]:
    form = response.context["adminform"].form
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


def test_it_offers_the_competitions_rounds_as_choices_and_exports_the_ticked_ones(
    arena, practice, client, settings, tmp_path
):
    settings.ARENA_EXPORT_DIR = tmp_path
    client.force_login(arena.olivia)

    page = client.get(admin_url(ExportJob, "add")).content.decode()
    response = client.post(
        admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk, "rounds": [practice.pk]}
    )

    assert 'type="checkbox" name="rounds"' in page
    assert "Warm-up (practice round; 2 finished conversations)" in page
    assert "Tournament 1 (tournament round; no finished conversation yet)" in page
    assert response.status_code == 302, errors(response)
    assert ExportJob.objects.get().spec["rounds"] == ["warm-up"]


def test_it_refuses_a_round_of_another_competition_naming_it(arena, client, settings, tmp_path):
    settings.ARENA_EXPORT_DIR = tmp_path
    other = Competition.objects.create(name="Other Cup", slug="other-cup")
    elsewhere = Round.objects.create(competition=other, number=1, name="Finals", slug="finals")
    client.force_login(arena.olivia)

    response = client.post(
        admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk, "rounds": [elsewhere.pk]}
    )

    assert response.status_code == 200
    assert errors(response)["rounds"] == ["Other Cup · Finals is not a round of Trusted AI 2026."]
    assert not ExportJob.objects.exists()


def test_it_reports_every_problem_of_the_form_at_once(arena, client, settings, tmp_path):
    settings.ARENA_EXPORT_DIR = tmp_path
    client.force_login(arena.olivia)

    response = client.post(
        admin_url(ExportJob, "add"),
        FORM
        | {
            "competition": arena.competition.pk,
            "format": "csv",
            "split": "0.5,0.2",
            "near_threshold": "2",
            "since": "last tuesday",
            "undecided": "leave_out",
        },
    )

    found = errors(response)
    assert set(found) == {"format", "split", "near_threshold", "since"}, found
    assert found["format"] == ["The chat shape is written as jsonl, not 'csv'."]
    assert found["split"] == ["Split needs three ratios >= 0 (train, validation, test) that sum to 1."]
    assert not ExportJob.objects.exists()


def test_it_says_why_the_first_export_after_the_demo_is_empty_and_what_asks_for_practice_rounds(
    arena, practice, client, settings, tmp_path
):
    settings.ARENA_EXPORT_DIR = tmp_path
    client.force_login(arena.olivia)

    refused = client.post(admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk})
    asked = client.post(
        admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk, "include_practice": "on"}
    )

    assert refused.status_code == 200
    [why] = errors(refused)["__all__"]
    assert why.startswith("Nothing to export: the tournament rounds of Trusted AI 2026 have no finished conversation.")
    assert "Practice rounds are left out unless asked: Warm-up has 2 finished conversations" in why
    assert "tick it under Rounds, or tick Include practice rounds" in why
    assert asked.status_code == 302, errors(asked)


def test_it_shows_a_finished_jobs_options_counts_and_file_in_words(
    arena, practice, client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.ARENA_EXPORT_DIR = tmp_path
    played_conversation_make(arena, messages=["kept", "fine"], labels=[SAFE])
    client.force_login(arena.olivia)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(admin_url(ExportJob, "add"), FORM | {"competition": arena.competition.pk})
    job = ExportJob.objects.get()

    page = client.get(admin_url(job, "change")).content.decode()

    assert job.status == ExportJob.Status.DONE, job.error
    for words in (
        "<th>Rounds</th><td>every tournament round</td>",
        "<th>Practice rounds</th><td>left out unless chosen</td>",
        "<th>Shape and format</th><td>chat (jsonl)</td>",
        "<th>Split</th><td>train 1, validation 0, test 0 (seed 0)</td>",
        "<th>Conversations exported</th><td>1</td>",
        "<th>Rows per split</th><td>train 1</td>",
        "<th>Left out unless asked</th><td>practice rounds: 2 finished conversations (Warm-up)</td>",
        reverse("admin:judging_exportjob_download", args=[job.pk]),
    ):
        assert words in page, words
    assert "&quot;" not in page and '"shape":' not in page


def test_it_reports_every_problem_of_a_spec_at_once_with_its_field():
    with pytest.raises(ExportSpecInvalid) as raised:
        ExportSpec.from_json(
            {"competition": "c", "shape": "chat", "format": "csv", "split": "a,b", "dedup": "fuzzy", "since": "soon"}
        )

    assert [field for field, _ in raised.value.problems] == ["format", "since", "split", "dedup"]
    assert str(raised.value).count(";") == 3


def test_it_says_in_the_commands_output_what_was_left_out_unless_asked(arena, practice, tmp_path):
    played_conversation_make(arena, messages=["kept", "fine"], labels=[SAFE])
    out = tmp_path / "out"

    lines = io.StringIO()

    with pytest.raises(CommandError, match=r"split 'x': three numbers .*; near_threshold must be in \(0, 1\]"):
        call_command(
            "export_dataset", "--competition", arena.competition.slug, "--split", "x", "--near-threshold", "3",
            "--output", str(out),
        )  # fmt: skip
    call_command(
        "export_dataset", "--competition", arena.competition.slug, "--shape", "chat", "--output", str(out),
        "--no-progress", "--split", "1,0,0", stdout=lines,
    )  # fmt: skip

    assert "left out unless asked: practice rounds: 2 finished conversations (Warm-up)" in lines.getvalue()
