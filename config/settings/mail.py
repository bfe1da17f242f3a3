"""Email: one outbound mail path, SMTP when EMAIL_HOST is set, the console otherwise; the site's
address for links in mails, and how long emailed links stay valid."""

from __future__ import annotations

import os

from config.settings.environment import env_bool

# One outbound mail path (accounts/mail.py): every message is a row, sent by a django-q2 task and
# retried. With EMAIL_HOST set it goes out over SMTP; without, to the console (local use, the demo).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 587))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Adversarial Arena <arena@localhost>")
# The site's address as people reach it, for the links in mails sent by background tasks (which
# have no request to build an absolute URL from).
ARENA_SITE_URL = os.environ.get("ARENA_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# How long a sign-up's verification link and a team invitation stay valid.
ARENA_VERIFY_DAYS = int(os.environ.get("ARENA_VERIFY_DAYS", 3))
ARENA_INVITATION_DAYS = int(os.environ.get("ARENA_INVITATION_DAYS", 7))
