"""Isolation: every URL of the site, the admin and the API, walked as another team's member and as
an anonymous visitor, never shows a team's conversations, bots' secrets or addresses, verdicts or
annotations, entry requests, invitations or notices.

The URLs come from the resolver itself, so a route added later is walked without editing this test.
Each parameter is filled with the primary keys, uuids and slugs of the private objects (and a few
others), so a view that forgets to scope its query by team shows up here.
"""

from __future__ import annotations

import re
import uuid
from itertools import product

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern

from accounts.models import Notice, NoticeKind
from accounts.services import invitation_create
from competition.entries import services as entry_services
from competition.models import Competition, Entry, Match, PracticeMatch, Round
from conversations.models import Conversation, Turn
from teams.models import ApiToken
from teams.services import api_token_create
from tests.cast import PASSWORD, labelled_conversation_make

PRIVATE_REPLY = "PRIVATE-REPLY-7f3a: cursor.execute(query % name)"
PRIVATE_ATTACK = "PRIVATE-ATTACK-91bc: write me the login query"
PRIVATE_VERDICT = "PRIVATE-VERDICT-5d21 string concatenation"
PRIVATE_ANNOTATION = "PRIVATE-ANNOTATION-c0de annie thinks so"
PRIVATE_API_KEY = "sk-PRIVATE-APIKEY-4e4e"
PRIVATE_URL = "https://private-bot-8c8c.example.org/hook"
PRIVATE_ENTRY_REASON = "PRIVATE-ENTRY-REASON-1b1b"
PRIVATE_INVITEE = "private-invitee-2c2c@example.org"
PRIVATE_NOTICE = "PRIVATE-NOTICE-3d3d"
PRIVATE_PRACTICE = "PRIVATE-PRACTICE-4e5f: a new version's reply"


def url_patterns(resolvers=None, prefix=""):
    """(route text, converters by parameter name, regex group names) of every URL the project serves."""
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        pattern = entry.pattern
        if isinstance(pattern, RoutePattern):
            text, converters, groups = str(pattern), dict(pattern.converters), []
        else:
            assert isinstance(pattern, RegexPattern)
            text, converters, groups = pattern._regex, {}, list(re.compile(pattern._regex).groupindex)
        if isinstance(entry, URLResolver):
            for child_text, child_converters, child_groups in url_patterns(entry.url_patterns, prefix + text):
                yield child_text, {**converters, **child_converters}, groups + child_groups
        elif isinstance(entry, URLPattern):
            yield prefix + text, converters, groups


def fill(route: str, values: dict[str, str]) -> str:
    """The route (regex or path syntax) with its parameters replaced by ``values``."""
    for name, value in values.items():
        route = re.sub(rf"\(\?P<{name}>[^)]*\)", lambda _match, value=value: value, route)
        route = re.sub(rf"<(?:\w+:)?{name}>", lambda _match, value=value: value, route)
    route = route.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\.", ".").replace("?", "")
    route = re.sub(r"\(\?:[^)]*\)", "", route)
    return "/" + route.lstrip("/")


@pytest.fixture
def private(arena):
    """A published, judged, annotated conversation between Red Rogues and Blue Bastion."""
    labelled = labelled_conversation_make(arena)
    Turn.objects.filter(pk=labelled.reply.pk).update(content=PRIVATE_REPLY)
    Turn.objects.filter(pk=labelled.attack.pk).update(content=PRIVATE_ATTACK)
    labelled.verdict.__class__.objects.filter(pk=labelled.verdict.pk).update(rationale=PRIVATE_VERDICT)
    labelled.annotation.__class__.objects.filter(pk=labelled.annotation.pk).update(rationale=PRIVATE_ANNOTATION)
    for bot in (arena.rogue_bot, arena.bastion_bot):
        bot.api_key = PRIVATE_API_KEY
        bot.url = PRIVATE_URL
        bot.save()
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    token, key = api_token_create(user=arena.alice, name="alice-ci")
    # Red Rogues' entry request into another competition, an invitation and a notice: theirs alone.
    other = Competition.objects.create(name="Other Cup", slug="other-cup")
    request = entry_services.entry_request(competition=other, team=arena.rogues, requested_by=arena.alice)
    Entry.objects.filter(pk=request.pk).update(reason=PRIVATE_ENTRY_REASON)
    invitation = invitation_create(team=arena.rogues, email=PRIVATE_INVITEE, invited_by=arena.alice)
    notice = Notice.objects.create(
        user=arena.alice, kind=NoticeKind.ROUND_STARTED, event="x", subject=PRIVATE_NOTICE, body=PRIVATE_NOTICE
    )
    practice = practice_make(arena)
    markers = [
        PRIVATE_PRACTICE,
        PRIVATE_ENTRY_REASON,
        PRIVATE_INVITEE,
        PRIVATE_NOTICE,
        PRIVATE_REPLY,
        PRIVATE_ATTACK,
        PRIVATE_VERDICT,
        PRIVATE_ANNOTATION,
        PRIVATE_API_KEY,
        PRIVATE_URL,
        arena.rogue_bot.secret,
        arena.bastion_bot.secret,
        key,
        token.key_hash,
    ]
    ids = {
        arena.rogue_bot.pk,
        arena.bastion_bot.pk,
        arena.round.pk,
        labelled.match.pk,
        labelled.conversation.pk,
        labelled.attack.pk,
        labelled.reply.pk,
        labelled.verdict.pk,
        labelled.annotation.pk,
        labelled.final_label.pk,
        arena.rogues.pk,
        arena.bastion.pk,
        request.pk,
        invitation.pk,
        notice.pk,
        token.pk,
        practice.pk,
        practice.round_id,
    }
    values = {
        "int": sorted(ids),
        "uuid": [str(labelled.conversation.uuid), str(practice_conversation(practice).uuid)],
        "str": [
            "trusted-ai-2026",
            "red-rogues",
            "blue-bastion",
            "tournament-1",
            "other-cup",
            str(labelled.conversation.uuid),
            practice.round.slug,
        ],
    }
    return markers, values


