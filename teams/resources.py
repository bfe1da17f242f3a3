"""Import and export of teams, bots and memberships (django-import-export).

Two mixins any resource of the project can reuse:
- ``FormulaSafeExportMixin``: exported text cannot run as a spreadsheet formula.
- ``AllOrNothingImportMixin``: one invalid row and nothing at all is imported.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

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


class TeamResource(FormulaSafeExportMixin, AllOrNothingImportMixin, resources.ModelResource):
    class Meta:
        model = Team
        fields = ("slug", "name", "institution", "side", "active")
        import_id_fields = ("slug",)
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = True


class BotResource(FormulaSafeExportMixin, AllOrNothingImportMixin, resources.ModelResource):
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


class MembershipResource(FormulaSafeExportMixin, AllOrNothingImportMixin, resources.ModelResource):
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
