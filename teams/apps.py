from django.apps import AppConfig
from django.db.models.signals import post_migrate


def cache_table_create(sender, using: str = "default", verbosity: int = 1, **kwargs) -> None:
    """Make the database cache's table (settings.CACHES without Redis) after every migrate; idempotent."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class TeamsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "teams"

    def ready(self) -> None:
        # The health checks' schedule, written after `migrate`.
        from config.queue import schedules_keep
        from teams import tasks

        schedules_keep(self, tasks.SCHEDULES)
        post_migrate.connect(cache_table_create, sender=self, dispatch_uid="teams.cache_table_create")
