"""``GET /healthz``: is this web process able to serve, for load balancers and monitoring.

Checks the database (one ``SELECT 1``) and the django-q2 broker (a ping and the queue length).
Answers JSON with status 200 when both work and 503 when either does not. The answer names what
failed by the kind of error only: never a host, URL, user name or password from the settings.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _broker() -> dict:
    broker = get_broker()
    broker.ping()
    return {"ok": True, "kind": "redis" if settings.REDIS_URL else "orm", "queued": broker.queue_size()}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok" | "failing", "checks": {"database": {...}, "broker": {...}}}``."""
    checks = {}
    for name, check in (("database", _database), ("broker", _broker)):
        try:
            checks[name] = check()
        except Exception as exc:  # any failure of a dependency is what this reports
            checks[name] = {"ok": False, "error": type(exc).__name__}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "failing", "checks": checks}, status=200 if healthy else 503)
