"""Annotators may view assignments: their queue, which lists only their own (judging/admin_queue.py).
Organizers get every permission of the new models from competition.apps' post_migrate handler.
Running it again changes nothing."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def annotator_permission_add(apps, schema_editor):
    alias = schema_editor.connection.alias
    create_permissions(global_apps.get_app_config("judging"), apps=apps, verbosity=0, using=alias)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    annotator = Group.objects.using(alias).filter(name="Annotator").first()
    if annotator is not None:
        annotator.permissions.add(
            Permission.objects.using(alias).get(content_type__app_label="judging", codename="view_assignment")
        )


def annotator_permission_remove(apps, schema_editor):
    alias = schema_editor.connection.alias
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    annotator = Group.objects.using(alias).filter(name="Annotator").first()
    if annotator is not None:
        annotator.permissions.remove(
            *Permission.objects.using(alias).filter(content_type__app_label="judging", codename="view_assignment")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("judging", "0004_campaigns_and_history"),
        ("teams", "0004_historicalbot"),
        ("competition", "0004_historicalround"),
        ("conversations", "0005_historicalconversation"),
        ("competition", "0002_groups"),
    ]

    operations = [migrations.RunPython(annotator_permission_add, annotator_permission_remove)]
