"""The schedule of the export sweep: every minute it runs again (or fails) export jobs whose worker stopped."""

from django.db import migrations

FUNC = "judging.tasks.export_jobs_reap_task"


def schedule_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        func=FUNC,
        defaults={"name": "Export job sweep", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def schedule_delete(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("judging", "0011_export_job_heartbeat"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
