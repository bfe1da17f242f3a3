"""The REST API's query parameters, checked against the API's own OpenAPI schema before any view.

A filter, a paginator and a view each read their parameters their own way, and most of them read a
value they cannot use as no value at all: ``?page=`` or ``?kind=`` answered the unfiltered first page,
``?page=2&page=x`` the last one given, ``?team=`` (no such filter) everything. A client then gets
an answer to a question it did not ask. Here every ``/api/`` request whose path and method the schema
documents has its query checked against that operation's documented parameters, and anything the
schema does not allow is a 400 in the API's one error shape (config/api_errors.py), each parameter's
problem under ``fields``:

- a parameter the operation does not take (the message lists the ones it takes);
- a parameter the schema says is required, missing;
- a parameter given more than once;
- a value that is not of the documented type (integer, number, boolean ``true``/``false``/``1``/``0``),
  outside its documented minimum and maximum, or not one of its documented choices (``enum``); an
  empty value counts as a value, so ``?page=`` is refused too.

Strings without choices are left to the view (an opaque cursor, a slug). The schema is the one
drf-spectacular serves at ``/api/schema/``, built once per process on the first API request.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict

from config.api_errors import API_PREFIX
from config.api_filters import FALSE, TRUE

# The words the API's boolean filters read (config/api_filters.py), any case.
TRUE_FALSE = frozenset(TRUE + FALSE)
INTEGER = re.compile(r"-?[0-9]+\Z")


@dataclass(frozen=True)
class Operation:
    path: re.Pattern
    method: str
    parameters: dict[str, dict]  # query parameter name -> its JSON schema
    required: frozenset[str] = frozenset()  # the query parameters it cannot do without


_operations: list[Operation] | None = None
_lock = threading.Lock()


def _operations_load() -> list[Operation]:
    """Every operation of the served schema with its query parameters (computed once per process)."""
    global _operations
    with _lock:
        if _operations is None:
            from drf_spectacular.generators import SchemaGenerator

            schema = SchemaGenerator().get_schema(request=None, public=True)
            found = []
            for template, item in schema.get("paths", {}).items():
                pattern = re.compile(
                    "".join(
                        "[^/]+" if part.startswith("{") else re.escape(part)
                        for part in re.split(r"(\{[^}]+\})", template)
                    )
                    + r"\Z"
                )
                for method, operation in item.items():
                    if not isinstance(operation, dict) or "responses" not in operation:
                        continue
                    query = [
                        parameter for parameter in operation.get("parameters", []) if parameter.get("in") == "query"
                    ]
                    parameters = {parameter["name"]: parameter.get("schema", {}) for parameter in query}
                    required = frozenset(parameter["name"] for parameter in query if parameter.get("required"))
                    found.append(
                        Operation(path=pattern, method=method.upper(), parameters=parameters, required=required)
                    )
            _operations = found
        return _operations


def operation_find(*, method: str, path: str) -> Operation | None:
    """The documented operation answering ``method`` on ``path`` (HEAD as GET), or None."""
    method = "GET" if method == "HEAD" else method
    for operation in _operations_load():
        if operation.method == method and operation.path.match(path):
            return operation
    return None


def value_problem(value: str, schema: dict) -> str | None:
    """Why ``value`` (a query string's text) does not fit the JSON schema, or None when it does."""
    kind = schema.get("type", "string")
    if "enum" in schema and value not in {str(choice) for choice in schema["enum"]}:
        shown = ", ".join(str(choice) for choice in schema["enum"])
        return f"{value[:40]!r} is not one of: {shown}."
    if kind == "boolean" and value.lower() not in TRUE_FALSE:
        return f"{value[:40]!r} is not a boolean: use true or false."
    if kind in ("integer", "number"):
        try:
            number = int(value) if kind == "integer" and INTEGER.match(value) else float(value)
        except ValueError:
            number = None
        if number is None or (kind == "integer" and not isinstance(number, int)) or number != number:
            return f"{value[:40]!r} is not {'a whole number' if kind == 'integer' else 'a number'}."
        if "minimum" in schema and number < schema["minimum"]:
            return f"Must be at least {schema['minimum']}."
        if "maximum" in schema and number > schema["maximum"]:
            return f"Must be at most {schema['maximum']}."
    return None


def query_problems(*, operation: Operation, query: QueryDict) -> dict[str, list[str]]:
    """Each query parameter's problems (empty when the query fits the operation's documented ones)."""
    problems: dict[str, list[str]] = {name: ["Required."] for name in sorted(operation.required - set(query))}
    for name in query:
        schema = operation.parameters.get(name)
        if schema is None:
            takes = ", ".join(sorted(operation.parameters)) or "no query parameters"
            problems[name] = [f"Not a parameter of this operation; it takes: {takes}."]
            continue
        values = query.getlist(name)
        if schema.get("type") != "array" and len(values) > 1:
            problems[name] = ["Give it once."]
            continue
        item_schema = schema.get("items", {}) if schema.get("type") == "array" else schema
        found = [problem for value in values if (problem := value_problem(value, item_schema))]
        if found:
            problems[name] = found[:1]
    return problems


class ApiQueryMiddleware:
    """Answers 400 (the API's error shape) to an /api/ request whose query its operation does not allow."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            operation = operation_find(method=request.method or "GET", path=request.path_info)
            if operation is not None and (problems := query_problems(operation=operation, query=request.GET)):
                message = "The request is invalid: " + " ".join(f"{key}: {' '.join(v)}" for key, v in problems.items())
                return JsonResponse(
                    {"error": {"status": 400, "code": "invalid", "message": message, "fields": problems}}, status=400
                )
        return self.get_response(request)
