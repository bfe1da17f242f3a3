"""The organizers' view of accounts: mails on their way out (why one failed), invitations, notices."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Invitation, Notice, OutboundMail
from config.admin_kit import ViewOnlyAdminMixin


@admin.register(OutboundMail)
class OutboundMailAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["subject", "to", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["to", "subject"]
    readonly_fields = ["to", "subject", "status", "attempts", "last_error", "created_at", "sent_at", "text"]
    exclude = ["html", "headers"]


@admin.register(Invitation)
class InvitationAdmin(ViewOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["email", "team", "invited_by", "created_at", "expires_at", "accepted_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["email", "team__name"]
    list_select_related = ["team", "invited_by"]
    exclude = ["token_hash"]


@admin.register(Notice)
class NoticeAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["subject", "user", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["subject", "user__username"]
    list_select_related = ["user"]
