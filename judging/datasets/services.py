"""Writes of export jobs: a dataset export queued, run in the background, its file kept, and the
sweep that runs again (or fails) a job whose worker stopped.

A job's folder is ARENA_EXPORT_DIR/job-<pk>/ (the files of judging/datasets/export.py, each written
under a temporary name and renamed when complete); its download is job-<pk>.zip beside it, also
written under a temporary name and renamed, so a download never sees half a file.

A run owns its job while the job is running at the attempt its claim made: every write after the
claim is conditional on that, so a run the sweep took the job from (it looked dead) changes nothing
and stops at its next heartbeat.
"""

from __future__ import annotations

import logging
import os
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst

from competition.models import Competition
from config.queue import task_enqueue
from judging.datasets import tasks as datasets_tasks
from judging.datasets.export import dataset_export
from judging.datasets.filters import ExportSpec, ExportSpecInvalid
from judging.datasets.models import ExportJob

logger = logging.getLogger(__name__)

Status = ExportJob.Status

# Runs a job may start: the sweep fails a job whose worker stopped this many times rather than
# handing the same export to a fourth worker (a job that kills its worker would kill them all).
EXPORT_MAX_ATTEMPTS = 3
EXPORT_STOPPED_ERROR = (
    "the worker running this export stopped {attempts} times; it was killed, ran out of memory or went "
    "over the workers' time limit for one task (the workers' logs say which). Add the export again once "
    "that is fixed, or run it from the shell (manage.py export_dataset)."
)


def export_job_folder(*, job_id: int) -> Path:
    return Path(settings.ARENA_EXPORT_DIR) / f"job-{job_id}"


def export_job_create(*, spec: ExportSpec, requested_by: AbstractBaseUser | None = None) -> ExportJob:
    """A queued export job for `spec`; its task is enqueued once the transaction commits.
    Raises ExportSpecInvalid when the competition does not exist."""
    competition = Competition.objects.filter(slug=spec.competition).first()
    if competition is None:
        raise ExportSpecInvalid(problems=[("competition", f"no competition with slug {spec.competition!r}")])
    with transaction.atomic():
        job = ExportJob.objects.create(competition=competition, spec=spec.as_json(), requested_by=requested_by)
        task_enqueue(datasets_tasks.export_job_run_task, job.pk)
    return job


class ExportSuperseded(Exception):
    """This run no longer owns its job: the sweep gave the job to another run."""


@dataclass(frozen=True)
class _Run:
    """One run of a job, known by the attempt its claim made."""

    job_id: int
    attempt: int

    def mine(self) -> QuerySet[ExportJob]:
        """The job, while this run still owns it (an update through it changes nothing otherwise)."""
        return ExportJob.objects.filter(pk=self.job_id, status=Status.RUNNING, attempts=self.attempt)

    def beat(self, **fields: object) -> None:
        """Record progress now (and `fields`); raises ExportSuperseded when the job is no longer ours."""
        if not self.mine().update(heartbeat_at=timezone.now(), **fields):
            raise ExportSuperseded(f"export job {self.job_id} was taken from attempt {self.attempt}")

    def progress(self, done: int, total: int) -> None:
        self.beat(progress=done, total=total)


