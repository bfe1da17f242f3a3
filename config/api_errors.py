"""Every REST API error is one JSON shape: {"error": {"status", "code", "message", "fields"?}}.

DRF's own errors come in several shapes ({"detail": ...}, {"field": [...]}, [...]); clients and the
OpenAPI schema get one. Unexpected exceptions still propagate (a 500 is logged, never hidden here).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler


def _flatten(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    return str(detail)


def _code(detail, default: str) -> str:
    codes = detail.get_codes() if hasattr(detail, "get_codes") else None
    return codes if isinstance(codes, str) else default


def api_exception_handler(exc, context) -> Response | None:
    """DRF's handler, reshaped. Django's ValidationError becomes a 400 like DRF's."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None
    error: dict = {"status": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        error["code"] = "invalid"
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        error["message"] = "The request is invalid: " + _flatten(fields)
        error["fields"] = {
            key: [str(item) for item in (value if isinstance(value, list) else [value])]
            for key, value in fields.items()
        }
    else:
        detail = getattr(exc, "detail", "")
        error["code"] = _code(detail, getattr(exc, "default_code", "error"))
        error["message"] = _flatten(detail) or str(exc)
    response.data = {"error": error}
    return response


def api_not_found(request: HttpRequest, exception=None) -> JsonResponse:
    """An unknown path under /api/: the same JSON shape as every other API error."""
    return JsonResponse(
        {"error": {"status": 404, "code": "not_found", "message": f"No API endpoint at {request.path}."}},
        status=404,
    )
