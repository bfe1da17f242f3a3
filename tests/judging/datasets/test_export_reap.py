"""The export sweep (judging.datasets.services.export_jobs_reap, every minute): a job whose worker was killed
mid-export runs again and finishes, a live one is left alone, a third stopped run fails the job,
a sweep twice takes a job once, and nothing a killed run left reaches the zip."""

from __future__ import annotations

import json
import pydoc
import zipfile
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from django_q.models import Schedule

from judging.datasets import export
from judging.datasets.filters import ExportSpec
from judging.datasets.services import (
    ExportReapReport,
    export_job_create,
    export_job_folder,
    export_job_run,
    export_jobs_reap,
)
from judging.datasets.tasks import export_jobs_reap_task
from judging.models import ExportJob
from tests.cast import SAFE, played_conversation_make
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db

Status = ExportJob.Status
SCHEDULE_FUNC = "judging.datasets.tasks.export_jobs_reap_task"
OLD_SCHEDULE_FUNC = "judging.tasks.export_jobs_reap_task"


@pytest.fixture
def job(arena, labelled, settings, tmp_path, django_capture_on_commit_callbacks) -> ExportJob:
    """A queued chat export (everything in train) of the cast's labelled conversation; its task not run."""
    settings.ARENA_EXPORT_DIR = tmp_path / "exports"
    spec = ExportSpec(competition=arena.competition.slug, shape="chat", format="jsonl", split=(1, 0, 0), dedup="none")
    with django_capture_on_commit_callbacks(execute=False):
        return export_job_create(spec=spec)


def killed(job: ExportJob, *, quiet_seconds: int) -> None:
    """What a worker SIGKILLed mid-export leaves: the job claimed (running, one more attempt) and its
    last heartbeat `quiet_seconds` ago."""
    beat = timezone.now() - timedelta(seconds=quiet_seconds)
    claimed = ExportJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, started_at=beat, heartbeat_at=beat
    )
    assert claimed


def stale(settings) -> int:
    return settings.ARENA_EXPORT_STALE_SECONDS + 5


def test_it_runs_a_killed_workers_job_again_and_finishes_it(
    job, labelled, settings, django_capture_on_commit_callbacks
):
    killed(job, quiet_seconds=stale(settings))
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        swept = export_jobs_reap_task()
    assert swept == {"requeued": [job.pk], "failed": []}
    assert len(enqueued) == 1
    job.refresh_from_db()
    assert job.status == Status.DONE, job.error
    assert (job.attempts, job.progress, job.total) == (2, 1, 1)
    assert job.heartbeat_at >= job.started_at
    with zipfile.ZipFile(job.file_path) as archive:
        [row] = [json.loads(line) for line in archive.read(f"job-{job.pk}/chat-train.jsonl").splitlines()]
    assert row["metadata"]["conversation_id"] == str(labelled.conversation.uuid)


def test_it_leaves_a_running_job_with_a_recent_heartbeat_alone(job, settings, django_capture_on_commit_callbacks):
    killed(job, quiet_seconds=settings.ARENA_EXPORT_STALE_SECONDS - 60)
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        assert export_jobs_reap() == ExportReapReport()
    assert enqueued == []
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Status.RUNNING, 1)


def test_it_fails_the_job_when_its_worker_stopped_a_third_time(job, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        for _ in range(2):
            killed(job, quiet_seconds=stale(settings))
            assert export_jobs_reap().requeued == [job.pk]
        killed(job, quiet_seconds=stale(settings))
        assert export_jobs_reap() == ExportReapReport(failed=[job.pk])
    assert len(enqueued) == 2
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Status.FAILED, 3)
    assert job.error.startswith("the worker running this export stopped 3 times; ")
    assert job.finished_at is not None
    assert not export_jobs_reap().failed


def test_it_requeues_a_stale_job_once_when_swept_twice(job, settings, django_capture_on_commit_callbacks):
    killed(job, quiet_seconds=stale(settings))
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        first, second = export_jobs_reap(), export_jobs_reap()
    assert (first.requeued, second) == ([job.pk], ExportReapReport())
    assert len(enqueued) == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Status.QUEUED, 1)


