from django.apps import AppConfig


class TeamsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "teams"

    def ready(self) -> None:
        # The health checks' schedule, written after `migrate`.
        from config.queue import schedules_keep
        from teams import tasks

        schedules_keep(self, tasks.SCHEDULES)
