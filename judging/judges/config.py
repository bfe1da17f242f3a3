"""Each judge kind's config schema: the keys its config may hold, which it needs, and what each value
must be (docs/judges.md). Declared by each runner next to its code (`JudgeRunner.config_schema`) and
read through `config_read`, so what a runner accepts and what a competition file or the admin is told
are one rule. The registry hands them out (judging.judges.config_schemas); the competition file's
loader checks every judge's config against its kind's schema, every key, before anything is written.

A check takes the raw value and returns it as the runner uses it, or raises JudgeConfigError saying
what it must be ("must be a number from 1 to 64"); `config_read` names the key in front of it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from judging.judges.base import JudgeConfigError

Check = Callable[[Any], Any]


@dataclass(frozen=True)
class ConfigKey:
    """One key of a config: its check, whether the config must hold it, and the value a runner uses
    when it is absent."""

    check: Check
    required: bool = False
    default: Any = None


# Every kind's key: the judge's weight in the ensemble (judging/services/final_labels.py).
def _weight(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise JudgeConfigError("must be a number >= 0")
    return float(value)


ENSEMBLE_WEIGHT = ConfigKey(_weight, default=1.0)


def text(*, blank: bool = False) -> Check:
    """A string; a blank one only when `blank`."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or (not blank and not value.strip()):
            raise JudgeConfigError("must be a string" if blank else "must be a non-empty string")
        return value

    return check


_HTTP_URL = URLValidator(schemes=["http", "https"])


def http_url(value: Any) -> str:
    """An http:// or https:// URL (the scheme the outbound seam speaks)."""
    if not isinstance(value, str):
        raise JudgeConfigError("must be an http:// or https:// URL")
    try:
        _HTTP_URL(value)
    except ValidationError:
        raise JudgeConfigError("must be an http:// or https:// URL") from None
    return value


def number(*, low: float, high: float) -> Check:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise JudgeConfigError(f"must be a number from {low} to {high}")
        return float(value)

    return check


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise JudgeConfigError("must be true or false")
    return value


def choice(choices: Collection[str]) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise JudgeConfigError(f"must be one of {', '.join(choices)}")
        return value

    return check


def choices_list(choices: Collection[str]) -> Check:
    """A non-empty list of some of `choices`."""

    def check(value: Any) -> list[str]:
        if not isinstance(value, list) or not value or any(item not in choices for item in value):
            raise JudgeConfigError(f"must be a non-empty list drawn from {', '.join(choices)}")
        return value

    return check


def config_read(schema: Mapping[str, ConfigKey], config: Mapping[str, Any]) -> dict[str, Any]:
    """Every key of the schema as the runner uses it: the config's value once its check accepts it,
    else the key's default. Raises JudgeConfigError naming the first key that is missing or wrong.
    Keys the schema does not know are left alone here (a stored judge keeps working); the competition
    file refuses them."""
    values = {}
    for key, spec in schema.items():
        if key not in config:
            if spec.required:
                raise JudgeConfigError(f"config key {key!r} is required")
            values[key] = spec.default
            continue
        try:
            values[key] = spec.check(config[key])
        except JudgeConfigError as error:
            raise JudgeConfigError(f"config key {key!r} {error}") from None
    return values
