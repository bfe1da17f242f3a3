"""Settings of the demo's web server: ``manage.py demo`` serves the site with these.

The demo serves the site as a deployment does: DEBUG off, so a wrong address gets the site's own 404
page and a failure its 500 page, never Django's debug page with the settings. It builds on the local
settings (the demo starts it with DEBUG unset: the secret key generated under var/, plain cookies)
because it serves plain HTTP on 127.0.0.1, where production's HTTPS redirect, HSTS and Secure
``__Host-`` cookies would keep a browser out.
"""

from config.settings import *  # noqa: F403

DEBUG = False
# The demo listens on 127.0.0.1 only: these are the names a browser on this machine reaches it by.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
# Static files from whitenoise, which reads the apps' static folders once at start, as production
# reads STATIC_ROOT (no collectstatic to run first; runserver serves none with DEBUG off).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
# No collected folder to read: whitenoise would warn "No directory at: .../static/" at every start.
STATIC_ROOT = None
