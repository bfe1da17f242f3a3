"""PlayerLease moves here from conversations: conversations/0004 renamed its table to this app's
name, so this only adds the model to the state, and moves its content type, with the permissions
and admin history that point at it, from conversations to competition."""

from django.db import migrations, models


def content_type_move(apps, schema_editor, *, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    alias = schema_editor.connection.alias
    types = ContentType.objects.db_manager(alias)
    if types.filter(app_label=target, model="playerlease").exists():
        return  # already there (e.g. created by a post_migrate of a partly migrated database)
    types.filter(app_label=source, model="playerlease").update(app_label=target)


def forwards(apps, schema_editor):
    content_type_move(apps, schema_editor, source="conversations", target="competition")


def backwards(apps, schema_editor):
    content_type_move(apps, schema_editor, source="competition", target="conversations")


class Migration(migrations.Migration):
    dependencies = [
        ("competition", "0002_groups"),
        ("conversations", "0004_player_lease_to_competition"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PlayerLease",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("name", models.CharField(max_length=40, unique=True)),
                        ("holder", models.CharField(blank=True, max_length=100)),
                        ("expires_at", models.DateTimeField(blank=True, null=True)),
                        ("acquired_at", models.DateTimeField(blank=True, null=True)),
                    ],
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
