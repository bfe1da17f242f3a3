"""The buttons of a campaign's own admin page: Build a draft, hand inactive annotators' items to others
and Close an open one, through the services the bulk actions call, for those who may change campaigns."""

import re

import pytest
from django.urls import reverse

from judging.models import AnnotationCampaign, Assignment
from tests.cast import reader_make
from tests.judging.annotation.campaign_cast import annotators_make, campaign_make, replies_make

pytestmark = pytest.mark.django_db


def page_url(campaign: AnnotationCampaign) -> str:
    return reverse("admin:judging_annotationcampaign_change", args=[campaign.pk])


def move_url(campaign: AnnotationCampaign, button: str) -> str:
    return reverse("admin:judging_annotationcampaign_move", args=[campaign.pk, button])


def buttons_on(page: str) -> set[str]:
    return set(re.findall(r'<form method="post" action="/admin/judging/annotationcampaign/\d+/move/([a-z]+)/"', page))


@pytest.fixture
def draft(arena):
    replies_make(arena, per_stratum=2)
    return campaign_make(arena, [arena.annie, *annotators_make("ann2")], overlap=2)


def test_it_builds_a_draft_campaign_from_its_page(client, arena, draft):
    client.force_login(arena.olivia)
    assert buttons_on(client.get(page_url(draft)).content.decode()) == {"build"}
    answer = client.post(move_url(draft, "build"), follow=True)
    draft.refresh_from_db()
    assert draft.status == AnnotationCampaign.Status.OPEN
    assert draft.items.count() == 8
    page = answer.content.decode()
    assert "Human check: 8 item(s), 16 assignment(s)." in page
    assert buttons_on(page) == {"reassign", "close"}


def test_it_shows_the_services_refusal_when_a_campaign_cannot_be_built(client, arena, draft):
    draft.overlap = 3
    draft.save(update_fields=["overlap"])
    client.force_login(arena.olivia)
    page = client.post(move_url(draft, "build"), follow=True).content.decode()
    assert '<li class="error">Human check asks for 3 annotators per item but has 2 active annotator(s)' in page
    draft.refresh_from_db()
    assert draft.status == AnnotationCampaign.Status.DRAFT


def test_it_refuses_a_second_build_from_a_page_left_open(client, arena, draft):
    client.force_login(arena.olivia)
    client.post(move_url(draft, "build"))
    page = client.post(move_url(draft, "build"), follow=True).content.decode()
    assert "Human check is open for annotation: only a draft is built" in page
    assert draft.items.count() == 8  # built once


def test_it_hands_an_inactive_annotators_items_to_others(client, arena, draft):
    extra = annotators_make("ann3")[0]
    draft.annotators.add(extra)
    client.force_login(arena.olivia)
    client.post(move_url(draft, "build"))
    leaving = draft.annotators.order_by("username").first()
    leaving.is_active = False
    leaving.save(update_fields=["is_active"])
    page = client.post(move_url(draft, "reassign"), follow=True).content.decode()
    assert re.search(r"Human check: \d+ item\(s\) reassigned", page)
    assert not Assignment.objects.filter(annotator=leaving, status=Assignment.Status.OPEN).exists()


def test_it_asks_before_closing_and_then_closes(client, arena, draft):
    client.force_login(arena.olivia)
    client.post(move_url(draft, "build"))
    question = client.post(move_url(draft, "close")).content.decode()
    assert "Close this campaign? Its queue empties for every annotator" in question
    draft.refresh_from_db()
    assert draft.status == AnnotationCampaign.Status.OPEN
    page = client.post(move_url(draft, "close"), {"confirm": "yes"}, follow=True).content.decode()
    draft.refresh_from_db()
    assert draft.status == AnnotationCampaign.Status.CLOSED
    assert "Human check: closed." in page
    assert buttons_on(page) == set()


def test_it_says_a_draft_is_not_closed(client, arena, draft):
    client.force_login(arena.olivia)
    page = client.post(move_url(draft, "close"), {"confirm": "yes"}, follow=True).content.decode()
    assert "Human check is draft (items not built): only an open campaign closes." in page
    draft.refresh_from_db()
    assert draft.status == AnnotationCampaign.Status.DRAFT


def test_it_shows_no_button_to_a_reader_and_refuses_the_build(client, arena, draft):
    reader = reader_make("rita", "judging.view_annotationcampaign")
    client.force_login(reader)
    page = client.get(page_url(draft))
    assert page.status_code == 200
    assert buttons_on(page.content.decode()) == set()
    assert client.post(move_url(draft, "build")).status_code == 403
    draft.refresh_from_db()
    assert draft.status == AnnotationCampaign.Status.DRAFT


def test_it_refuses_the_build_to_an_annotator(client, arena, draft):
    client.force_login(arena.annie)
    assert client.post(move_url(draft, "build")).status_code == 403
    assert client.get(move_url(draft, "build")).status_code in (403, 405)
    draft.refresh_from_db()
    assert draft.status == AnnotationCampaign.Status.DRAFT
