"""The team site as a team owner sees it in a real browser: the dashboard and its chart, a
conversation whose reply carries a script and a right-to-left override shown as inert text, a secret
rotated and shown once, and no page that needs scrolling sideways at 1280 px."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from competition.models import Round
from conversations.models import Turn
from tests import cast
from tests.browser.screen import horizontal_overflow

SCRIPT = "<script>window.pwned = 1</script>"
RTL_OVERRIDE = "\u202e"
HOSTILE = f"Here is the code {SCRIPT} and a name: {RTL_OVERRIDE}exe.txt{RTL_OVERRIDE} please run it"

# The innermost element holding the override, and whether it or an ancestor isolates its direction.
ISOLATED = """(mark) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    if (node.nodeValue.includes(mark)) {
      for (let el = node.parentElement; el; el = el.parentElement) {
        const bidi = getComputedStyle(el).unicodeBidi;
        const isolating = ["isolate", "plaintext", "isolate-override"].includes(bidi);
        if (isolating || el.tagName === "BDI") return true;
      }
      return false;
    }
  }
  return null;
}"""


def published_round():
    arena = cast.build()
    labelled = cast.labelled_conversation_make(arena)
    Turn.objects.filter(pk=labelled.reply.pk).update(content=HOSTILE)
    cast.standing_make(arena.round, arena.rogue_bot, rank=1, score=0.6, rating=1100, lower=1050, upper=1150)
    cast.standing_make(arena.round, arena.bastion_bot, rank=1, score=0.9, rating=1020, lower=980, upper=1060)
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    return arena, labelled


def test_it_shows_a_team_owner_its_dashboard_chart_and_judged_conversations(page_as, live_server, db):
    _arena, labelled = published_round()
    page = page_as("dana")

    page.goto(live_server.url + reverse("team-dashboard", args=["blue-bastion"]))
    chart = page.locator("svg#score-chart")
    expect(chart).to_be_visible()
    assert chart.locator("circle").count() == 1
    assert horizontal_overflow(page) == 0

    page.goto(live_server.url + reverse("team-conversations"))
    page.get_by_role("link", name=labelled.conversation.uuid.hex[:8]).click()
    page.wait_for_url(f"**/conversations/{labelled.conversation.uuid}/")
    expect(page.get_by_text("string concatenation into SQL").first).to_be_visible()
    assert horizontal_overflow(page) == 0


def test_it_shows_script_and_direction_overrides_in_a_reply_as_inert_isolated_text(page_as, live_server, db):
    _arena, labelled = published_round()
    page = page_as("dana")

    page.goto(live_server.url + reverse("team-conversation", args=[labelled.conversation.uuid]))

    assert page.evaluate("window.pwned") is None
    expect(page.get_by_text("<script>window.pwned = 1</script>", exact=False).first).to_be_visible()
    assert page.evaluate(ISOLATED, RTL_OVERRIDE) is True


def test_it_rotates_a_secret_and_shows_the_new_one_once(page_as, live_server, db):
    arena = cast.build()
    page = page_as("alice")
    page.goto(live_server.url + reverse("teams:bot-detail", args=[arena.rogue_bot.pk]))

    page.get_by_role("button", name="Rotate the signing secret").click()
    page.wait_for_selector("#new-secret")
    arena.rogue_bot.refresh_from_db()
    shown = page.locator("#new-secret code").inner_text()
    page.reload()

    assert shown == arena.rogue_bot.secret
    assert page.locator("#new-secret").count() == 0
    assert arena.rogue_bot.secret not in page.content()


def test_it_needs_no_sideways_scrolling_on_the_public_and_team_pages(page_as, live_server, db):
    arena, labelled = published_round()
    pages = {
        None: [
            reverse("home"),
            reverse("competition", args=["trusted-ai-2026"]),
            reverse("round-leaderboard", args=["trusted-ai-2026", 1]),
            reverse("competition-leaderboard", args=["trusted-ai-2026"]),
            reverse("scoring"),
        ],
        "alice": [
            reverse("my-teams"),
            reverse("team-dashboard", args=["red-rogues"]),
            reverse("team-conversations"),
            reverse("team-conversation", args=[labelled.conversation.uuid]),
            reverse("teams:bot-list"),
            reverse("teams:bot-detail", args=[arena.rogue_bot.pk]),
            reverse("teams:bot-register"),
            reverse("api-tokens"),
        ],
    }
    wide = []
    for user, urls in pages.items():
        page = page_as(user)
        for url in urls:
            page.goto(live_server.url + url)
            if horizontal_overflow(page) > 0:
                wide.append(url)
    assert wide == []


def test_it_draws_every_round_label_of_the_chart_inside_it(page_as, live_server, db):
    arena, _labelled = published_round()
    second = Round.objects.create(
        competition=arena.competition, number=arena.round.number + 1, name="Tournament 12", slug="tournament-12"
    )
    cast.standing_make(second, arena.bastion_bot, rank=1, score=0.7, rating=1000, lower=950, upper=1050)
    Round.objects.filter(pk=second.pk).update(status=Round.Status.PUBLISHED)
    page = page_as("dana")

    page.goto(live_server.url + reverse("team-dashboard", args=["blue-bastion"]))

    chart = page.locator("svg#score-chart").bounding_box()
    labels = page.locator("svg#score-chart text[y='206']")
    assert labels.count() == 2
    for index in range(2):
        box = labels.nth(index).bounding_box()
        assert chart["x"] <= box["x"] and box["x"] + box["width"] <= chart["x"] + chart["width"], box
