"""Background tasks of datasets (django-q2): an export job run, and the sweep of jobs whose worker
stopped. Each takes primary keys (or nothing), re-reads its rows and calls one service
(judging/datasets/services.py). Their old paths (judging.tasks.<name>) still resolve: judging/tasks.py."""

from __future__ import annotations

from dataclasses import asdict

from config.database import retried_when_database_lost
from judging.datasets.models import ExportJob
from judging.datasets.services import export_job_run, export_jobs_reap


def export_job_run_task(job_pk: int) -> bool:
    """Run a queued dataset export job (judging.datasets.services.export_job_run); leaves one that moved on."""
    if not ExportJob.objects.filter(pk=job_pk, status=ExportJob.Status.QUEUED).exists():
        return False
    return export_job_run(job_id=job_pk)


@retried_when_database_lost
def export_jobs_reap_task() -> dict:
    """Scheduled every minute: export jobs whose worker stopped run again, or fail after three runs
    (judging.datasets.services.export_jobs_reap)."""
    return asdict(export_jobs_reap())
