"""The REST API's query filters, strict: a value a filter cannot read is a 400 naming the parameter,
never a silently unfiltered answer (``?practice=maybe``) or a database error (an id past 64 bits).

``ArenaFilterBackend`` is the API's filter backend (settings.REST_FRAMEWORK): every FilterSet it
builds from ``filterset_fields`` reads booleans with ``StrictBooleanFilter``; explicit FilterSets
use ``IdFilter`` for ids.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend, FilterSet
from drf_spectacular.utils import extend_schema_field

# The largest id a 64-bit integer column holds: SQLite raises OverflowError on a larger one.
MAX_ID = 2**63 - 1
TRUE, FALSE = ("true", "1"), ("false", "0")


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or ``1``/``0``, any case); absent or empty is no filter; anything else is invalid."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValidationError(f"{str(value)[:40]!r} is not a boolean: use true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A whole number from 0 to MAX_ID (a primary key; 0 matches nothing); anything else is invalid."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class ArenaFilterSet(FilterSet):
    FILTER_DEFAULTS = {
        **FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }


class ArenaFilterBackend(DjangoFilterBackend):
    filterset_base = ArenaFilterSet
