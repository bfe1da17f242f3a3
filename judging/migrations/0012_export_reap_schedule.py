"""The schedule of the export sweep: every minute it runs again (or fails) export jobs whose worker stopped.

History only: it used to create the schedule's row. Schedules come from code now: `SCHEDULES` of
judging/tasks.py, written after every `migrate` (config/queue.py:schedules_keep), which creates or
updates the row of a new install or an upgrade; this migration does nothing either way.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("judging", "0011_export_job_heartbeat"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
