"""Background tasks of datasets (django-q2): an export job run, and the sweep of jobs whose worker
stopped. Each takes primary keys (or nothing), re-reads its rows and calls one service
(judging/datasets/services.py). Their old paths (judging.tasks.<name>) still resolve: judging/tasks.py.
The sweep's schedule is declared here (SCHEDULES, written after `migrate`: config/queue.py)."""

from __future__ import annotations

from dataclasses import asdict

from config.database import retried_when_database_lost
from config.queue import TaskSchedule
from judging.datasets import services  # a module: services enqueue these tasks by their functions
from judging.datasets.models import ExportJob


def export_job_run_task(job_pk: int) -> bool:
    """Run a queued dataset export job (judging.datasets.services.export_job_run); leaves one that moved on."""
    if not ExportJob.objects.filter(pk=job_pk, status=ExportJob.Status.QUEUED).exists():
        return False
    return services.export_job_run(job_id=job_pk)


@retried_when_database_lost
def export_jobs_reap_task() -> dict:
    """Scheduled every minute: export jobs whose worker stopped run again, or fail after three runs
    (judging.datasets.services.export_jobs_reap)."""
    return asdict(services.export_jobs_reap())


SCHEDULES = (TaskSchedule(name="Export job sweep", task=export_jobs_reap_task, minutes=1),)
