"""The REST API's body fields: each takes the one JSON type its schema documents, or it is a 400 naming it.

DRF's own fields convert what they are given: a CharField takes ``5`` as ``"5"``, an IntegerField
``"5"`` as 5, a FloatField ``true`` as 1.0, a BooleanField ``"yes"``, ``"on"`` or ``1`` as true;
our earlier ``int(request.data.get(...))`` took ``true`` as 1 and ``1.9`` as 1. The schema promises
a string, an integer, a number or a boolean, so a client sending another JSON type has a bug: it is
told so (``"Must be a string, not a number."``), never answered as if it had sent something else.
An integral number (``2.0``) is an integer, as JSON Schema reads it.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.fields import empty

from config.api_filters import MAX_ID
from config.api_parsers import json_kind


class _JsonTyped:
    """Refuses a value of another JSON type than ``json_type`` before the field's own conversion."""

    json_type = "a string"

    def _json_type_ok(self, data) -> bool:
        raise NotImplementedError

    def to_internal_value(self, data):
        if not self._json_type_ok(data):
            raise serializers.ValidationError(f"Must be {self.json_type}, not {json_kind(data)}.", code="invalid")
        return super().to_internal_value(data)


class _JsonText(_JsonTyped):
    """A JSON string, whose ``max_length`` is measured as sent: DRF trims the whitespace first, so 600
    spaces were a blank API key (its limit is 500) and "a" and 200 spaces a name of one character."""

    def _json_type_ok(self, data) -> bool:
        return isinstance(data, str)

    def run_validation(self, data=empty):
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)


class JsonCharField(_JsonText, serializers.CharField):
    pass


class JsonSlugField(_JsonText, serializers.SlugField):
    pass


class JsonChoiceField(_JsonTyped, serializers.ChoiceField):
    def _json_type_ok(self, data) -> bool:
        return isinstance(data, str)


class JsonBooleanField(_JsonTyped, serializers.BooleanField):
    json_type = "true or false"

    def _json_type_ok(self, data) -> bool:
        return isinstance(data, bool)


class JsonIntegerField(_JsonTyped, serializers.IntegerField):
    json_type = "a whole number"

    def _json_type_ok(self, data) -> bool:
        if isinstance(data, float):
            return data.is_integer()
        return isinstance(data, int) and not isinstance(data, bool)

    def to_internal_value(self, data):
        # 2.0 is an integer for JSON Schema; DRF's own reading takes it too, but not 1e20 (its text).
        return super().to_internal_value(int(data) if isinstance(data, float) and data.is_integer() else data)


class JsonFloatField(_JsonTyped, serializers.FloatField):
    json_type = "a number"

    def _json_type_ok(self, data) -> bool:
        return isinstance(data, (int, float)) and not isinstance(data, bool)


class IdField(JsonIntegerField):
    """The id of an object (a primary key): a whole number from 1 to the largest 64-bit one."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
