"""The schedule of the reaper: every minute it resumes dead workers' conversations and moves rounds on.

History only: it used to create the schedule's row. Schedules come from code now: `SCHEDULES` of
competition/tasks.py, written after every `migrate` (config/queue.py:schedules_keep), which creates or
updates the row of a new install or an upgrade; this migration does nothing either way.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0002_player_lease"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
