from django.apps import AppConfig


class JudgingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "judging"
    verbose_name = "Judging"

    def ready(self) -> None:
        # The audit trail's masking of judges' credentials (judging/history.py).
        from judging import history  # noqa: F401