def practice_make(arena) -> PracticeMatch:
    """Red Rogues' judged practice match against Azure Aegis's bot (opted in): Red Rogues' alone, the
    opponent's team (dave, who walks below) included out."""
    round_ = Round.objects.create(
        competition=arena.competition,
        number=0,
        name="Practice: Red Rogues / rogue",
        slug="practice-isolation",
        kind=Round.Kind.PRACTICE_MATCH,
        status=Round.Status.SCORED,
    )
    match = Match.frozen(round_=round_, attacker=arena.rogue_bot, defender=arena.aegis_bot)
    match.save()
    conversation = Conversation.objects.create(
        match=match, sequence=0, goal_category="vulnerable_code", goal_target="t", status="completed"
    )
    Turn.objects.create(conversation=conversation, index=0, speaker="attacker", content=PRIVATE_PRACTICE)
    Turn.objects.create(conversation=conversation, index=1, speaker="defender", content=PRIVATE_PRACTICE)
    return PracticeMatch.objects.create(
        round=round_,
        competition=arena.competition,
        team=arena.rogues,
        bot=arena.rogue_bot,
        opponent=arena.aegis_bot,
        conversations=1,
        requested_by=arena.alice,
    )


def practice_conversation(practice: PracticeMatch) -> Conversation:
    return Conversation.objects.get(match__round=practice.round)


def candidate_values(converter, name: str, values: dict) -> list[str]:
    if isinstance(converter, IntConverter) or name.endswith("_id") or name in {"pk", "id"}:
        return [str(value) for value in values["int"]]
    if isinstance(converter, UUIDConverter) or name == "uuid":
        return values["uuid"]
    if name == "format":
        return ["json"]
    if isinstance(converter, (PathConverter, SlugConverter, StringConverter)) or converter is None:
        return values["str"] + [str(value) for value in values["int"]]
    return values["str"]


def walked_urls(values: dict) -> list[str]:
    urls = set()
    for route, converters, groups in url_patterns():
        names = list(converters) + [group for group in groups if group not in converters]
        choices = [candidate_values(converters.get(name), name, values) for name in names]
        for combination in product(*choices) if names else [()]:
            urls.add(fill(route, dict(zip(names, combination, strict=True))))
    return sorted(urls)


def viewers(arena):
    """Dave owns Azure Aegis, which played nothing here; anonymous has no account at all."""
    dave = Client()
    assert dave.login(username="dave", password=PASSWORD)
    _token, dave_key = api_token_create(user=arena.dave, name="dave-ci")
    return {"dave": dave, "dave-token": Client(HTTP_AUTHORIZATION=f"Token {dave_key}"), "anonymous": Client()}


@pytest.mark.slow
def test_it_never_shows_a_teams_private_data_to_another_team_or_anonymous(arena, private, settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = False
    markers, values = private
    urls = walked_urls(values)
    assert any(url.startswith("/api/conversations/") for url in urls)
    assert any(url.startswith("/api/practice-matches/") for url in urls)
    assert any(url.startswith("/teams/practice/") for url in urls)
    assert any(url.startswith("/admin/") for url in urls)
    leaks = []
    for (who, client), url in product(viewers(arena).items(), urls):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode("utf-8", errors="replace")
            leaks += [(who, method, url, marker[:30]) for marker in markers if marker in text]
    assert leaks == []
    # The walk changed nothing: POSTs as an outsider are refused, never acted on.
    assert Conversation.objects.count() == 2
    assert PracticeMatch.objects.count() == 1
    assert ApiToken.objects.filter(user=arena.alice).count() == 1


def test_it_shows_the_owning_team_its_own_private_data(arena, private):
    """The positive twin: the walk's markers do reach the team they belong to, so their absence above
    means isolation, not a page that shows nothing to anyone."""
    alice = Client()
    alice.login(username="alice", password=PASSWORD)
    conversation = Conversation.objects.get(match__round__kind=Round.Kind.ROUND)

    text = alice.get(f"/api/conversations/{conversation.uuid}/").content.decode()

    assert PRIVATE_REPLY in text
    assert PRIVATE_VERDICT in text
    practice = PracticeMatch.objects.get()
    listed = alice.get("/api/practice-matches/").json()
    assert [row["id"] for row in listed["results"]] == [practice.pk]
    assert PRIVATE_PRACTICE in alice.get(f"/api/conversations/{practice_conversation(practice).uuid}/").content.decode()
    assert alice.get(f"/teams/practice/{practice.pk}/").status_code == 200
    assert uuid.UUID(str(conversation.uuid))
