"""The schedule of the reaper: every minute it resumes dead workers' conversations and moves rounds on."""

from django.db import migrations

FUNC = "competition.tasks.rounds_reap_task"


def schedule_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        func=FUNC,
        defaults={"name": "Round reaper", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def schedule_delete(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0002_player_lease"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
