"""View-only admin pages (issue: organizer's first tour, item 6): a page where nothing can be added or
changed is a record of what the platform did; it uses ViewOnlyAdminMixin and offers no delete action."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from config.admin_kit import ViewOnlyAdminMixin
from judging.models import DatasetConversation
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db

# Rows the platform writes but organizers may prune by hand (ViewOnlyAdminMixin's docstring).
PRUNABLE = {"teams.BotHealthCheck"}


def request_of(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def view_only_admins(request) -> list[admin.ModelAdmin]:
    return [
        model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in {"competition", "teams", "conversations", "judging"}
        and not model_admin.has_add_permission(request)
        and not model_admin.has_change_permission(request)
    ]


def test_it_builds_every_view_only_admin_on_the_mixin_and_offers_no_delete(arena):
    root = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    request = request_of(root)
    admins = view_only_admins(request)
    assert len(admins) >= 5
    for model_admin in admins:
        label = model_admin.model._meta.label
        assert isinstance(model_admin, ViewOnlyAdminMixin), label
        if label not in PRUNABLE:
            assert not model_admin.has_delete_permission(request), label
            assert "delete_selected" not in model_admin.get_actions(request), label


def test_it_offers_no_delete_selected_on_the_dataset_conversations_list(client, arena, labelled):
    client.force_login(arena.olivia)
    page = client.get(admin_url(DatasetConversation, "changelist"))
    assert page.status_code == 200
    assert "delete_selected" not in page.content.decode()
    # its negative: a list organizers do edit still offers it
    teams = client.get(admin_url(arena.rogues, "changelist")).content.decode()
    assert "delete_selected" in teams
