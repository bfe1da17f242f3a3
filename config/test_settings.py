"""Settings for the test suite: the real settings with background tasks run inline."""

from config.settings import *  # noqa: F403
from config.settings import Q_CLUSTER

# design.md: override_settings does not make django-q2 synchronous; the setting must be in place
# when django_q.conf is first imported.
Q_CLUSTER["sync"] = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ARENA_ALLOW_PRIVATE_URLS = False
# Each test starts with an empty cache (tests/conftest.py clears it around every test, database or
# not): a memory cache per process. The database cache of the settings is tested on its own
# (tests/teams/test_bot_calls.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
