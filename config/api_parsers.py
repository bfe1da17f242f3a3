"""The REST API's JSON parser: DRF's, reading through the one guard for hostile JSON (config/hostile.py).

A body nested a thousand deep, holding NUL or an unpaired surrogate, or NaN, is a 400 in the API's
error shape (config/api_errors.py), never a RecursionError or a database error.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config.hostile import HostileJson, json_loads


class GuardedJSONParser(JSONParser):
    """``application/json`` bodies, parsed by ``config.hostile.json_loads``; ParseError (400) when refused."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        try:
            return json_loads(data, what="the request body")
        except HostileJson as exc:
            raise ParseError(f"JSON parse error: {exc}") from None
