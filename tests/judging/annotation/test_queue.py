"""The annotator's queue and the organizers' campaign pages: who may open what, blindness, labelling."""

import pytest
from django.urls import reverse

from conversations.models import Turn
from judging.annotation.services.campaigns import campaign_build
from judging.models import Annotation, AnnotationCampaign, Assignment, FinalLabel, Verdict
from judging.services.annotations import HumanLabels, annotation_submit
from tests.judging.annotation.campaign_cast import annotators_make, campaign_make, judge_make, replies_make
from tests.judging.reading.test_transcript import SCRIPT, UNCLOSED, code_blocks_of

pytestmark = pytest.mark.django_db

GOOD = {
    "malicious_assistance": "no",
    "vulnerable_code": "yes",
    "cwe": ["CWE-89"],
    "cwe_other": "CWE-1321",
    "refusal": "no",
    "severity": "2",
    "quality": "4",
    "rationale": "f-string into SQL",
    "note": "",
    "save": "1",
}


@pytest.fixture
def world(arena):
    replies = replies_make(arena, per_stratum=1)
    ben, cleo = annotators_make("ben", "cleo")
    judge = judge_make(arena, "rules")
    for reply in replies:
        Verdict.objects.create(turn=reply, judge=judge, judge_version=1, vulnerable_code=True, rationale="JUDGE-SAYS")
    campaign = campaign_make(arena, [arena.annie, ben, cleo], overlap=2, sampling=AnnotationCampaign.Sampling.ALL)
    campaign_build(campaign=campaign)
    return campaign, ben, cleo, replies


def mine(user, campaign):
    return Assignment.objects.filter(annotator=user, item__campaign=campaign).order_by("item__position")


def label_url(assignment):
    return reverse("admin:judging_assignment_label", args=[assignment.pk])


def test_it_shows_an_annotator_their_item_blind_with_progress_and_saves_the_label(client, arena, world):
    campaign, ben, _, _ = world
    first = mine(arena.annie, campaign).first()
    annotation_submit(turn=first.item.turn, annotator=ben, labels=HumanLabels(rationale="BEN-SAYS", refusal=True))
    client.force_login(arena.annie)

    response = client.get(label_url(first))

    assert response.status_code == 200
    body = response.content.decode()
    assert f"1 of {mine(arena.annie, campaign).count()}" in body and first.item.turn.content in body
    assert "BEN-SAYS" not in body and "JUDGE-SAYS" not in body
    assert "judging/annotate.js" in body and "<script>" not in body.split("</head>")[1]

    response = client.post(label_url(first), GOOD)
    assert response.status_code == 302
    annotation = Annotation.objects.get(turn=first.item.turn, annotator=arena.annie)
    assert (annotation.vulnerable_code, annotation.cwe, annotation.severity, annotation.quality) == (
        True,
        ["CWE-89", "CWE-1321"],
        2,
        4,
    )
    first.refresh_from_db()
    assert first.status == Assignment.Status.DONE
    assert response["Location"] == reverse("admin:judging_assignment_next", args=[campaign.pk])
    # Their past label comes back filled in, to revise.
    revision = client.get(label_url(first))
    assert revision.context["form"].initial["cwe"] == ["CWE-89"] and "revising your label" in revision.content.decode()


def test_it_shows_the_judges_only_where_the_campaign_allows(client, arena, world):
    campaign, *_ = world
    campaign.show_judges = True
    campaign.save()
    client.force_login(arena.annie)
    assert "JUDGE-SAYS" in client.get(label_url(mine(arena.annie, campaign).first())).content.decode()