def test_it_keeps_a_killed_runs_leftovers_out_of_the_zip(job, settings, django_capture_on_commit_callbacks):
    folder = export_job_folder(job_id=job.pk)
    folder.mkdir(parents=True)
    # The killed run got as far as a half-written file, a complete file of a split this run has no
    # rows for, a card, and half a zip.
    (folder / ".chat-train.jsonl.partial-deadbeef").write_text('{"half":')
    (folder / "chat-test.jsonl").write_text('{"messages": "from the killed run"}\n')
    (folder / "README.md").write_text("the killed run's card")
    (folder.parent / f".job-{job.pk}.zip.partial-1").write_bytes(b"PK half")
    killed(job, quiet_seconds=stale(settings))
    with django_capture_on_commit_callbacks(execute=True):
        export_jobs_reap()
    job.refresh_from_db()
    assert job.status == Status.DONE, job.error
    with zipfile.ZipFile(job.file_path) as archive:
        assert sorted(archive.namelist()) == [f"job-{job.pk}/README.md", f"job-{job.pk}/chat-train.jsonl"]
        assert b"killed run" not in archive.read(f"job-{job.pk}/README.md")
    assert sorted(path.name for path in folder.iterdir()) == ["README.md", "chat-train.jsonl"]
    assert sorted(path.name for path in folder.parent.iterdir()) == [f"job-{job.pk}", f"job-{job.pk}.zip"]


def test_it_stops_a_slow_run_whose_job_the_sweep_handed_on(arena, job, monkeypatch, tmp_path):
    played_conversation_make(arena, messages=["ask", "no"], labels=[SAFE], defender=arena.aegis_bot)
    monkeypatch.setattr(export, "CHUNK_SIZE", 1)
    chunks = export.records_chunks

    def chunks_then_handed_on(*args, **kwargs):
        for index, chunk in enumerate(chunks(*args, **kwargs)):
            if index == 1:
                # This run was quiet too long: the sweep requeued the job and another worker claimed it.
                ExportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, attempts=F("attempts") + 1)
            yield chunk

    monkeypatch.setattr(export, "records_chunks", chunks_then_handed_on)
    assert export_job_run(job_id=job.pk) is False
    job.refresh_from_db()
    # The other run's job: this one wrote neither its progress nor an end, and left no file behind.
    assert (job.status, job.attempts, job.progress, job.file_path) == (Status.RUNNING, 2, 0, "")
    folder = export_job_folder(job_id=job.pk)
    assert list(folder.iterdir()) == []
    assert not (folder.parent / f"job-{job.pk}.zip").exists()


def test_it_shows_attempts_in_the_admin_only_when_a_job_ran_more_than_once(
    job, arena, client, settings, django_capture_on_commit_callbacks
):
    client.force_login(arena.olivia)
    with django_capture_on_commit_callbacks(execute=True):
        export_job_run(job_id=job.pk)
    assert "of 3" not in client.get(admin_url(job, "change")).content.decode()
    other = ExportJob.objects.create(competition=arena.competition, spec=job.spec)
    killed(other, quiet_seconds=stale(settings))
    with django_capture_on_commit_callbacks(execute=True):
        export_jobs_reap()
    for url in (admin_url(ExportJob, "changelist"), admin_url(other, "change")):
        page = client.get(url).content.decode()
        assert "Attempts" in page and "2 of 3" in page, url
    assert "Last progress at" in client.get(admin_url(other, "change")).content.decode()


def test_it_has_the_export_sweep_schedule_after_migrating(db):
    schedules = Schedule.objects.filter(func=SCHEDULE_FUNC)
    assert [(s.schedule_type, s.minutes, s.repeats) for s in schedules] == [(Schedule.MINUTES, 1, -1)]


def test_it_still_finds_the_tasks_by_their_paths_before_the_move():
    """Tasks queued before the tasks moved to judging.datasets name them judging.tasks.<name>;
    django-q2 finds a task by its path with pydoc.locate."""
    from judging.datasets import tasks

    assert pydoc.locate(OLD_SCHEDULE_FUNC) is tasks.export_jobs_reap_task
    assert pydoc.locate("judging.tasks.export_job_run_task") is tasks.export_job_run_task
    assert pydoc.locate("judging.tasks.no_such_task") is None
