"""Settings for the test suite: the real settings with background tasks run inline."""

from config.settings import *  # noqa: F403
from config.settings import Q_CLUSTER

# design.md: override_settings does not make django-q2 synchronous; the setting must be in place
# when django_q.conf is first imported.
Q_CLUSTER["sync"] = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ARENA_ALLOW_PRIVATE_URLS = False
