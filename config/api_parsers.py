"""The REST API's JSON parser: DRF's, reading through the one guard for hostile JSON (config/hostile.py).

A body nested a thousand deep, holding NUL or an unpaired surrogate, or NaN, is a 400 in the API's
error shape (config/api_errors.py), never a RecursionError or a database error. Every request body this
API documents is a JSON object, so a list, a string, a number or null at the top is a 400 here, before
any view reads ``request.data.get`` from it.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config.hostile import HostileJson, json_loads


class GuardedJSONParser(JSONParser):
    """``application/json`` bodies, parsed by ``config.hostile.json_loads`` into a dict; ParseError (400)
    when refused or when the top-level value is not an object."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        try:
            body = json_loads(data, what="the request body")
        except HostileJson as exc:
            raise ParseError(f"JSON parse error: {exc}") from None
        if not isinstance(body, dict):
            raise ParseError(f"The request body must be a JSON object, not {json_kind(body)}.")
        return body


def json_kind(value: object) -> str:
    """The JSON name of a parsed value's type, with its article, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
