"""Who may use the admin: the Organizer and Annotator groups, and everyone else.

Also home of ``admin_url`` and ``inline_form_data``, which the admin tests of every app use.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from competition.apps import annotator_permissions_set
from competition.models import Round
from conversations.models import Conversation
from teams.models import Membership
from tests.cast import Labelled, labelled_conversation_make, user_make

pytestmark = pytest.mark.django_db


def admin_url(obj_or_model, page: str) -> str:
    """The admin URL of ``page`` (changelist, add, change, delete, import, export) for a model or an object."""
    opts = obj_or_model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{page}"
    return reverse(name, args=[obj_or_model.pk]) if page in ("change", "delete", "history") else reverse(name)


def inline_form_data(response) -> dict:
    """What a browser posts back for the inlines of an admin change page, unchanged."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = formset.management_form[name].value()
        for form in formset.initial_forms:
            for name in form.fields:
                value = form[name].value()
                if value is not None:
                    data[form.add_prefix(name)] = value
    return data


def arena_objects(arena, labelled: Labelled) -> list:
    """One object of every model the arena's admin registers."""
    return [
        arena.rogues,
        arena.rogues.memberships.first(),
        arena.rogue_bot,
        labelled.health_check,
        arena.competition,
        arena.competition.entries.first(),
        arena.round,
        labelled.match,
        labelled.circuit,
        labelled.conversation,
        labelled.reply,
        labelled.judge,
        labelled.verdict,
        labelled.annotation,
        labelled.final_label,
    ]


def organizer_pages(arena, labelled: Labelled) -> list[str]:
    objects = arena_objects(arena, labelled)
    return [admin_url(obj, page) for obj in objects for page in ("changelist", "change")] + [
        reverse("admin:index"),
        reverse("admin:django_q_schedule_changelist"),
        reverse("admin:django_q_failure_changelist"),
        admin_url(arena.alice, "changelist"),
        admin_url(arena.alice, "change"),
        admin_url(arena.rogues, "add"),
        admin_url(arena.rogues, "import"),
        admin_url(arena.rogue_bot, "export"),
    ]


def test_it_gives_organizers_every_permission_on_the_arena_apps(arena):
    organizer = Group.objects.get(name="Organizer")
    codenames = set(organizer.permissions.values_list("content_type__app_label", "codename"))
    for app_label in ("teams", "competition", "conversations", "judging"):
        for model in global_apps.get_app_config(app_label).get_models():
            for action in ("add", "change", "delete", "view"):
                assert (app_label, f"{action}_{model._meta.model_name}") in codenames
    assert {("auth", "view_user"), ("auth", "add_user"), ("auth", "change_user")} <= codenames
    assert ("auth", "delete_user") not in codenames
    assert ("django_q", "view_schedule") in codenames
    assert ("django_q", "change_schedule") not in codenames
    assert ("judging", "view_all_annotations") in codenames


ANNOTATOR_CODENAMES = {
    ("judging", "add_annotation"),
    ("judging", "change_annotation"),
    ("judging", "view_annotation"),
    ("judging", "view_assignment"),
}


def test_it_gives_annotators_only_their_queue_and_their_annotations(arena):
    annotator = Group.objects.get(name="Annotator")
    assert set(annotator.permissions.values_list("content_type__app_label", "codename")) == ANNOTATOR_CODENAMES


def test_it_takes_back_a_permission_granted_to_annotators_by_hand_at_the_next_migrate(arena):
    annotator = Group.objects.get(name="Annotator")
    annotator.permissions.add(Permission.objects.get(codename="view_conversation"))
    annotator_permissions_set(sender=global_apps.get_app_config("judging"), using="default")
    assert set(annotator.permissions.values_list("content_type__app_label", "codename")) == ANNOTATOR_CODENAMES


def test_it_makes_the_groups_again_without_duplicates_and_removes_them_on_reverse(arena):
    migration = importlib.import_module("competition.migrations.0002_groups")
    editor = SimpleNamespace(connection=connection)
    before = set(Group.objects.get(name="Organizer").permissions.values_list("pk", flat=True))

    migration.groups_create(global_apps, editor)
    assert Group.objects.filter(name__in=["Organizer", "Annotator"]).count() == 2
    assert set(Group.objects.get(name="Organizer").permissions.values_list("pk", flat=True)) == before

    migration.groups_delete(global_apps, editor)
    assert not Group.objects.filter(name__in=["Organizer", "Annotator"]).exists()
    assert not Permission.objects.filter(codename="view_all_annotations").exists()
    arena.olivia.refresh_from_db()
    assert not User.objects.get(pk=arena.olivia.pk).has_perm("teams.view_team")


