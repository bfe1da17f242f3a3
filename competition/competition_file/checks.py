"""Value checks for a competition file: each takes the raw value and returns it, or raises ValidationError.

A check built from a model field runs that field's own validators, so the file can never accept what
the admin would refuse. The messages name values in an organizer's words (problems.kind_of).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator, validate_slug
from django.db.models import Field
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from competition.competition_file.problems import kind_of, place_of


def text(field: Field | None = None, *, required: bool = False, max_length: int | None = None) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"must be a string, got {kind_of(value)}")
        if required and not value.strip():
            raise ValidationError("must not be empty")
        if max_length is not None:
            MaxLengthValidator(max_length)(value)
        if field is not None:
            field.run_validators(value)
        return value

    return check


def slug(field: Field | None, *, max_length: int | None = None) -> Callable[[Any], str]:
    as_text = text(field, required=True, max_length=max_length)

    def check(value: Any) -> str:
        value = as_text(value)
        # SlugField carries validate_slug itself; the judge slug (no field here) needs it added.
        if field is None:
            validate_slug(value)
        return value

    return check


def choice(choices: Collection[str]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise ValidationError(f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    return check


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"must be true or false, got {kind_of(value)}")
    return value


def whole(field: Field | None, *, minimum: int | None = None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"must be a whole number, got {kind_of(value)}")
        if minimum is not None:
            MinValueValidator(minimum)(value)
        if field is not None:
            field.run_validators(value)
        return value

    return check


def number(field: Field, *, nullable: bool = False) -> Callable[[Any], float | None]:
    def check(value: Any) -> float | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError(f"must be a number, got {kind_of(value)}")
        if not math.isfinite(value):
            raise ValidationError("must be a finite number")
        field.run_validators(float(value))
        return float(value)

    return check


def url(field: Field) -> Callable[[Any], str]:
    """An http:// or https:// URL, by the field's validators; one message for a bad URL however many
    of them refuse it (URLField's own and Bot.url's say the same thing): the first that refuses, the
    field's own validators (Bot.url's "must be an http:// or https:// URL") before URLField's."""

    def check(value: Any) -> str:
        value = text(required=True)(value)
        defaults = field.default_validators
        for validator in [*[v for v in field.validators if v not in defaults], *defaults]:
            validator(value)
        return value

    return check


def weight(value: Any) -> float:
    """A scoring weight: a finite number >= 0 (competition.models.validate_weights)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValidationError(f"must be a number >= 0, got {value!r}")
    return value


def from_value_error(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A check that says what is wrong with a ValueError (judging's config checks) as one that
    raises ValidationError, as SectionReader.read expects."""

    def checked(value: Any) -> Any:
        try:
            return check(value)
        except ValidationError:
            raise
        except ValueError as error:
            raise ValidationError(str(error)) from None

    return checked


def email(field: Field) -> Callable[[Any], str]:
    # EmailField carries the email validator; required because an account without one cannot reset.
    return text(field, required=True)


def moment(value: Any) -> datetime | None:
    """A date and time; one without a time zone is read in the site's time zone (settings.TIME_ZONE)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        raise ValidationError("needs a time as well as a date, e.g. 2026-05-01T09:00:00Z")
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError(f"must be a date and time like 2026-05-01T09:00:00Z, got {value!r}")
    else:
        raise ValidationError(f"must be a date and time like 2026-05-01T09:00:00Z, got {kind_of(value)}")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def mapping_only(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(f"must be a mapping, got {kind_of(value)}")


def json_value(validator: Callable[[Any], None]) -> Callable[[Any], Any]:
    """A value for a JSON field: plain JSON data (string keys, finite numbers) that validator accepts."""

    def check(value: Any) -> Any:
        validator(value)
        problem = _json_problem(value, "")
        if problem:
            raise ValidationError(problem)
        return value

    return check


def _json_problem(value: Any, where: str) -> str:
    """Why value cannot be stored as JSON as it is (empty when it can)."""
    inside = f" at {where}" if where else ""
    if value is None or isinstance(value, (bool, int, str)):
        return ""
    if isinstance(value, float):
        return "" if math.isfinite(value) else f"has a number that is not finite{inside}"
    if isinstance(value, list):
        return next((p for i, item in enumerate(value) if (p := _json_problem(item, f"{where}[{i}]"))), "")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"has a key that is not a string ({key!r}){inside}"
            if problem := _json_problem(item, place_of(where, key)):
                return problem
        return ""
    return f"has {kind_of(value)}{inside}, which JSON cannot hold; quote it to make it a string"