def export_job_run(*, job_id: int) -> bool:
    """Run a queued job: claim it (queued -> running, one more attempt, heartbeat now), clear what an
    earlier run of it left, export with progress, zip, mark it done (or failed with the error).

    The heartbeat is written at the claim, at every chunk of conversations, after the rows, and before
    and after each file of the zip. False when the job was not queued (another worker has it, or it
    ended) or was taken from this run midway; this run then writes nothing more to the job.
    """
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1, progress=0, error=""
    )
    if not claimed:
        return False
    job = ExportJob.objects.get(pk=job_id)
    run = _Run(job_id=job_id, attempt=job.attempts)
    folder = export_job_folder(job_id=job_id)
    try:
        _leftovers_clear(folder, name=f"job-{job_id}")
        spec = ExportSpec.from_json(job.spec)
        report = dataset_export(spec, directory=folder, progress=run.progress)
        run.beat()
        archive = _zip(report.paths, folder=folder, name=f"job-{job_id}", attempt=run.attempt, beat=run.beat)
    except ExportSuperseded:
        return False
    except Exception as exc:
        # An impossible or empty export is said as a sentence; anything else with its kind of error.
        error = capfirst(str(exc)) if isinstance(exc, ExportSpecInvalid) else f"{type(exc).__name__}: {exc}"
        failed = run.mine().update(status=Status.FAILED, error=error[:5000], finished_at=timezone.now())
        return bool(failed)
    done = run.mine().update(
        status=Status.DONE,
        file_path=str(archive),
        heartbeat_at=timezone.now(),
        finished_at=timezone.now(),
        report={
            "rows": report.rows,
            "conversations": report.conversations,
            "filtered_out": report.filtered_out,
            "dedup": report.dedup.as_dict(),
            "pairs": report.pairs,
            "undecided_left_out": report.undecided_left_out,
            "files": sorted(path.name for path in report.paths),
            "left_out_unless_asked": [str(item) for item in report.left_out],
        },
    )
    return bool(done)


@dataclass
class ExportReapReport:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def export_jobs_reap() -> ExportReapReport:
    """No export job stays running forever (judging.datasets.tasks.export_jobs_reap_task, every minute).

    A running job whose heartbeat is older than `settings.ARENA_EXPORT_STALE_SECONDS` (or missing)
    lost its worker. One that has started fewer than EXPORT_MAX_ATTEMPTS runs goes back to queued
    and its task is enqueued once that commits (its next run clears the stopped run's files); one
    that has started EXPORT_MAX_ATTEMPTS fails with EXPORT_STOPPED_ERROR. Each job is taken by an
    update conditional on the status, attempt and stale heartbeat it was read with, so two sweeps at
    once never both take it, a job that beat or was claimed again meanwhile is left alone, and a
    second sweep does nothing more. Returns the ids requeued and failed.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.ARENA_EXPORT_STALE_SECONDS)
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    report = ExportReapReport()
    # Read first, written after: each write checks again what it was read with.
    candidates = list(ExportJob.objects.filter(stale, status=Status.RUNNING).values_list("pk", "attempts"))
    for job_id, attempts in candidates:
        taken = ExportJob.objects.filter(stale, pk=job_id, status=Status.RUNNING, attempts=attempts)
        with transaction.atomic():
            if attempts >= EXPORT_MAX_ATTEMPTS:
                if taken.update(
                    status=Status.FAILED,
                    error=EXPORT_STOPPED_ERROR.format(attempts=attempts),
                    finished_at=timezone.now(),
                ):
                    logger.warning("export job %s failed: its worker stopped %s times", job_id, attempts)
                    report.failed.append(job_id)
            elif taken.update(status=Status.QUEUED):
                logger.warning("export job %s lost its worker (attempt %s); queued again", job_id, attempts)
                task_enqueue(datasets_tasks.export_job_run_task, job_id)
                report.requeued.append(job_id)
    return report


def _leftovers_clear(folder: Path, *, name: str) -> None:
    """Delete what an earlier run of the job left: its folder (partial files, and complete files that
    this run might not write again, such as a split that now has no rows) and its partial zips."""
    shutil.rmtree(folder, ignore_errors=True)
    for partial in folder.parent.glob(f".{name}.zip.partial*"):
        partial.unlink(missing_ok=True)


def _zip(paths: Iterable[Path], *, folder: Path, name: str, attempt: int, beat: Callable[[], None]) -> Path:
    """The export's files (`paths`, in `folder`) in folder/../name.zip, written under a temporary name
    of this attempt then renamed. Only the files this run wrote go in, never others in the folder.
    `beat` is called before each file and before the rename (it raises when the job is no longer
    this run's, so a superseded run never replaces the zip)."""
    final = folder.parent / f"{name}.zip"
    partial = folder.parent / f".{name}.zip.partial-{attempt}"
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(paths, key=lambda path: path.name):
                beat()
                archive.write(path, arcname=f"{name}/{path.name}")
        beat()
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return final
