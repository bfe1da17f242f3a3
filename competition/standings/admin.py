"""The organizers' admin for scores: Standing and StandingRevision rows (read-only), and the round's
standings table with its inputs that the round page and the Publish preview show (docs/scoring.md).

Standings are written only by competition/pipeline/scoring.py; editing them by hand would make them
disagree with the labels they came from, so the admin reads them.
"""

from __future__ import annotations

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from competition.models import Round, Standing, StandingRevision
from competition.standings.selectors import round_standings_table
from config.admin_kit import ViewOnlyAdminMixin, json_pre

STANDINGS_TEMPLATE = "admin/competition/round/standings_table.html"


def standings_display(round_: Round) -> dict:
    """round_standings_table arranged for the template: bots grouped per side, categories and
    revision changes as (name, value) pairs, and when the round was published (None: a preview)."""
    table = round_standings_table(round_=round_)
    table["published_at"] = round_.published_at if round_.status == Round.Status.PUBLISHED else None
    for row in table["bots"]:
        row["categories"] = sorted((row["inputs"].get("categories") or {}).items())
    table["sides"] = [
        (side, [row for row in table["bots"] if row["side"] == side]) for side in ("attacker", "defender")
    ]
    for revision in table["revisions"]:
        revision["change_list"] = sorted(revision["changes"].items())
    return table


def standings_html(round_: Round, *, labels_confirmed: object = None) -> SafeString:
    """The standings table rendered (autoescaped: every name in it comes from a team), on one line so
    the admin's read-only field does not turn its newlines into <br>; `labels_confirmed` (how many of
    the round's labels a person confirmed, judging.selectors.LabelsConfirmed) above it when given."""
    table = standings_display(round_) | {"labels_confirmed": labels_confirmed}
    html = render_to_string(STANDINGS_TEMPLATE, {"table": table})
    return SafeString(" ".join(line.strip() for line in html.splitlines() if line.strip()))


@admin.register(Standing)
class StandingAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "side",
        "rank",
        "score",
        "success_rate",
        "multiplier",
        "safety",
        "utility",
        "availability",
        "rating",
        "computed_at",
    ]
    list_filter = ["side", "round__competition", "round"]
    search_fields = ["team__name", "bot__name"]
    list_select_related = ["round__competition", "team", "bot__team"]
    readonly_fields = ["round", "side", "team", "bot", *Standing.FIGURES, "inputs_pretty", "computed_at"]
    fields = readonly_fields

    @admin.display(description="Inputs")
    def inputs_pretty(self, standing: Standing) -> str:
        return json_pre(standing.inputs)


@admin.register(StandingRevision)
class StandingRevisionAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "round", "team", "bot", "reason", "changed_at"]
    list_filter = ["round__competition", "round"]
    search_fields = ["team__name", "bot__name", "reason"]
    list_select_related = ["round__competition", "team", "bot__team"]
    readonly_fields = ["round", "team", "bot", "reason", "changes_pretty", "changed_at"]
    fields = readonly_fields

    @admin.display(description="What changed ([before, after])")
    def changes_pretty(self, revision: StandingRevision) -> str:
        return json_pre(revision.changes)
