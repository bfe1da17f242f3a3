"""Settings read from the environment.

Local use needs no variables at all: a SQLite file and a generated secret key under ``var/``,
the django-q2 ORM broker. Production (``DEBUG`` off) must set ``SECRET_KEY`` and
``ALLOWED_HOSTS``; ``python manage.py check --deploy`` then reports nothing.

The settings by concern, a module each, all read through this package
(DJANGO_SETTINGS_MODULE=config.settings):

- environment.py: reading the environment (env_bool, env_list), BASE_DIR, VAR_DIR, DEBUG;
- core.py: Django itself: the secret key and hosts, apps, middleware, templates, the database,
  passwords, language and time, static files, logging;
- security.py: HTTPS in production, login throttling, the client's address behind proxies, the
  content security policy;
- api.py: the REST API and its schema;
- background.py: django-q2 and the cache;
- mail.py: outbound mail;
- arena.py: the platform's own: calls to bots and judges, the round player, size limits, datasets.

Each module's names are distinct from every other's (tests/test_settings.py checks it), so the order
of the imports below does not matter.
"""

from config.settings.api import *  # noqa: F403
from config.settings.arena import *  # noqa: F403
from config.settings.background import *  # noqa: F403
from config.settings.core import *  # noqa: F403
from config.settings.environment import *  # noqa: F403
from config.settings.mail import *  # noqa: F403
from config.settings.security import *  # noqa: F403
