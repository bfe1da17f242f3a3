"""The audit trail (django-simple-history): who changed what and when, before and after; nothing lost."""

import re

import pytest

from conversations.models import Conversation
from conversations.moderation import conversation_moderate
from judging.models import Annotation, Judge
from judging.services.annotations import HumanLabels, adjudication_set, annotation_submit
from tests import cast
from tests.judging.annotation.campaign_cast import assignments_make
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db


def test_it_keeps_every_version_of_an_annotation_and_the_adjudication(arena, labelled):
    reply = labelled.reply
    assignments_make(arena, arena.annie, [reply])
    annotation_submit(turn=reply, annotator=arena.annie, labels=HumanLabels(vulnerable_code=True, severity=2))
    annotation_submit(turn=reply, annotator=arena.annie, labels=HumanLabels(vulnerable_code=False, severity=0))
    adjudication_set(turn=reply, by=arena.olivia, labels=HumanLabels(vulnerable_code=True, severity=3))

    mine = Annotation.objects.get(turn=reply, annotator=arena.annie, adjudication=False)
    versions = list(mine.history.order_by("history_date").values_list("vulnerable_code", "severity"))
    assert versions[-2:] == [(True, 2), (False, 0)]
    latest = mine.history.latest()
    delta = latest.diff_against(latest.prev_record)
    assert {change.field for change in delta.changes} >= {"vulnerable_code", "severity"}
    adjudication = Annotation.objects.get(turn=reply, adjudication=True)
    assert adjudication.history.get().history_type == "+"

    pk = mine.pk
    mine.delete()
    assert Annotation.history.filter(id=pk, history_type="-").exists()


def test_it_records_who_moderated_a_conversation_and_why(arena, labelled):
    conversation = labelled.conversation
    conversation_moderate(
        conversations=Conversation.objects.filter(pk=conversation.pk),
        state=Conversation.Moderation.EXCLUDED,
        reason="leaks a real password",
        by=arena.olivia,
    )
    record = conversation.history.latest()
    assert (record.history_user, record.history_change_reason, record.moderation) == (
        arena.olivia,
        "leaks a real password",
        Conversation.Moderation.EXCLUDED,
    )
    assert record.prev_record is None or record.prev_record.moderation == Conversation.Moderation.VISIBLE


def test_it_never_keeps_a_bots_secrets_or_a_judges_credentials(arena):
    bot = arena.rogue_bot
    bot.api_key = "sk-live-topsecret"
    bot.url = "http://127.0.0.1:9/bot/v2"
    bot.save()
    fields = {field.name for field in bot.history.model._meta.get_fields()}
    assert not fields & {"secret", "previous_secret", "api_key"}
    assert bot.history.latest().url.endswith("/v2")

    judge = Judge.objects.create(
        competition=arena.competition, name="LLM", slug="llm", kind=Judge.Kind.LLM, config={"api_key": "sk-judge-1"}
    )
    judge.config = {"api_key": "sk-judge-2", "model": "m"}
    judge.save()
    configs = [record.config for record in judge.history.order_by("history_date")]
    assert all("sk-judge" not in str(config) for config in configs)
    assert configs[0]["api_key"] != configs[1]["api_key"]  # the trail still shows the key changed
    assert configs[1]["model"] == "m"


def test_it_shows_the_trail_in_the_admin_with_who_changed_what(client, arena, labelled):
    client.force_login(arena.olivia)
    judge = labelled.judge
    response = client.post(
        admin_url(judge, "change"),
        {
            "competition": judge.competition_id,
            "name": judge.name,
            "slug": judge.slug,
            "kind": judge.kind,
            "config": "{}",
            "version": 2,
            "active": "on",
        },
    )
    assert response.status_code == 302
    record = judge.history.latest()
    assert (record.history_user, record.version, record.prev_record.version) == (arena.olivia, 2, 1)
    page = client.get(admin_url(judge, "history"))
    assert page.status_code == 200 and "olivia" in page.content.decode()
    for obj in (arena.rogue_bot, arena.round, labelled.conversation, labelled.annotation):
        assert client.get(admin_url(obj, "history")).status_code == 200, obj


def test_it_shows_an_annotator_the_trail_of_their_own_labels_only(client, arena, labelled):
    other = cast.user_make("ann", staff=True, group="Annotator")
    assignments_make(arena, other, [labelled.reply])
    theirs = annotation_submit(turn=labelled.reply, annotator=other, labels=HumanLabels(refusal=True))
    client.force_login(arena.annie)
    assert client.get(admin_url(labelled.annotation, "history")).status_code == 200
    assert client.get(admin_url(theirs, "history")).status_code in (302, 403, 404)


def test_it_shows_who_changed_a_campaigns_annotators_and_rounds(client, arena):
    from tests.judging.annotation.campaign_cast import annotators_make, campaign_make

    [ann] = annotators_make("ann")
    campaign = campaign_make(arena, [ann])
    client.force_login(arena.olivia)
    form = {
        "competition": arena.competition.pk, "name": campaign.name, "description": "", "rounds": [],
        "annotators": [ann.pk, arena.annie.pk], "overlap": 2, "sampling": "all", "share": 0.2,
        "per_stratum": 10, "seed": 0,
    }  # fmt: skip
    response = client.post(admin_url(campaign, "change"), form)
    assert response.status_code == 302, response.content.decode()[:2000]

    latest = campaign.history.latest()
    assert latest.history_user == arena.olivia
    assert sorted(row.user.username for row in latest.annotators.all()) == ["ann", "annie"]
    assert [row.round for row in latest.rounds.all()] == []
    page = client.get(admin_url(campaign, "history")).content.decode()
    changed = re.search(
        r"<strong>Annotators:</strong> \[ann\] &nbsp;&rarr;&nbsp;&nbsp;\[([^]]*)\]", " ".join(page.split())
    )
    assert changed and sorted(changed.group(1).split(", ")) == ["ann", "annie"]
    assert "<strong>Rounds:</strong> [trusted-ai-2026 / Tournament 1] &nbsp;&rarr;&nbsp;&nbsp;[]" in " ".join(
        page.split()
    )
    assert "olivia" in page


def test_it_shows_a_campaigns_trail_to_organizers_only(client, arena):
    from tests.judging.annotation.campaign_cast import campaign_make

    campaign = campaign_make(arena, [])
    client.force_login(arena.olivia)
    assert client.get(admin_url(campaign, "history")).status_code == 200
    client.force_login(arena.alice)
    assert client.get(admin_url(campaign, "history")).status_code in (302, 403, 404)
