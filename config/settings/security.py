"""Security: HTTPS and its cookies in production, login throttling (django-axes), the client's
address behind reverse proxies (for axes and the API's throttles, api.py), and the content security
policy (django-csp). The two apps and their middleware are listed in core.py."""

from __future__ import annotations

import os
from datetime import timedelta

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.settings.environment import DEBUG, env_bool

# --- HTTPS in production ----------------------------------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe over plain HTTP on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # Cookies that only this exact host over HTTPS may set or read (no Domain, Path=/, Secure).
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# --- Login throttling, the client's address, content security policy ------------------------------
# django-axes counts failed logins on the site's login page and the admin's (the API takes no
# password: keys, or the session of a throttled login); a username is locked from one address
# after AXES_FAILURE_LIMIT failures for AXES_COOLOFF_TIME, and a good login resets the count.
# Attempts are rows (database handler), so a test's rollback forgets them. Behind a proxy set
# ARENA_PROXY_COUNT (docs/deploy.md).
AUTHENTICATION_BACKENDS = ["config.auth.RequestLoginThrottleBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Sign-in takes a username or an email: both count under the account's username (accounts/auth.py).
AXES_USERNAME_CALLABLE = "accounts.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address, for login throttling (axes, through django-ipware) and the API throttles (DRF)
# alike. ARENA_PROXY_COUNT is how many reverse proxies stand in front of gunicorn (1: one nginx;
# AXES_IPWARE_PROXY_COUNT is read as its older name). Each proxy appends the address it received
# from to X-Forwarded-For, so the client is the ARENA_PROXY_COUNT-th address from the right; the
# addresses to its left were written by the client and are never trusted. Without a proxy only the
# connection's own address counts (a client's X-Forwarded-For is ignored).
ARENA_PROXY_COUNT = int(
    os.environ.get("ARENA_PROXY_COUNT", "").strip() or os.environ.get("AXES_IPWARE_PROXY_COUNT", "").strip() or 0
)
if ARENA_PROXY_COUNT < 0:
    raise ImproperlyConfigured("ARENA_PROXY_COUNT must be 0 or more")
if ARENA_PROXY_COUNT:
    # python-ipware counts the proxies listed in the header, which leaves out the last one (its address
    # is REMOTE_ADDR); not strict, so a client's own entries on the left are skipped rather than making
    # the header unusable (strict would fall back to the proxy's address, shared by everyone).
    AXES_IPWARE_PROXY_COUNT = ARENA_PROXY_COUNT - 1
    AXES_IPWARE_PROXY_ORDER = "left-most"
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    IPWARE_STRICT = False
else:
    AXES_IPWARE_PROXY_COUNT = None
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Passwords never reach the attempt log.
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "api_key", "secret"]

# django-csp: scripts only from this site's own files (no inline script anywhere: templates load
# static/arena/*.js); styles may be inline because Django's admin writes style attributes and a
# <style> element, and a style cannot run code. A template that truly needs an inline script adds
# nonce="{{ request.csp_nonce }}".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
