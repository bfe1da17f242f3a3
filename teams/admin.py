"""The organizers' admin for who plays: teams, memberships, bots and their health checks.

Also the import-export permissions of teams' pages (``OrganizerImportExportMixin``) and a user admin
that organizers cannot use to raise their rights. The helpers every app's admin shares are in
config/admin_kit.py.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats
from import_export.forms import ImportForm
from import_export.results import RowResult
from simple_history.admin import SimpleHistoryAdmin

from config.admin_import_export import GuardedImportExportMixin
from config.admin_kit import ViewOnlyAdminMixin, changelist_link, flag_html, text_pre, yes_no_flag
from teams.forms import BotForm
from teams.models import Bot, BotHealthCheck, Membership, Team
from teams.resources import BotResource, MembershipResource, TeamResource
from teams.secrets import bot_secret_rotate, bot_secret_rotation_finish


class SizeLimitedImportForm(ImportForm):
    """The import form, refusing a file over settings.ARENA_IMPORT_MAX_BYTES before it is read."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.ARENA_IMPORT_MAX_BYTES
        if upload is not None and upload.size > limit:
            raise forms.ValidationError(f"The file has {upload.size:,} bytes; the limit is {limit:,} bytes.")
        return upload


class OrganizerImportExportMixin:
    """Import needs add and change permission on the model, export needs view permission.

    Without IMPORT_EXPORT_*_PERMISSION_CODE settings import-export lets any staff user do both.
    Export is limited to spreadsheet formats, which FormulaSafeExportMixin protects.
    """

    import_formats = [base_formats.CSV, base_formats.TSV, base_formats.JSON]
    import_form_class = SizeLimitedImportForm
    export_formats = [base_formats.CSV, base_formats.TSV]

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


def bot_secret_announce(request: HttpRequest, bot: Bot, secret: str, *, event: str) -> None:
    """Show a bot's full secret to the organizer; the only place the admin ever shows one."""
    messages.success(
        request,
        format_html(
            "{}: the signing secret of <bdi>{}</bdi> is <code>{}</code>. "
            "It is shown only this once: pass it to the team now.",
            event,
            bot,
            secret,
        ),
    )


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "joined_at"]
    readonly_fields = ["joined_at"]


class BotInline(admin.TabularInline):
    model = Bot
    extra = 0
    show_change_link = True
    fields = ["name", "kind", "url", "active", "version", "secret_hint"]
    readonly_fields = ["version", "secret_hint"]


