"""Organizers get every permission on the models added since the groups were made (annotation
campaigns and the audit trail's historical models); annotators may view assignments (their queue,
which lists only their own). Running it again changes nothing."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

ARENA_APPS = ("teams", "competition", "conversations", "judging")


def organizer_permissions_add(apps, schema_editor):
    alias = schema_editor.connection.alias
    for label in ARENA_APPS:
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0, using=alias)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    organizer = Group.objects.using(alias).filter(name="Organizer").first()
    if organizer is not None:
        organizer.permissions.add(*Permission.objects.using(alias).filter(content_type__app_label__in=ARENA_APPS))
    annotator = Group.objects.using(alias).filter(name="Annotator").first()
    if annotator is not None:
        annotator.permissions.add(
            Permission.objects.using(alias).get(content_type__app_label="judging", codename="view_assignment")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("judging", "0003_campaigns_and_history"),
        ("teams", "0003_historicalbot"),
        ("competition", "0004_historicalround"),
        ("conversations", "0005_historicalconversation"),
        ("competition", "0002_groups"),
    ]

    operations = [migrations.RunPython(organizer_permissions_add, migrations.RunPython.noop)]
