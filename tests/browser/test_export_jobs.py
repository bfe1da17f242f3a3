"""An organizer's first export after `make demo`'s first run (only the practice round played): the
form says why it holds nothing and what asks for the practice round; asked, the job's page says in
words what was asked and written, with its file, on a page that fits 1280 px."""

from __future__ import annotations

from django.urls import reverse

from competition.models import Round
from judging.models import ExportJob
from tests import cast
from tests.browser.screen import horizontal_overflow
from tests.test_permissions import admin_url


def test_it_walks_the_first_export_after_the_demo_from_a_refusal_to_a_download(
    page_as, live_server, settings, tmp_path
):
    settings.ARENA_EXPORT_DIR = tmp_path
    arena = cast.build()
    practice = Round.objects.create(
        competition=arena.competition, number=2, name="Practice", slug="practice", practice=True
    )
    cast.played_conversation_make(arena, messages=["ask", "no"], labels=[cast.SAFE], round_=practice)
    page = page_as("olivia")

    page.goto(live_server.url + admin_url(ExportJob, "add"))
    assert page.get_by_label("Practice (practice round; 1 finished conversation)").is_visible()
    page.get_by_role("button", name="Save", exact=True).click()
    refusal = page.locator(".errornote, .errorlist.nonfield").filter(has_text="Nothing to export")
    assert "Practice rounds are left out unless asked: Practice has 1 finished conversation" in refusal.inner_text()
    assert not ExportJob.objects.exists()

    page.get_by_label("Include practice rounds").check()
    page.get_by_role("button", name="Save", exact=True).click()
    job = ExportJob.objects.get()
    page.goto(live_server.url + admin_url(job, "change"))

    assert page.get_by_role("link", name="Download zip").get_attribute("href") == reverse(
        "admin:judging_exportjob_download", args=[job.pk]
    )
    facts = page.locator("table.arena-facts")
    assert "Practice rounds\tincluded" in facts.first.inner_text()
    assert "Conversations exported\t1" in facts.last.inner_text()
    assert horizontal_overflow(page) == 0