@admin.register(Team)
class TeamAdmin(GuardedImportExportMixin, OrganizerImportExportMixin, ImportExportModelAdmin):
    resource_classes = [TeamResource]
    list_display = ["name", "side", "institution", "active", "member_count", "bot_count"]
    list_filter = ["side", "active"]
    search_fields = ["name", "slug", "institution"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["created_at"]
    inlines = [MembershipInline, BotInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("memberships", distinct=True), bot_count=Count("bots", distinct=True))
        )

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count

    @admin.display(description="Bots", ordering="bot_count")
    def bot_count(self, team: Team) -> int:
        return team.bot_count

    def save_formset(self, request: HttpRequest, form: forms.Form, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Bot:
            for bot in formset.new_objects:
                bot_secret_announce(request, bot, bot.secret, event="Bot created")

    # A change of side is allowed for a team that played no published round, but never silently:
    # the preview warns before the import is confirmed, and the result says it again.
    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        response = super().import_action(request, **kwargs)
        result = (getattr(response, "context_data", None) or {}).get("result")
        for flip in getattr(result, "side_flips", ()):
            messages.warning(request, f"Check before confirming: {flip.warning()}")
        return response

    def add_success_message(self, result: Any, request: HttpRequest) -> None:
        super().add_success_message(result, request)
        for flip in getattr(result, "side_flips", ()):
            messages.warning(request, f"Side changed: {flip.warning()}")


@admin.register(Membership)
class MembershipAdmin(GuardedImportExportMixin, OrganizerImportExportMixin, ImportExportModelAdmin):
    resource_classes = [MembershipResource]
    list_display = ["user", "team", "role", "joined_at"]
    list_filter = ["role", "team__side", "team"]
    search_fields = ["user__username", "user__email", "team__name", "team__slug"]
    autocomplete_fields = ["user", "team"]
    list_select_related = ["user", "team"]
    readonly_fields = ["joined_at"]


@admin.register(Bot)
class BotAdmin(GuardedImportExportMixin, OrganizerImportExportMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    """Bots; the secret shows once, when it is made (creation, import, rotation), and never again."""

    resource_classes = [BotResource]
    form = BotForm
    list_display = ["name", "team", "side", "active", "last_check", "version", "rotating"]
    list_filter = ["kind", "active", "team__side", "team"]
    search_fields = ["name", "team__name", "team__slug", "url"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]
    readonly_fields = [
        "secret_hint",
        "rotating",
        "version",
        "config_hash",
        "created_at",
        "updated_at",
        "health_checks",
        "bot_page",
    ]
    actions = ["rotate_secret", "finish_rotation"]
    fieldsets = [
        (None, {"fields": ["team", "name", "kind", "url", "active"]}),
        (
            "OpenAI-compatible endpoint",
            {
                "fields": ["model", "api_key", "api_key_clear", "system_prompt"],
                "classes": ["openai-only"],
                "description": "Only for bots of the OpenAI-compatible kind; arena.v1 bots do not use these.",
            },
        ),
        ("Limits", {"fields": ["timeout_seconds", "max_concurrency"]}),
        ("Signing secret", {"fields": ["secret_hint", "rotating"]}),
        ("Version", {"fields": ["version", "config_hash", "created_at", "updated_at", "health_checks", "bot_page"]}),
    ]

    class Media:
        js = ["arena/bot_form.js"]

    def get_fieldsets(self, request: HttpRequest, obj: Bot | None = None) -> list:
        # A bot being added has no secret or version yet worth showing.
        return self.fieldsets if obj is not None else self.fieldsets[:3]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Bot]:
        latest = BotHealthCheck.objects.filter(bot=OuterRef("pk")).order_by("-checked_at")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_check_ok=Subquery(latest.values("ok")[:1]),
                last_checked_at=Subquery(latest.values("checked_at")[:1]),
            )
        )

    @admin.display(description="Side", ordering="team__side")
    def side(self, bot: Bot) -> str:
        return bot.team.get_side_display()

    @admin.display(description="Secret rotation")
    def rotating(self, bot: Bot) -> str:
        return flag_html("running", "info") if bot.previous_secret else "-"

    @admin.display(description="Last health check", ordering="last_checked_at")
    def last_check(self, bot: Bot) -> str:
        return yes_no_flag(getattr(bot, "last_check_ok", None), yes="ok", no="failed", warn_when=False)

    @admin.display(description="Health checks")
    def health_checks(self, bot: Bot) -> str:
        return changelist_link("teams_bothealthcheck", "All health checks of this bot", bot__id__exact=bot.pk)

    @admin.display(description="Health history and test")
    def bot_page(self, bot: Bot) -> str:
        return format_html(
            '<a href="{}">Open the bot\'s page: health history, check health now, test this bot</a>',
            reverse("teams:bot-detail", args=[bot.pk]),
        )

    def save_model(self, request: HttpRequest, obj: Bot, form: forms.Form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            bot_secret_announce(request, obj, obj.secret, event="Bot created")

    def process_result(self, result: Any, request: HttpRequest) -> Any:
        for row in result.rows:
            if row.import_type == RowResult.IMPORT_TYPE_NEW and row.instance is not None:
                bot_secret_announce(request, row.instance, row.instance.secret, event="Bot imported")
        return super().process_result(result, request)

    @admin.action(description="Rotate secret (sign with old and new until finished)", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        for bot in queryset.select_related("team"):
            secret = bot_secret_rotate(bot=bot)
            self.log_change(request, bot, "Started a rotation of the signing secret.")
            bot_secret_announce(request, bot, secret, event="Rotation started")

    @admin.action(description="Finish rotation (forget the previous secret)", permissions=["change"])
    def finish_rotation(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        finished = 0
        for bot in queryset.exclude(previous_secret=""):
            bot_secret_rotation_finish(bot=bot)
            self.log_change(request, bot, "Finished the rotation of the signing secret.")
            finished += 1
        messages.success(request, f"Rotation finished for {finished} bot(s); the others had none running.")


@admin.register(BotHealthCheck)
class BotHealthCheckAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["bot", "checked_at", "ok", "latency_ms", "error_kind"]
    list_filter = ["ok", "error_kind", "bot__team__side"]
    search_fields = ["bot__name", "bot__team__name", "error"]
    list_select_related = ["bot__team"]
    date_hierarchy = "checked_at"
    readonly_fields = ["bot", "checked_at", "ok", "latency_ms", "error_kind", "error_text"]
    fields = readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Disposable history: deleting a bot deletes its checks, and old checks may be pruned.
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    @admin.display(description="Error")
    def error_text(self, check: BotHealthCheck) -> str:
        return text_pre(check.error)


admin.site.unregister(User)


@admin.register(User)
class ArenaUserAdmin(UserAdmin):
    """Organizers manage accounts and groups but cannot grant themselves more than they have.

    Only a superuser may make a superuser, hand out single permissions, give a group with rights
    beyond the giver's own, or touch a superuser's account (its password included).
    """

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple:
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return (*fields, "is_superuser", "user_permissions")

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = groups_within_rights_of(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def groups_within_rights_of(user: User) -> QuerySet[Group]:
    """The groups that grant nothing ``user`` does not already have: the ones they may hand out."""
    held = user.get_all_permissions()
    groups = Group.objects.prefetch_related("permissions__content_type")
    allowed = [
        group.pk
        for group in groups
        if all(f"{perm.content_type.app_label}.{perm.codename}" in held for perm in group.permissions.all())
    ]
    return Group.objects.filter(pk__in=allowed)
