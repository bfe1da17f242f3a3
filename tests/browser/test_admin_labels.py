"""Labels and flags read the right way round: unsafe warns in words, safe and "no" are neutral; the
annotator's label page draws a reply's fenced code as a code block."""

from __future__ import annotations

from django.urls import reverse

from conversations.models import Turn
from judging.annotation.services.campaigns import campaign_build
from judging.models import AnnotationCampaign, Assignment, FinalLabel, Verdict
from tests import cast
from tests.browser.screen import horizontal_overflow
from tests.judging.annotation.campaign_cast import campaign_make, replies_make
from tests.judging.annotation.test_queue import FENCED_REPLY

ICONS = 'img[src*="icon-yes"], img[src*="icon-no"]'


def test_it_shows_a_final_labels_vulnerable_code_as_a_warning_in_words(page_as, live_server, db):
    labelled = cast.labelled_conversation_make(cast.build())
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:judging_finallabel_change", args=[labelled.final_label.pk]))
    vulnerable = page.locator(".field-vulnerable_code_text .arena-flag")
    assert vulnerable.inner_text() == "yes: unsafe"
    assert "arena-flag-warn" in vulnerable.get_attribute("class")
    # No opinion on malicious assistance and refusal: said in words, in no alarming colour.
    for field in ("malicious_assistance_text", "refusal_text"):
        flag = page.locator(f".field-{field} .arena-flag")
        assert flag.inner_text() == "no opinion"
        assert "arena-flag-warn" not in flag.get_attribute("class")
    assert page.locator(ICONS).count() == 0


def test_it_shows_safe_verdicts_neutral_and_unsafe_ones_as_warnings_in_the_list(page_as, live_server, db):
    labelled = cast.labelled_conversation_make(cast.build())
    Verdict.objects.create(
        turn=labelled.reply,
        judge=labelled.judge,
        judge_version=2,
        malicious_assistance=False,
        vulnerable_code=False,
        refusal=False,
    )
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:judging_verdict_changelist"))
    unsafe = page.locator("#result_list .arena-flag", has_text="vulnerable code CWE-89")
    assert "arena-flag-warn" in unsafe.get_attribute("class")
    safe = page.locator("#result_list .arena-flag", has_text="safe")
    assert safe.get_attribute("class") == "arena-flag"
    assert page.locator(f"#result_list {ICONS}").count() == 0


def test_it_names_a_rounds_kind_instead_of_a_red_cross_for_not_practice(page_as, live_server, db):
    cast.build()
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:competition_round_changelist"))
    assert page.locator("#result_list td.field-round_kind").inner_text() == "tournament"
    assert page.locator(f"#result_list {ICONS}").count() == 0


def test_it_shows_a_human_decided_final_label_in_words_to_organizers(page_as, live_server, db):
    labelled = cast.labelled_conversation_make(cast.build())
    FinalLabel.objects.filter(pk=labelled.final_label.pk).update(
        source=FinalLabel.Source.HUMAN_MAJORITY, vulnerable_code=False, malicious_assistance=False, refusal=True
    )
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:judging_finallabel_changelist"))
    flags = page.locator("#result_list td.field-labels .arena-flag").all_inner_texts()
    assert flags == ["safe", "refusal", "severity 2"]


def test_it_draws_a_replys_fence_as_a_monospace_code_block_on_the_label_page_that_fits(page_as, live_server, db):
    arena = cast.build()
    replies_make(arena, per_stratum=1)
    campaign = campaign_make(arena, [arena.annie], overlap=1, sampling=AnnotationCampaign.Sampling.ALL)
    campaign_build(campaign=campaign)
    assignment = Assignment.objects.filter(annotator=arena.annie).order_by("item__position").first()
    long_line = "    return " + " + ".join(["name"] * 60)
    Turn.objects.filter(pk=assignment.item.turn_id).update(content=FENCED_REPLY.replace("    return", long_line, 1))
    page = page_as(arena.annie)
    page.goto(live_server.url + reverse("admin:judging_assignment_label", args=[assignment.pk]))

    block = page.locator("#reply figure.tr-fence")
    assert block.locator(".tr-fence-lang").inner_text() == "python"
    code = block.locator("pre code .tr-lt").first
    assert code.inner_text() == "def greet(name):"
    assert "monospace" in code.evaluate("(node) => getComputedStyle(node).fontFamily")
    prose = page.locator("#reply .tr-line", has_text="Done.").locator(".tr-lt")
    assert "monospace" not in prose.evaluate("(node) => getComputedStyle(node).fontFamily")
    assert page.locator("#reply .tr-ln").first.inner_text() == "1"
    assert horizontal_overflow(page) == 0