def test_it_lets_the_organizer_open_every_admin_page(client, arena, labelled):
    client.force_login(arena.olivia)
    for url in organizer_pages(arena, labelled):
        assert client.get(url).status_code == 200, url


def test_it_lists_every_model_with_a_number_of_queries_that_does_not_grow_with_its_rows(client, arena, labelled):
    changelists = [admin_url(obj, "changelist") for obj in arena_objects(arena, labelled)]
    client.force_login(arena.olivia)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = {url: queries(url) for url in changelists}
    labelled_conversation_make(arena, attacker=arena.crimson_bot, defender=arena.aegis_bot)
    Membership.objects.create(team=arena.crimson, user=user_make("nina"))
    Round.objects.create(competition=arena.competition, number=2, name="Tournament 2", slug="tournament-2")
    assert {url: queries(url) for url in changelists} == before


def test_it_redirects_a_team_member_to_the_admin_login_from_every_admin_page(client, arena, labelled):
    client.force_login(arena.alice)
    for url in organizer_pages(arena, labelled):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_it_refuses_annotators_the_organizers_pages(client, arena, labelled):
    client.force_login(arena.annie)
    forbidden = [
        admin_url(arena.rogues, "add"),
        admin_url(arena.rogue_bot, "changelist"),
        admin_url(arena.round, "change"),
        admin_url(arena.rogues, "import"),
        admin_url(arena.rogues, "export"),
        admin_url(arena.rogue_bot, "export"),
        admin_url(labelled.match, "changelist"),
        admin_url(arena.olivia, "changelist"),
    ]
    for url in forbidden:
        assert client.get(url).status_code == 403, url


def test_it_lets_annotators_annotate_and_read_nothing_else(client, arena, labelled):
    client.force_login(arena.annie)
    allowed = [
        admin_url(labelled.annotation, "changelist"),
        admin_url(labelled.annotation, "change"),
        admin_url(labelled.annotation, "add"),
        reverse("admin:judging_assignment_changelist"),
    ]
    for url in allowed:
        assert client.get(url).status_code == 200, url
    # Blind (docs/annotation.md): these name teams and bots or show judges' and final labels.
    for obj in (labelled.conversation, labelled.reply, labelled.verdict, labelled.final_label, labelled.judge):
        assert client.get(admin_url(obj, "changelist")).status_code == 403, obj
        assert client.get(admin_url(obj, "change")).status_code in (302, 403), obj


def test_it_shows_annotators_a_conversation_read_only_without_moderation_actions(client, arena, labelled):
    client.force_login(arena.annie)
    page = client.get(admin_url(labelled.conversation, "changelist")).content.decode()
    assert "hide_from_teams" not in page
    response = client.post(
        admin_url(labelled.conversation, "change"), {"moderation": "hidden", "moderation_reason": "annie hides"}
    )
    assert response.status_code == 403
    labelled.conversation.refresh_from_db()
    assert labelled.conversation.moderation == Conversation.Moderation.VISIBLE


def test_it_keeps_organizers_from_raising_their_own_rights(client, arena):
    root = User.objects.create_superuser("root", "root@example.org", "x")
    client.force_login(arena.olivia)
    assert client.get(admin_url(root, "change")).status_code == 200
    response = client.post(reverse("admin:auth_user_password_change", args=[root.pk]), {})
    assert response.status_code == 403
    page = client.get(admin_url(arena.olivia, "change")).content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page
    assert 'name="groups"' in page


def test_it_lets_a_superuser_grant_superuser_rights(client, arena):
    root = User.objects.create_superuser("root", "root@example.org", "x")
    client.force_login(root)
    page = client.get(admin_url(arena.olivia, "change")).content.decode()
    assert 'name="is_superuser"' in page
    assert client.get(reverse("admin:auth_user_password_change", args=[root.pk])).status_code == 200


def test_it_lets_organizers_hand_out_only_groups_within_their_own_rights(client, arena):
    auditors = Group.objects.create(name="Auditors")
    auditors.permissions.add(Permission.objects.get(codename="delete_user"))
    client.force_login(arena.olivia)
    form = client.get(admin_url(arena.alice, "change")).context["adminform"].form
    assert set(form.fields["groups"].queryset.values_list("name", flat=True)) == {"Organizer", "Annotator"}
    root = User.objects.create_superuser("root", "root@example.org", "x")
    client.force_login(root)
    form = client.get(admin_url(arena.alice, "change")).context["adminform"].form
    assert "Auditors" in set(form.fields["groups"].queryset.values_list("name", flat=True))
