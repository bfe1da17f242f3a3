from django.apps import AppConfig
from django.db.models.signals import post_migrate

# The apps whose every permission organizers hold (competition/migrations/0002_groups.py made the group).
ORGANIZER_APPS = ("teams", "competition", "conversations", "judging", "accounts")
# Everything the Annotator group may do, and nothing else: label the replies assigned to them (the
# queue, the label page, their own annotations). Annotators are blind (docs/annotation.md): no page
# of conversations, verdicts, final labels, judges, teams or bots, so none can name a team or show a
# judge's label; the campaign's label page shows the judges' verdicts only when it allows.
ANNOTATOR_PERMISSIONS = (
    ("judging", "add_annotation"),
    ("judging", "change_annotation"),
    ("judging", "view_annotation"),
    ("judging", "view_assignment"),
)


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


def annotator_permissions_set(sender, using, **kwargs) -> None:
    """After judging migrates, the Annotator group holds exactly ANNOTATOR_PERMISSIONS.

    Exactly: 0002_groups once gave annotators the view of conversations, turns, verdicts, final labels
    and judges, which named teams and bots and showed judges' labels to blind annotators; a permission
    granted by hand later is taken back the same way. Idempotent.
    """
    if sender.label != "judging":
        return
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    annotator = Group.objects.using(using).filter(name="Annotator").first()
    if annotator is None:
        return
    wanted = Q()
    for app_label, codename in ANNOTATOR_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    annotator.permissions.set(Permission.objects.using(using).filter(wanted))


class CompetitionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "competition"

    def ready(self) -> None:
        # Connected after django.contrib.auth's own handler (earlier in INSTALLED_APPS), which creates
        # the permissions this one grants.
        post_migrate.connect(organizer_permissions_grant, dispatch_uid="competition.organizer_permissions_grant")
        post_migrate.connect(annotator_permissions_set, dispatch_uid="competition.annotator_permissions_set")
        # The receivers of what the round lifecycle asks for, and the reaper's schedule after `migrate`.
        from competition import tasks
        from config.queue import schedules_keep

        schedules_keep(self, tasks.SCHEDULES)
        from competition.entries import seats

        seats.connect()
