"""Settings read from the environment.

Local use needs no variables at all: a SQLite file and a generated secret key under ``var/``,
the django-q2 ORM broker. Production (``DEBUG`` off) must set ``SECRET_KEY`` and
``ALLOWED_HOSTS``; ``python manage.py check --deploy`` then reports nothing.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ARENA_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no variable; anything unrecognised is a configuration error, not a silent no."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value (use 1/0, true/false, yes/no, on/off)")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Generated once so sessions survive restarts of a local install; never used in production.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "config.apps.ArenaAdminConfig",  # django.contrib.admin with the arena's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "import_export",
    "simple_history",
    "teams",
    "competition",
    "conversations",
    "judging",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the web process itself, compressed and cached forever under hashed names.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # /api/ queries checked against the OpenAPI schema: an unknown, repeated or ill-typed parameter is a 400.
    "config.api_query.ApiQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change that django-simple-history keeps (the audit trail).
    "simple_history.middleware.HistoryRequestMiddleware",
]

# The audit trail is read-only in the admin: a revert would bypass the services that keep labels,
# final labels and rounds consistent.
SIMPLE_HISTORY_REVERT_DISABLED = True

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _databases() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        url = f"sqlite:///{VAR_DIR / 'arena.sqlite3'}"
    try:
        config = dj_database_url.parse(url, conn_max_age=0)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL Django understands: {exc}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server read while workers write; IMMEDIATE transactions take the write
        # lock up front so two writers queue on the busy timeout instead of failing mid-transaction.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        # A file (not :memory:) so the engine's threads share the test database.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Short 24-hour dates ("2026-11-30 05:52") so the admin's lists fit a 1280 px screen.
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "static"))
# Locally (and in tests, which switch DEBUG off) whitenoise finds files as they are asked for instead
# of reading a collectstatic folder that does not exist; in production it reads STATIC_ROOT once.
WHITENOISE_AUTOREFRESH = DEBUG
# Session storage: a bot's new secret is shown once in a message and must not travel in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

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
    # Whitenoise: hashed file names, so a deploy never serves a stale script or style sheet.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# --- The REST API (docs/api.md) -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "teams.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, through the one guard for hostile structure (config/hostile.py): a form body cannot say
    # null or a list, and the API takes no files. Anything else is a 415.
    "DEFAULT_PARSER_CLASSES": ["config.api_parsers.GuardedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # django-filter, strict: an unreadable value is a 400 naming the parameter (config/api_filters.py).
    "DEFAULT_FILTER_BACKENDS": ["config.api_filters.ArenaFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "600/minute"),
        # Calls that reach a team's bot over the network cost more than reads.
        "bot_call": os.environ.get("API_THROTTLE_BOT_CALL", "20/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Adversarial Arena API",
    "DESCRIPTION": (
        "Competitions, rounds, standings, a team's own conversations with their labels, and its bots. "
        "Authenticate with `Authorization: Token <key>` (create keys at /account/tokens/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation UI's assets come from drf-spectacular-sidecar, served by this site: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every error status with the one error shape on every operation (config/api_schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.api_schema.error_responses_add"],
    "ENUM_NAME_OVERRIDES": {
        "RoundStatusEnum": "competition.models.RoundStatus",
        "ConversationStatusEnum": "conversations.models.Conversation.Status",
        "TurnStatusEnum": "conversations.models.Turn.Status",
        "SideEnum": "teams.models.Side",
        "BotKindEnum": "teams.models.Bot.Kind",
        "BotKindSettableEnum": "teams.models.Bot.TEAM_KINDS",
        "OutcomeEnum": "judging.selectors.Outcome",
    },
}

# --- Background work (django-q2) ---------------------------------------------------------------
# Facts from design.md: with the ORM broker the retry clock starts at dequeue, so a queue longer
# than the workers can take counts against `retry`. Keep queue_limit near workers and retry far
# above timeout; every task is idempotent anyway.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
Q_WORKERS = int(os.environ.get("Q_WORKERS", 2))
Q_CLUSTER = {
    "name": "arena",
    "workers": Q_WORKERS,
    "queue_limit": Q_WORKERS + 1,
    "timeout": 3600,
    "retry": 4 * 3600,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "poll": 0.5,
    "save_limit": 1000,
    "label": "Background tasks",
    "sync": env_bool("Q_SYNC", False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    # Shared by every web process, so API throttles count across gunicorn workers and machines.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    Q_CLUSTER["orm"] = "default"
    # Without Redis, the database: API throttles (and cached ratings) then count across gunicorn
    # workers too, where a per-process memory cache let each worker count alone. `migrate` makes the
    # table (teams.apps runs createcachetable after every migrate).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "arena_cache"}}

# --- Email -------------------------------------------------------------------------------------
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

# --- Outbound calls to bots and judges ------------------------------------------------------------
# Loopback and private addresses are refused unless this is on; only the demo and local
# development turn it on (bots then run on this machine).
ARENA_ALLOW_PRIVATE_URLS = env_bool("ARENA_ALLOW_PRIVATE_URLS", False)
ARENA_MAX_RESPONSE_BYTES = 1024 * 1024
ARENA_CONNECT_TIMEOUT = float(os.environ.get("ARENA_CONNECT_TIMEOUT", 5))
# A playing worker renews its claim on a conversation at every turn; a claim older than this is
# taken to belong to a dead worker and the conversation is resumed from its last stored turn.
ARENA_CLAIM_SECONDS = int(os.environ.get("ARENA_CLAIM_SECONDS", 60))
# The round player (competition/pipeline/player/): calls in flight at most (threads), conversations held
# in memory at most, and how long one player task runs before handing over to a fresh one (kept
# well under the django-q2 task timeout).
ARENA_PLAYER_MAX_CALLS = int(os.environ.get("ARENA_PLAYER_MAX_CALLS", 64))
ARENA_PLAYER_MAX_CONVERSATIONS = int(os.environ.get("ARENA_PLAYER_MAX_CONVERSATIONS", 400))
ARENA_PLAYER_MAX_SECONDS = int(os.environ.get("ARENA_PLAYER_MAX_SECONDS", 45 * 60))
# How long the player's lease lives without renewal (renewed every two seconds): after a killed
# player, the reaper starts a new one once this has passed.
ARENA_PLAYER_LEASE_SECONDS = int(os.environ.get("ARENA_PLAYER_LEASE_SECONDS", 30))
# How many players play the running rounds at once (each a django-q2 task holding one PlayerLease,
# on any worker machine). One keeps up with bots that take tenths of a second; when the bots are so
# fast that a player's CPU bounds a round, more players share it (bench/README.md, docs/deploy.md).
# Each one occupies a django-q2 worker while rounds play: keep Q_WORKERS above it.
ARENA_PLAYERS = int(os.environ.get("ARENA_PLAYERS", 1))

IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- Size limits on what comes in ----------------------------------------------------------------
# A request body other than file uploads (forms, JSON): Django refuses more with a 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# An uploaded file larger than this is spooled to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# An admin import (teams, bots, memberships): a larger file is refused before it is read. Competition
# files have their own limit (competition/competition_file/limits.py, docs/competition-file.md).
ARENA_IMPORT_MAX_BYTES = int(os.environ.get("ARENA_IMPORT_MAX_BYTES", 5 * 1024 * 1024))
# A chat JSONL import (admin or manage.py import_dataset, docs/datasets.md): a larger file is refused
# before it is parsed. The admin's import runs inside the web request, which gunicorn ends at 60 s.
ARENA_DATASET_IMPORT_MAX_BYTES = int(os.environ.get("ARENA_DATASET_IMPORT_MAX_BYTES", 10 * 1024 * 1024))

# --- Security: login throttling, content security policy -------------------------------------------
# django-axes counts failed logins on the site's login page and the admin's (the API takes no
# password: keys, or the session of a throttled login); a username is locked from one address
# after AXES_FAILURE_LIMIT failures for AXES_COOLOFF_TIME, and a good login resets the count.
# Attempts are rows (database handler), so a test's rollback forgets them. Behind a proxy set
# ARENA_PROXY_COUNT (docs/deploy.md).
INSTALLED_APPS += ["axes", "csp"]
MIDDLEWARE += ["csp.middleware.CSPMiddleware", "axes.middleware.AxesMiddleware"]
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
REST_FRAMEWORK["NUM_PROXIES"] = ARENA_PROXY_COUNT
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

# --- Datasets (judging/datasets, docs/datasets.md) -------------------------------------------------
# Exports name teams and bots by stable anonymous ids unless this is off; the ids are HMACs keyed
# with ARENA_DATASET_SALT (the secret key when unset), so keep the salt to keep ids across exports.
ARENA_DATASET_ANONYMOUS = env_bool("ARENA_DATASET_ANONYMOUS", True)
ARENA_DATASET_SALT = os.environ.get("ARENA_DATASET_SALT", "")
# Where export jobs write their files (one folder per job); never under a served static folder.
ARENA_EXPORT_DIR = Path(os.environ.get("ARENA_EXPORT_DIR", VAR_DIR / "exports"))
# A running export job writes a heartbeat at every 500 conversations and around its zip; one silent
# for longer than this lost its worker, and the sweep (judging.datasets.tasks.export_jobs_reap_task, every
# minute) runs it again, or fails it after three runs. Keep it well above the longest silent step
# (a chunk, the card's queries, one file zipped): a live run taken for dead stops at its next beat.
ARENA_EXPORT_STALE_SECONDS = int(os.environ.get("ARENA_EXPORT_STALE_SECONDS", 300))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"refused_quiet": {"()": "config.request_log.RefusedPermissionQuiet"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs "AXES: BEGIN version ..." at INFO whenever Django starts, so before every
        # management command's output (the demo's banner, --help). Its lockout lines come from
        # axes.handlers.* and axes.helpers, which keep the root's level.
        "axes.apps": {"level": "WARNING"},
        # A refused permission in one line at INFO, without its traceback (config/request_log.py).
        "django.request": {"filters": ["refused_quiet"]},
    },
}
