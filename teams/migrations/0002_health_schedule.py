"""The schedule that checks every active bot's health every 10 minutes.

History only: it used to create the schedule's row. Schedules come from code now: `SCHEDULES` of
teams/tasks.py, written after every `migrate` (config/queue.py:schedules_keep), which creates or
updates the row of a new install or an upgrade; this migration does nothing either way.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
