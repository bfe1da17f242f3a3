"""Annotators are blind in the admin (docs/annotation.md, issue 20 item 2): every admin URL, walked as
an annotator of a campaign that hides the judges, never names a team or a bot, never shows a judge's
label or a final label; an annotator's admin is the queue and the label page. The negative: an
organizer sees them.

The URLs come from the resolver, as in tests/test_isolation.py, so an admin page added later is
walked without editing this test; each parameter is filled with the primary keys of every object
the cast and the campaign made.
"""

from __future__ import annotations

from itertools import product

import pytest
from django.test import Client
from django.urls import reverse

from judging.models import Annotation, Assignment, FinalLabel, Judge, Verdict
from teams.models import Bot, Team
from tests.cast import PASSWORD, labelled_conversation_make
from tests.judging.annotation.campaign_cast import assignments_make
from tests.test_isolation import candidate_values, fill, url_patterns

TEAM = "TEAM-NAME-3b7e Rogues"
TEAM_SLUG = "team-slug-3b7e"
DEFENDER_TEAM = "TEAM-NAME-d41c Bastion"
DEFENDER_SLUG = "team-slug-d41c"
BOT = "bot-name-9a2f"
DEFENDER_BOT = "bot-name-e5d0"
JUDGE = "JUDGE-NAME-77c1"
VERDICT = "VERDICT-RATIONALE-1f0b"
FINDING = "FINDING-RULE-6ab3"
FINAL = "FINAL-LABEL-RATIONALE-0c9d"


@pytest.fixture
def hidden(arena):
    """A judged conversation of distinctly named teams and bots, its reply assigned to annie in an
    open campaign that hides the judges; markers are what annie must never see."""
    Team.objects.filter(pk=arena.rogues.pk).update(name=TEAM, slug=TEAM_SLUG)
    Team.objects.filter(pk=arena.bastion.pk).update(name=DEFENDER_TEAM, slug=DEFENDER_SLUG)
    Bot.objects.filter(pk=arena.rogue_bot.pk).update(name=BOT)
    Bot.objects.filter(pk=arena.bastion_bot.pk).update(name=DEFENDER_BOT)
    for bot in (arena.rogue_bot, arena.bastion_bot):
        bot.refresh_from_db()
    labelled = labelled_conversation_make(arena, attacker=arena.rogue_bot, defender=arena.bastion_bot)
    Judge.objects.filter(pk=labelled.judge.pk).update(name=JUDGE)
    Verdict.objects.filter(pk=labelled.verdict.pk).update(rationale=VERDICT, findings=[{"line": 2, "rule": FINDING}])
    FinalLabel.objects.filter(pk=labelled.final_label.pk).update(rationale=FINAL)
    campaign = assignments_make(arena, arena.annie, [labelled.reply], show_judges=False)
    markers = [TEAM, TEAM_SLUG, DEFENDER_TEAM, DEFENDER_SLUG, BOT, DEFENDER_BOT, JUDGE, VERDICT, FINDING, FINAL]
    ids = {
        arena.round.pk,
        arena.competition.pk,
        arena.rogues.pk,
        arena.bastion.pk,
        arena.rogue_bot.pk,
        arena.bastion_bot.pk,
        labelled.match.pk,
        labelled.conversation.pk,
        labelled.attack.pk,
        labelled.reply.pk,
        labelled.judge.pk,
        labelled.verdict.pk,
        labelled.annotation.pk,
        labelled.final_label.pk,
        labelled.health_check.pk,
        labelled.circuit.pk,
        campaign.pk,
        *Assignment.objects.values_list("pk", flat=True),
        *campaign.items.values_list("pk", flat=True),
    }
    values = {"int": sorted(ids), "uuid": [str(labelled.conversation.uuid)], "str": ["csv", "json"]}
    return labelled, campaign, markers, values


def admin_urls(values: dict) -> list[str]:
    urls = set()
    for route, converters, groups in url_patterns():
        if not route.startswith("admin/"):
            continue
        names = list(converters) + [group for group in groups if group not in converters]
        choices = [candidate_values(converters.get(name), name, values) for name in names]
        for combination in product(*choices) if names else [()]:
            urls.add(fill(route, dict(zip(names, combination, strict=True))))
    return sorted(urls)


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.mark.slow
def test_it_never_shows_an_annotator_a_team_a_bot_or_a_hidden_judges_label_on_any_admin_page(arena, hidden):
    labelled, _campaign, markers, values = hidden
    urls = admin_urls(values)
    assert "/admin/judging/verdict/" in urls and "/admin/conversations/conversation/" in urls
    annie = signed_in("annie")
    leaks, answered = [], {}
    for url in urls:
        response = annie.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", errors="replace")
        answered[url] = response.status_code
        leaks += [(url, marker) for marker in markers if marker in text]
    assert leaks == []
    # Her admin is the queue and the label page (and her own annotations), and they work.
    [assignment] = Assignment.objects.filter(annotator=arena.annie)
    for url in (
        reverse("admin:judging_assignment_changelist"),
        reverse("admin:judging_assignment_label", args=[assignment.pk]),
        reverse("admin:judging_annotation_changelist"),
        reverse("admin:judging_annotation_change", args=[labelled.annotation.pk]),
        reverse("admin:judging_annotation_add"),
    ):
        assert answered[url] == 200, url
    # Everything else that would show a conversation's bots or a judge's labels is closed to her.
    for url in (
        "/admin/conversations/conversation/",
        f"/admin/conversations/conversation/{labelled.conversation.pk}/change/",
        "/admin/judging/verdict/",
        f"/admin/judging/verdict/{labelled.verdict.pk}/change/",
        "/admin/judging/finallabel/",
        "/admin/judging/judge/",
        "/admin/teams/team/",
        "/admin/teams/bot/",
        reverse("admin:judging_judgedconversation_transcript", args=[labelled.conversation.pk]),
    ):
        assert answered[url] in (302, 403), url


def test_it_shows_an_organizer_the_teams_bots_and_judges_labels_an_annotator_never_sees(arena, hidden):
    labelled, _campaign, _markers, _values = hidden
    olivia = signed_in("olivia")
    conversations = olivia.get("/admin/conversations/conversation/").content.decode()
    assert BOT in conversations and DEFENDER_BOT in conversations
    verdict = olivia.get(f"/admin/judging/verdict/{labelled.verdict.pk}/change/").content.decode()
    assert VERDICT in verdict and FINDING in verdict and JUDGE in verdict
    assert FINAL in olivia.get(f"/admin/judging/finallabel/{labelled.final_label.pk}/change/").content.decode()
    assert TEAM in olivia.get("/admin/teams/team/").content.decode()


def test_it_shows_the_judges_on_the_label_page_only_where_the_campaign_allows(arena, hidden):
    _labelled, campaign, _markers, _values = hidden
    annie = signed_in("annie")
    url = reverse("admin:judging_assignment_label", args=[Assignment.objects.get(annotator=arena.annie).pk])
    assert VERDICT not in annie.get(url).content.decode()
    campaign.show_judges = True
    campaign.save()
    page = annie.get(url).content.decode()
    assert VERDICT in page
    assert TEAM not in page and BOT not in page and FINAL not in page
    assert Annotation.objects.filter(annotator=arena.annie).count() == 1
