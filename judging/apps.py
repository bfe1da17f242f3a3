from django.apps import AppConfig


class JudgingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "judging"
    verbose_name = "Judging"

    def ready(self) -> None:
        from config.queue import schedules_keep

        # The audit trail's masking of judges' credentials (judging/history.py).
        # The receiver of the judging the round lifecycle asks for (judging/tasks.py).
        from judging import (
            history,  # noqa: F401
            tasks,  # noqa: F401
        )

        # The datasets admin uses competition's admin, which imports judging's admin views: it is
        # registered once every app's admin module has loaded (the admin app autodiscovers first).
        from judging.datasets import admin  # noqa: F401

        # The export sweep's schedule, written after `migrate`.
        from judging.datasets import tasks as datasets_tasks

        schedules_keep(self, datasets_tasks.SCHEDULES)
