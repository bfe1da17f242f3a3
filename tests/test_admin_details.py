"""Admin details an organizer meets in the first hour (issue 14, item 10): view-only pages offer no
Delete, labels spell their acronyms, each staff role gets its own home title, messages keep slugs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from competition.models import Match
from judging.models import FinalLabel, Verdict
from teams.models import BotHealthCheck
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db


def test_it_offers_no_delete_on_view_only_pages(client, arena, labelled):
    client.force_login(arena.olivia)
    for obj in (labelled.final_label, labelled.verdict, labelled.match, labelled.circuit):
        page = client.get(admin_url(obj, "change")).content.decode()
        assert "deletelink" not in page, type(obj).__name__
        assert client.post(admin_url(obj, "delete"), {"post": "yes"}).status_code == 403
    assert FinalLabel.objects.filter(pk=labelled.final_label.pk).exists()
    assert Verdict.objects.filter(pk=labelled.verdict.pk).exists()
    assert Match.objects.filter(pk=labelled.match.pk).exists()


def test_it_still_lets_organizers_prune_health_checks_but_not_annotators(client, arena, labelled):
    client.force_login(arena.annie)
    assert client.post(admin_url(labelled.health_check, "delete"), {"post": "yes"}).status_code == 403
    client.force_login(arena.olivia)
    assert client.post(admin_url(labelled.health_check, "delete"), {"post": "yes"}).status_code == 302
    assert not BotHealthCheck.objects.filter(pk=labelled.health_check.pk).exists()


def test_it_spells_acronyms_in_field_labels(client, arena, labelled):
    client.force_login(arena.olivia)
    bot_page = client.get(admin_url(arena.rogue_bot, "change")).content.decode()
    assert ">URL:</label>" in bot_page
    assert ">API key:</label>" in bot_page
    assert "Url" not in bot_page
    assert "Api key" not in bot_page
    annotation_page = client.get(admin_url(labelled.annotation, "change")).content.decode()
    assert ">CWE:</label>" in annotation_page
    assert ">Cwe" not in annotation_page
    conversation_page = client.get(admin_url(labelled.conversation, "change")).content.decode()
    assert "<label>UUID:</label>" in conversation_page


def test_it_titles_the_admin_home_by_what_the_person_does_there(client, arena):
    client.force_login(arena.olivia)
    assert client.get(reverse("admin:index")).context["title"] == "Organize competitions"
    client.force_login(arena.annie)
    title = client.get(reverse("admin:index")).context["title"]
    assert title == "Annotate defender replies"
