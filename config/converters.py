"""The ``<id:...>`` path converter: a primary key, at most 18 digits.

Django's ``<int:...>`` takes any number of digits, and SQLite raises OverflowError (a 500) for an id
past 64 bits; an id this converter refuses is the site's 404 like any other unknown address.
Importing this module registers the converter (each urls.py that uses it imports it).
"""

from __future__ import annotations

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
