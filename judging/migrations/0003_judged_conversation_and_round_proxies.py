"""Judging's proxies of Conversation and Round, which carry its admin pages (transcripts, re-judging).

Organizers hold every permission of the arena's apps (competition 0002_groups), so they get the
proxies' permissions too; the pages themselves check the conversation's and the round's own.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

PROXIES = ("judgedconversation", "judgedround")


def organizers_grant(apps, schema_editor):
    alias = schema_editor.connection.alias
    create_permissions(global_apps.get_app_config("judging"), apps=apps, verbosity=0, using=alias)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    organizer = Group.objects.using(alias).filter(name="Organizer").first()
    if organizer is not None:
        organizer.permissions.add(
            *Permission.objects.using(alias).filter(
                content_type__app_label="judging", content_type__model__in=PROXIES
            )
        )


class Migration(migrations.Migration):

    dependencies = [
        ('competition', '0002_groups'),
        ('conversations', '0003_reaper_schedule'),
        ('judging', '0002_annotation_view_all_permission'),
    ]

    operations = [
        migrations.CreateModel(
            name='JudgedConversation',
            fields=[
            ],
            options={
                'verbose_name': 'transcript',
                'verbose_name_plural': 'transcripts',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('conversations.conversation',),
        ),
        migrations.CreateModel(
            name='JudgedRound',
            fields=[
            ],
            options={
                'verbose_name': 'round to judge',
                'verbose_name_plural': 'rounds to judge',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('competition.round',),
        ),
        migrations.RunPython(organizers_grant, migrations.RunPython.noop),
    ]
