from django.apps import AppConfig
from django.db.models.signals import post_migrate

# The apps whose every permission organizers hold (competition/migrations/0002_groups.py made the group).
ORGANIZER_APPS = ("teams", "competition", "conversations", "judging")


def organizer_permissions_grant(sender, using, **kwargs) -> None:
    """After an arena app migrates, the Organizer group holds every permission of its models.

    0002_groups granted what existed then; a model added later gets its permissions only after
    migrations (Django's post_migrate creates them), so without this each new model would need a
    migration of its own to reach organizers, and a forgotten one would lock them out. Idempotent.
    """
    if sender.label not in ORGANIZER_APPS:
        return
    from django.contrib.auth.models import Group, Permission

    organizer = Group.objects.using(using).filter(name="Organizer").first()
    if organizer is not None:
        organizer.permissions.add(*Permission.objects.using(using).filter(content_type__app_label=sender.label))


class CompetitionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "competition"

    def ready(self) -> None:
        # Connected after django.contrib.auth's own handler (earlier in INSTALLED_APPS), which creates
        # the permissions this one grants.
        post_migrate.connect(organizer_permissions_grant, dispatch_uid="competition.organizer_permissions_grant")
