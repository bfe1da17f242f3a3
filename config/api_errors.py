"""Every REST API error is one JSON shape: {"error": {"status", "code", "message", "fields"?}}.

DRF's own errors come in several shapes ({"detail": ...}, {"field": [...]}, [...]); clients and the
OpenAPI schema get one. Unexpected exceptions still propagate (a 500 is logged, never hidden here).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

API_PREFIX = "/api/"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the server accepts (2.5 MB; files are not sent to the API)."
    default_code = "too_large"


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
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
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


def api_error(status_code: int, code: str, message: str) -> JsonResponse:
    """An error in the API's one JSON shape, for answers made outside DRF's views."""
    return JsonResponse({"error": {"status": status_code, "code": code, "message": message}}, status=status_code)


@csrf_exempt  # any method: a POST to an unknown path is a 404 like a GET, never the CSRF page
def api_not_found(request: HttpRequest, exception=None) -> JsonResponse:
    """An unknown path under /api/: the same JSON shape as every other API error."""
    return api_error(404, "not_found", f"No API endpoint at {request.path}.")


# Django's error handlers (config/urls.py): under /api/ the API's JSON shape, elsewhere the site's pages.


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """400: a body over DATA_UPLOAD_MAX_MEMORY_SIZE read outside DRF (413 under /api/), a bad Host header..."""
    if request.path.startswith(API_PREFIX):
        if isinstance(exception, RequestDataTooBig):
            return api_error(413, "too_large", PayloadTooLarge.default_detail)
        return api_error(400, "bad_request", "The request could not be read.")
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """404 for a path no URL pattern takes (under /api/ config.api_urls takes every path; this is the backstop)."""
    if request.path.startswith(API_PREFIX):
        return api_error(404, "not_found", "No API endpoint at this path.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: the exception is logged by Django; the answer names nothing of it."""
    if request.path.startswith(API_PREFIX):
        return api_error(500, "server_error", "Something went wrong on our side; it has been logged.")
    return defaults.server_error(request)
