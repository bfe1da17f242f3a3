"""The two staff groups: Organizer (runs competitions) and Annotator (labels defender replies, blind).

Permissions are normally created after all migrations (post_migrate), so they are created here first
for the apps the groups need. Running it again changes nothing; reversing deletes the two groups.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

ORGANIZER = "Organizer"
ANNOTATOR = "Annotator"
ARENA_APPS = ("teams", "competition", "conversations", "judging")
ORGANIZER_EXTRA = {"auth": {"user": ("view", "add", "change")}}
ANNOTATOR_PERMISSIONS = {
    "conversations": {"conversation": ("view",), "turn": ("view",)},
    "judging": {
        "verdict": ("view",),
        "finallabel": ("view",),
        "judge": ("view",),
        "annotation": ("add", "change", "view"),
    },
}
# Seeing every annotator's labels is what separates organizers from (blind) annotators in the admin.
ALL_ANNOTATIONS_CODENAME = "view_all_annotations"
ALL_ANNOTATIONS_NAME = "Can see every annotator's annotations"


def permissions(Permission, wanted, alias):
    found = []
    for app_label, models in wanted.items():
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            rows = list(
                Permission.objects.using(alias).filter(
                    content_type__app_label=app_label, content_type__model=model, codename__in=codenames
                )
            )
            if len(rows) != len(codenames):
                raise RuntimeError(f"missing permissions for {app_label}.{model}: {codenames}")
            found.extend(rows)
    return found


def groups_create(apps, schema_editor):
    alias = schema_editor.connection.alias
    for label in (*ARENA_APPS, "auth", "django_q"):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0, using=alias)
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")

    annotation_type = ContentType.objects.db_manager(alias).get(app_label="judging", model="annotation")
    Permission.objects.using(alias).get_or_create(
        content_type=annotation_type, codename=ALL_ANNOTATIONS_CODENAME, defaults={"name": ALL_ANNOTATIONS_NAME}
    )

    organizer, _ = Group.objects.using(alias).get_or_create(name=ORGANIZER)
    organizer.permissions.add(
        *Permission.objects.using(alias).filter(content_type__app_label__in=ARENA_APPS),
        *permissions(Permission, ORGANIZER_EXTRA, alias),
        *Permission.objects.using(alias).filter(content_type__app_label="django_q", codename__startswith="view_"),
    )
    annotator, _ = Group.objects.using(alias).get_or_create(name=ANNOTATOR)
    annotator.permissions.add(*permissions(Permission, ANNOTATOR_PERMISSIONS, alias))


def groups_delete(apps, schema_editor):
    alias = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.using(alias).filter(name__in=[ORGANIZER, ANNOTATOR]).delete()
    Permission.objects.using(alias).filter(
        content_type__app_label="judging", content_type__model="annotation", codename=ALL_ANNOTATIONS_CODENAME
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_initial"),
        ("competition", "0001_initial"),
        ("conversations", "0002_player_lease"),
        ("judging", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        # Its models' view permissions go to organizers, so its models must be in the state.
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(groups_create, groups_delete)]
