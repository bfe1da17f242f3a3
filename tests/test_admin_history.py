"""The admin's History pages (issue: organizer's first tour, items 1 and 2): every admin that shows a
History keeps one for its model, and a round's History lists each status move with who and why."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from accounts.services import invitation_create
from competition.models import Round
from competition.pipeline import lifecycle
from conversations.models import Conversation
from judging.models import AnnotationCampaign
from judging.services import round_labels_report
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db


def history_admins() -> list[tuple[type, admin.ModelAdmin]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, SimpleHistoryAdmin)
    ]


def test_it_keeps_history_for_every_model_whose_admin_shows_one():
    assert history_admins(), "no admin uses SimpleHistoryAdmin: the walk below would check nothing"
    missing = [
        model._meta.label
        for model, _ in history_admins()
        if not hasattr(model._meta, "simple_history_manager_attribute")
    ]
    assert missing == [], f"SimpleHistoryAdmin on models without HistoricalRecords: {missing}"


def test_it_opens_every_history_page_without_an_error(client, arena, labelled):
    AnnotationCampaign.objects.create(competition=arena.competition, name="First pass")
    invitation_create(team=arena.rogues, email="invitee@example.org", invited_by=arena.alice)
    root = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    client.force_login(root)
    for model, _ in history_admins():
        obj = model._default_manager.first()
        assert obj is not None, f"the cast has no {model._meta.label} to open the History of"
        answer = client.get(admin_url(obj, "history"))
        assert answer.status_code == 200, model._meta.label
        assert ">None<" not in re.sub(r"\s+", "", answer.content.decode()), model._meta.label


def test_it_does_not_open_history_for_someone_not_staff(client, arena):
    campaign = AnnotationCampaign.objects.create(competition=arena.competition, name="First pass")
    client.force_login(arena.alice)  # not staff
    assert client.get(admin_url(campaign, "history")).status_code == 302


def history_rows(client, round_) -> list[list[str]]:
    page = client.get(admin_url(round_, "history")).content.decode()
    table = page.split('id="change-history"')[1].split("</table>")[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
        cells = [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, flags=re.S)]
        rows.append(cells)
    return rows


def test_it_lists_every_status_move_of_a_round_with_who_and_why(client, arena):
    client.force_login(arena.olivia)
    changelist = reverse("admin:competition_round_changelist")
    client.post(changelist, {"action": "start_rounds", "_selected_action": [arena.round.pk]})
    # The platform plays and judges: no conversation left to play, no reply to judge.
    Conversation.objects.filter(match__round=arena.round).update(status=Conversation.Status.CANCELLED)
    lifecycle.round_playing_settle(round_id=arena.round.pk)
    round_labels_report(round_id=arena.round.pk, reason="nothing to judge")
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.SCORED
    for confirm in ({}, {"confirm": "yes"}):
        client.post(changelist, {"action": "publish_rounds", "_selected_action": [arena.round.pk], **confirm})
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.PUBLISHED
    # columns: object, date, comment, changed by, change reason, changes; newest first
    moves = [(row[3], row[4]) for row in reversed(history_rows(client, arena.round))]
    assert moves == [
        ("the platform", ""),  # created by the cast, outside any request
        ("olivia", "Round action: started"),
        ("the platform", "Playing finished: judging starts"),
        ("the platform", "Judging finished: scored"),
        ("olivia", "Round action: published"),
    ]


def test_it_records_pause_resume_and_cancel_in_the_round_history(client, arena):
    lifecycle.round_start(round_id=arena.round.pk)
    lifecycle.round_pause(round_id=arena.round.pk)
    lifecycle.round_resume(round_id=arena.round.pk)
    lifecycle.round_cancel(round_id=arena.round.pk)
    reasons = list(arena.round.history.order_by("history_id").values_list("history_change_reason", "status"))
    assert reasons[1:] == [
        ("Round action: started", "running"),
        ("Round action: paused", "paused"),
        ("Round action: resumed", "running"),
        ("Round action: cancelled", "cancelled"),
    ]
