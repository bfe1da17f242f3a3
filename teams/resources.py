"""Import and export of teams, bots and memberships (django-import-export).

Three mixins any resource of the project can reuse:
- ``FormulaSafeExportMixin``: exported text cannot run as a spreadsheet formula.
- ``AllOrNothingImportMixin``: one invalid row and nothing at all is imported.
- ``StrictCellsImportMixin``: a yes/no cell must say yes or no, and no cell may hold text the
  database cannot store; either is a row error naming the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q
from import_export import fields, resources, widgets
from import_export.widgets import ForeignKeyWidget

from config.storable_text import unstorable_text_reason
from teams.models import Bot, Membership, Team

# Spreadsheets evaluate a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Import-export renders numbers as text; a plain signed number cannot run, and quoting it would
# turn -3 into text for whoever reads the file.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run; that text gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class FormulaSafeExportMixin:
    """Prefix ``'`` to every exported text cell that starts with = + - @ TAB or CR.

    IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT strips only a leading "=" (design.md), so it is not
    enough. Meant for spreadsheet formats (CSV, TSV, XLSX): in JSON the quote would be data.
    """

    def export_field(self, field, instance, **kwargs):
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))


class AllOrNothingImportMixin:
    """Roll the whole import back when any row is invalid, not only when one raises.

    Import-export keeps the valid rows of a file with validation errors unless asked otherwise;
    half an import of teams and bots is worse than none.
    """

    def import_data(self, dataset, *args, **kwargs):
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, *args, **kwargs)


class StrictBooleanWidget(widgets.BooleanWidget):
    """A yes/no cell: 1/0, true/false or yes/no in any case; empty is no value; anything else is an error.

    Import-export's own widget reads every unknown word as False, so a cell saying ``maybe`` would
    quietly switch a team or bot off.
    """

    TRUE_WORDS = frozenset({"1", "true", "yes"})
    FALSE_WORDS = frozenset({"0", "false", "no"})

    def clean(self, value, row=None, **kwargs):
        if value is None or isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in {"", "null", "none"}:
            return None
        if word in self.TRUE_WORDS:
            return True
        if word in self.FALSE_WORDS:
            return False
        raise ValueError(f"{value!r} is not a yes/no value; use 1 or 0 (true/false, yes/no)")


class StrictCellsImportMixin:
    """Refuse the row, naming the column, for an unknown yes/no word or text the database cannot store."""

    @classmethod
    def widget_from_django_field(cls, f, default=widgets.Widget):
        if f.get_internal_type() == "BooleanField":
            return StrictBooleanWidget
        return super().widget_from_django_field(f, default=default)

    def get_instance(self, instance_loader, row):
        # A key the database cannot store cannot name a stored row either; looking it up would end
        # in a database error instead of the row error import_field reports for that column.
        for name in self.get_import_id_fields():
            value = row.get(self.fields[name].column_name)
            if isinstance(value, str) and unstorable_text_reason(value):
                return None
        return super().get_instance(instance_loader, row)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        value = row.get(field.column_name) if field.column_name else None
        if isinstance(value, str) and (reason := unstorable_text_reason(value)):
            raise ValueError(f"column {field.column_name!r} {reason}")
        try:
            return super().import_field(field, instance, row, is_m2m, **kwargs)
        except ValueError as exc:
            raise ValueError(f"column {field.column_name!r}: {exc}") from exc


@dataclass(frozen=True)
class SideFlip:
    """A team whose side a file changes (allowed: it has played no published round)."""

    slug: str
    before: str
    after: str

    def warning(self) -> str:
        return (
            f"{self.slug!r} changes side, {self.before} -> {self.after}: from its next round its bots play as "
            f"{self.after}s (rounds it already played keep the side they were played on)."
        )


class TeamResource(FormulaSafeExportMixin, AllOrNothingImportMixin, StrictCellsImportMixin, resources.ModelResource):
    """Teams by slug. A slug on two rows is a row error (not a new team then an update of it), and a
    team that played a published round keeps its side: its results were scored on that side. Any
    other change of side is allowed and listed on the import's result as ``side_flips`` (SideFlip),
    which the admin shows as warnings in the preview and after the import."""

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._slugs_seen: set[str] = set()
        self._side_flips: list[SideFlip] = []

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        result.side_flips = list(self._side_flips)

    def import_instance(self, instance, row, **kwargs):
        errors: dict[str, list[str]] = {}
        slug = str(row.get("slug") or "").strip()
        if slug and slug in self._slugs_seen:
            errors["slug"] = [f"the team {slug!r} is on an earlier row of this file too: one row per team"]
        self._slugs_seen.add(slug)
        side_before = instance.side if instance.pk else ""
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = {**exc.message_dict, **errors}
        if side_before and instance.side != side_before:
            if _played_published(instance):
                errors["side"] = [
                    f"{instance.slug!r} played a published round as {side_before}; its side cannot change "
                    "(make a new team for the other side)"
                ]
            else:
                self._side_flips.append(SideFlip(slug=instance.slug, before=side_before, after=instance.side))
        if errors:
            raise ValidationError(errors)

    class Meta:
        model = Team
        fields = ("slug", "name", "institution", "side", "active")
        import_id_fields = ("slug",)
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = True


def _played_published(team: Team) -> bool:
    # Through the bots' reverse relations: teams sits below competition and imports none of it.
    published = "published"  # competition.models.Round.Status.PUBLISHED
    return (
        Bot.objects.filter(team=team)
        .filter(Q(matches_as_attacker__round__status=published) | Q(matches_as_defender__round__status=published))
        .exists()
    )


class BotResource(FormulaSafeExportMixin, AllOrNothingImportMixin, StrictCellsImportMixin, resources.ModelResource):
    """Bots by team slug and name. Secrets and API keys never enter or leave through a file.

    Rows are saved one by one through ``Bot.save`` (never in bulk) so each change bumps the version.
    """

    team = fields.Field(attribute="team", column_name="team", widget=ForeignKeyWidget(Team, field="slug"))
    version = fields.Field(attribute="version", column_name="version", readonly=True)

    class Meta:
        model = Bot
        fields = (
            "team",
            "name",
            "kind",
            "url",
            "model",
            "system_prompt",
            "timeout_seconds",
            "max_concurrency",
            "active",
            "version",
        )
        exclude = ("secret", "previous_secret", "api_key", "config_hash")
        import_id_fields = ("team", "name")
        use_transactions = True
        use_bulk = False
        clean_model_instances = True
        skip_unchanged = True


class MembershipResource(
    FormulaSafeExportMixin, AllOrNothingImportMixin, StrictCellsImportMixin, resources.ModelResource
):
    """Who is in which team, by username and team slug."""

    user = fields.Field(attribute="user", column_name="user", widget=ForeignKeyWidget(User, field="username"))
    team = fields.Field(attribute="team", column_name="team", widget=ForeignKeyWidget(Team, field="slug"))

    class Meta:
        model = Membership
        fields = ("user", "team", "role")
        import_id_fields = ("user", "team")
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = True
