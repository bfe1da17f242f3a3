"""Writes of export jobs: a dataset export queued, run in the background, its file kept.

A job's folder is ARENA_EXPORT_DIR/job-<pk>/ (the files of judging/datasets/export.py, each written
under a temporary name and renamed when complete); its download is job-<pk>.zip beside it, also
written under a temporary name and renamed, so a download never sees half a file.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from competition.models import Competition
from config.queue import task_enqueue
from judging.datasets.export import dataset_export
from judging.datasets.filters import ExportSpec, ExportSpecInvalid
from judging.models import ExportJob

Status = ExportJob.Status


def export_job_folder(*, job_id: int) -> Path:
    return Path(settings.ARENA_EXPORT_DIR) / f"job-{job_id}"


def export_job_create(*, spec: ExportSpec, requested_by: AbstractBaseUser | None = None) -> ExportJob:
    """A queued export job for `spec`; its task is enqueued once the transaction commits.
    Raises ExportSpecInvalid when the competition does not exist."""
    competition = Competition.objects.filter(slug=spec.competition).first()
    if competition is None:
        raise ExportSpecInvalid(f"no competition with slug {spec.competition!r}")
    with transaction.atomic():
        job = ExportJob.objects.create(competition=competition, spec=spec.as_json(), requested_by=requested_by)
        task_enqueue("judging.tasks.export_job_run_task", job.pk)
    return job


def export_job_run(*, job_id: int) -> bool:
    """Run a queued job: claim it (queued -> running), export with progress, zip, mark it done (or
    failed with the error). False when the job was not queued (another worker has it, or it ended)."""
    claimed = ExportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), progress=0, error=""
    )
    if not claimed:
        return False
    job = ExportJob.objects.get(pk=job_id)
    folder = export_job_folder(job_id=job_id)

    def progress(done: int, total: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(progress=done, total=total)

    try:
        spec = ExportSpec.from_json(job.spec)
        report = dataset_export(spec, directory=folder, progress=progress)
        archive = _zip(folder, name=f"job-{job_id}")
    except Exception as exc:
        ExportJob.objects.filter(pk=job_id).update(
            status=Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000], finished_at=timezone.now()
        )
        return True
    ExportJob.objects.filter(pk=job_id).update(
        status=Status.DONE,
        file_path=str(archive),
        finished_at=timezone.now(),
        report={
            "rows": report.rows,
            "conversations": report.conversations,
            "filtered_out": report.filtered_out,
            "dedup": report.dedup.as_dict(),
            "pairs": report.pairs,
            "files": sorted(path.name for path in report.paths),
        }
        # Done all the same (the card says what was asked), but the job says so plainly.
        | ({"note": "no conversation matched these filters"} if report.conversations == 0 else {}),
    )
    return True


def _zip(folder: Path, *, name: str) -> Path:
    """folder's files in folder/../name.zip, written under a temporary name then renamed."""
    final = folder.parent / f"{name}.zip"
    partial = folder.parent / f".{name}.zip.partial"
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                archive.write(path, arcname=f"{name}/{path.name}")
    os.replace(partial, final)
    return final
