"""The OpenAPI schema documents every status an operation answers, each with the one error shape.

drf-spectacular documents what a view returns on success; the errors come from DRF and
config/api_errors.py, the same for every operation: 400 (invalid body, query or cursor), 401 (no
or a bad key), 403 (not allowed), 404 (not found, or another team's), 409 (a round that cannot make
the move, a bot call already under way), 413 (a body over the limit), 415 (a body that is not
JSON or a form), 429 (throttled), 500. This postprocessing hook (settings.SPECTACULAR_SETTINGS) adds
them, with the ``Error`` component, to every operation that can answer them. One more status comes
from the web server in front of the app, never from it: 414, a request line longer than gunicorn
(4,094 bytes) or nginx (8 KB) reads, answered as an HTML page; it is documented as such.
"""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "description": 'Every API error: {"error": {"status", "code", "message", "fields"?}} (docs/api.md).',
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Validation errors only: the messages of each field (or non_field_errors).",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["status", "code", "message"],
        }
    },
    "required": ["error"],
}

DESCRIPTIONS = {
    400: "Invalid: the body, a query parameter or the cursor (the fields say which).",
    401: "No credentials, or an unknown or revoked key.",
    403: "Not allowed for this user.",
    404: "Not found (another team's object is not found either).",
    409: "The state does not allow it now (a round's move, a bot call already under way).",
    413: "The body is over the size limit (2.5 MB).",
    415: "The body's content type is not JSON (or a form).",
    429: "Throttled: see Retry-After.",
    500: "Server error (logged).",
}
URI_TOO_LONG = {
    "description": "The request line is longer than the web server reads (gunicorn: 4,094 bytes): its HTML page.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
WRITE_METHODS = {"post", "put", "patch"}
METHODS = WRITE_METHODS | {"get", "delete", "head", "options"}


def _statuses(method: str) -> list[int]:
    statuses = [400, 401, 403, 404, 429, 500]
    if method in WRITE_METHODS:
        statuses += [413, 415]
    if method == "post":
        statuses.append(409)
    return sorted(statuses)


def error_responses_add(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the error responses of every operation, and the Error component."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in _statuses(method):
                responses.setdefault(
                    str(status),
                    {
                        "description": DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
            responses.setdefault("414", URI_TOO_LONG)
    return result
