import pytest

from tests.smtp import smtp_settings, smtp_start


@pytest.fixture
def inbox(settings):
    """Mail goes over SMTP to a real server on loopback; the fixture is what it received."""
    controller, inbox = smtp_start()
    smtp_settings(settings, controller.port, "http://testserver")
    yield inbox
    controller.stop()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the callbacks a block registers with transaction.on_commit (mails are sent on commit)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
