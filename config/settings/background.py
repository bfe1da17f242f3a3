"""Background work (django-q2) and the cache: Redis for both when REDIS_URL is set, else the database."""

from __future__ import annotations

import os

from config.settings.environment import env_bool

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