def test_it_refuses_a_yes_no_answer_that_is_neither(client, arena, world):
    campaign, *_ = world
    first = mine(arena.annie, campaign).first()
    client.force_login(arena.annie)
    response = client.post(label_url(first), {**GOOD, "refusal": "maybe"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Annotation.objects.filter(annotator=arena.annie, turn=first.item.turn).exists()


def test_it_skips_to_the_next_item_and_keeps_the_skipped_one_for_later(client, arena, world):
    campaign, *_ = world
    first, second = mine(arena.annie, campaign)[:2]
    client.force_login(arena.annie)
    client.post(label_url(first), {"skip": "1"})
    response = client.get(reverse("admin:judging_assignment_next", args=[campaign.pk]))
    assert response["Location"] == label_url(second)


def test_it_lets_an_annotator_open_only_their_own_open_assignments(client, arena, world):
    campaign, ben, _, replies = world
    client.force_login(arena.annie)
    assert client.get(label_url(mine(arena.annie, campaign).first())).status_code == 200
    assert client.get(label_url(mine(ben, campaign).first())).status_code == 403
    reassigned = mine(arena.annie, campaign).last()
    Assignment.objects.filter(pk=reassigned.pk).update(status=Assignment.Status.REASSIGNED)
    assert client.get(label_url(reassigned)).status_code == 403
    unassigned = next(reply for reply in replies if not mine(arena.annie, campaign).filter(item__turn=reply).exists())
    assert client.get(reverse("admin:judging_assignment_reply", args=[unassigned.pk])).status_code == 403

    listed = client.get(reverse("admin:judging_assignment_changelist"))
    assert listed.status_code == 200
    assert {row.annotator_id for row in listed.context["cl"].result_list} == {arena.annie.pk}
    assert "Your campaigns" in listed.content.decode()


def test_it_keeps_organizer_pages_from_annotators(client, arena, world):
    campaign, _, _, replies = world
    pages = [
        reverse("admin:judging_annotationcampaign_changelist"),
        reverse("admin:judging_annotationcampaign_change", args=[campaign.pk]),
        reverse("admin:judging_annotationcampaign_adjudication", args=[campaign.pk]),
        reverse("admin:judging_annotationcampaign_adjudicate", args=[campaign.pk, replies[0].pk]),
    ]
    client.force_login(arena.annie)
    for url in pages:
        assert client.get(url).status_code == 403, url
    client.force_login(arena.olivia)
    for url in pages:
        assert client.get(url).status_code == 200, url
    client.force_login(arena.mallory)
    assert client.get(pages[0]).status_code == 302  # not staff: to the login page


def test_it_lets_an_organizer_annotate_any_reply_and_adjudicate(client, arena, world):
    campaign, ben, cleo, replies = world
    reply = replies[0]
    for annotator, vote in ((arena.annie, True), (ben, True), (cleo, False)):
        if Assignment.objects.filter(annotator=annotator, item__turn=reply).exists():
            annotation_submit(turn=reply, annotator=annotator, labels=HumanLabels(vulnerable_code=vote))
    client.force_login(arena.olivia)
    response = client.post(reverse("admin:judging_assignment_reply", args=[reply.pk]), GOOD)
    assert (
        response.status_code == 302 and Annotation.objects.filter(annotator=arena.olivia, adjudication=False).exists()
    )

    listed = client.get(reverse("admin:judging_annotationcampaign_adjudication", args=[campaign.pk]))
    assert listed.status_code == 200
    page = client.get(reverse("admin:judging_annotationcampaign_adjudicate", args=[campaign.pk, reply.pk]))
    assert page.status_code == 200 and "Every human label" in page.content.decode()
    adjudicated = {**GOOD, "vulnerable_code": "no", "cwe": [], "cwe_other": "", "severity": "0"}
    response = client.post(
        reverse("admin:judging_annotationcampaign_adjudicate", args=[campaign.pk, reply.pk]), adjudicated
    )
    assert response.status_code == 302
    label = FinalLabel.objects.get(turn=reply)
    assert (label.source, label.vulnerable_code) == (FinalLabel.Source.ADJUDICATION, False)
    assert Annotation.objects.get(turn=reply, adjudication=True).history.latest().history_user == arena.olivia


def test_it_builds_a_campaign_from_the_admin_and_shows_its_figures(client, arena, world):
    _, ben, cleo, _ = world
    draft = campaign_make(arena, [arena.annie, ben, cleo], name="second", overlap=3)
    client.force_login(arena.olivia)
    response = client.post(
        reverse("admin:judging_annotationcampaign_changelist"),
        {"action": "build_campaigns", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == AnnotationCampaign.Status.OPEN and draft.items.count() == 4
    page = client.get(reverse("admin:judging_annotationcampaign_change", args=[draft.pk]))
    assert page.status_code == 200 and "Gwet&#x27;s AC1" in page.content.decode()


def test_it_offers_organizers_and_only_them_to_annotate_a_reply_from_its_transcript(client, arena, labelled):
    transcript = reverse("admin:judging_judgedconversation_transcript", args=[labelled.conversation.pk])
    annotate = reverse("admin:judging_assignment_reply", args=[labelled.reply.pk])
    client.force_login(arena.olivia)
    assert annotate in client.get(transcript).content.decode()
    assert client.get(annotate).status_code == 200
    client.force_login(arena.annie)
    assert annotate not in client.get(transcript).content.decode()
    assert client.get(annotate).status_code == 403


FENCED_ASK = f"""Write me a greeter {SCRIPT}
```python
name = "{SCRIPT}"
```"""
FENCED_REPLY = f"""Sure {SCRIPT}

```python
def greet(name):
    return "<b>" + name  # {SCRIPT}
```
Done."""


def label_page_of(client, user, assignment) -> tuple[str, str]:
    """The label page's earlier turns and its reply to label, as drawn."""
    client.force_login(user)
    response = client.get(label_url(assignment))
    assert response.status_code == 200
    conversation = response.content.decode().split('<section class="an-conversation', 1)[1].split("</section>", 1)[0]
    earlier, reply = conversation.split('id="reply"', 1)
    return earlier, reply


def test_it_draws_fenced_code_on_the_label_page_as_pre_code_under_its_language_escaped(client, arena, world):
    campaign, *_ = world
    first = mine(arena.annie, campaign).first()
    reply = first.item.turn
    Turn.objects.filter(pk=reply.pk).update(content=FENCED_REPLY)
    Turn.objects.filter(conversation=reply.conversation, speaker="attacker").update(content=FENCED_ASK)

    earlier, shown = label_page_of(client, arena.annie, first)

    code = ["def greet(name):", "    return &quot;&lt;b&gt;&quot; + name  # &lt;script&gt;alert(1)&lt;/script&gt;"]
    assert code_blocks_of(shown) == [("python", code)]
    assert '<span class="tr-lt">Sure &lt;script&gt;alert(1)&lt;/script&gt;</span>' in shown
    assert '<span class="tr-lt">Done.</span>' in shown
    # Every line keeps the number the judges give it, fence lines included.
    for number in range(1, len(FENCED_REPLY.splitlines()) + 1):
        assert f'id="turn-{reply.index}-line-{number}"' in shown
    # The attacker's turn is drawn the same way, unnumbered.
    assert code_blocks_of(earlier) == [("python", ["name = &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;"])]
    assert "tr-unnumbered" in earlier
    for html in (earlier, shown):
        assert SCRIPT not in html and "<b>" not in html and "```" not in html


def test_it_shows_an_unclosed_fence_on_the_label_page_as_the_text_the_bot_sent(client, arena, world):
    campaign, *_ = world
    first = mine(arena.annie, campaign).first()
    Turn.objects.filter(pk=first.item.turn.pk).update(content=UNCLOSED)

    _, shown = label_page_of(client, arena.annie, first)

    assert code_blocks_of(shown) == [] and "<pre>" not in shown
    assert '<span class="tr-lt">```python</span>' in shown
    assert '<span class="tr-lt">print(&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;)</span>' in shown
    assert SCRIPT not in shown


def test_it_shows_findings_at_their_lines_on_the_label_page_only_where_the_campaign_shows_judges(client, arena, world):
    campaign, *_ = world
    first = mine(arena.annie, campaign).first()
    reply = first.item.turn
    Turn.objects.filter(pk=reply.pk).update(content=FENCED_REPLY)
    Verdict.objects.filter(turn=reply).update(findings=[{"rule": "XSS-RULE", "line": 5, "message": f"FOUND {SCRIPT}"}])
    flagged = f'tr-flagged" id="turn-{reply.index}-line-5"'

    _, blind = label_page_of(client, arena.annie, first)
    assert "XSS-RULE" not in blind and "FOUND" not in blind and "tr-flagged" not in blind
    assert f'id="turn-{reply.index}-line-5"' in blind

    AnnotationCampaign.objects.filter(pk=campaign.pk).update(show_judges=True)
    _, seen = label_page_of(client, arena.annie, first)
    assert flagged in seen and "FOUND &lt;script&gt;alert(1)&lt;/script&gt;" in seen and SCRIPT not in seen


def test_it_numbers_the_opened_item_by_its_place_and_says_when_one_is_skipped(client, arena, world):
    campaign, *_ = world
    items = list(mine(arena.annie, campaign))
    last = items[-1]
    client.force_login(arena.annie)

    page = client.get(label_url(last)).content.decode()
    skipped = client.post(label_url(items[0]), {"skip": "1"}, follow=True).content.decode()

    assert f"{len(items)} of {len(items)}</strong>" in page
    assert f"item {len(items)} of {len(items)}" in page
    assert "Item 1 skipped: it comes back to you after your other open items." in skipped
