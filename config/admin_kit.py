"""The helpers every app's admin shares: escaped preformatted text and JSON, yes/no flags in words,
changelist links, an indented JSON form field, view-only pages for rows the platform writes, and the
round filter that names rounds with their competition.

Nothing here knows an app's models: the round filter reads the model from the field it filters on.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

# A block of preformatted text that may sit inside the <p> the admin wraps read-only values in.
PRE = '<span style="display: block; white-space: pre-wrap; font-family: monospace; unicode-bidi: isolate">{}</span>'


def json_pre(value: Any) -> str:
    """Pretty-printed JSON as preformatted text; every character of ``value`` is escaped."""
    if value is None:
        return "-"
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html(PRE, text)


def text_pre(value: str) -> str:
    """A bot's or judge's text as written (line breaks kept), escaped."""
    return format_html(PRE, value) if value else "-"


def flag_html(text: str, tone: str = "") -> str:
    """A label in words with a tone of colour beside it (never a colour or an icon alone).

    ``tone``: "" neutral, "warn" (unsafe, failing: a warning colour), "info", "none" (no opinion).
    Styled by teams/static/arena/admin.css.
    """
    return format_html('<span class="arena-flag{}">{}</span>', f" arena-flag-{tone}" if tone else "", text)


def yes_no_flag(value: bool | None, *, yes: str, no: str, warn_when: bool | None = None, unknown: str = "-") -> str:
    """A yes/no value as words: ``yes`` or ``no``; the warning colour only on the value that is bad
    (``warn_when``), so "practice: no" or "vulnerable code: no" never shows as a failure."""
    if value is None:
        return flag_html(unknown, "none") if unknown != "-" else "-"
    return flag_html(yes if value else no, "warn" if warn_when is not None and value == warn_when else "")


def changelist_link(model_label: str, label: str, **filters: Any) -> str:
    """A link to the changelist of ``model_label`` ("app_model") filtered by ``filters``."""
    return format_html('<a href="{}?{}">{}</a>', reverse(f"admin:{model_label}_changelist"), urlencode(filters), label)


class PrettyJSONField(forms.JSONField):
    """Edits JSON indented, so goal lists and weights can be read in the form. A blank box on a
    field that may be blank is the model field's default ([] or {}), never NULL, which the column
    refuses (a blank judge config or list of benign prompts was a 500)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A model field with a default passes it as `initial` (ModelForm's formfield()).
        default = kwargs.get("initial")
        super().__init__(*args, **kwargs)
        self.blank_value = default() if callable(default) else default

    def to_python(self, value: Any) -> Any:
        if not self.required and value in self.empty_values and self.blank_value is not None:
            return self.blank_value
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class ViewOnlyAdminMixin:
    """Rows written by the platform itself (engine, judges, health checks): organizers read them.

    Editing or deleting them by hand would make the record disagree with what happened, so a
    view-only page offers neither; an admin whose rows are disposable (health checks) says so by
    overriding ``has_delete_permission``.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RoundListFilter(admin.RelatedFieldListFilter):
    """Filter by round, naming rounds with their competition in one query instead of one per round.
    For a field whose related model is competition's Round (its ``competition`` and ``number``)."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        rounds = field.related_model.objects.select_related("competition").order_by("competition__name", "number")
        return [(round_.pk, str(round_)) for round_ in rounds]
