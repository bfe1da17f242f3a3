import pytest

from tests.smtp import smtp_start


@pytest.fixture
def inbox(settings):
    """Mail goes over SMTP to a real server on loopback; the fixture is what it received."""
    controller, inbox = smtp_start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.ARENA_SITE_URL = "http://testserver"
    yield inbox
    controller.stop()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the callbacks a block registers with transaction.on_commit (mails are sent on commit)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
