"""Security of the pages: a Content-Security-Policy with no inline script, bidi isolation of bot text,
and login throttling (django-axes) on the site's login, the admin's and the API's Basic authentication.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from teams.models import Bot, Team
from tests.cast import PASSWORD, labelled_conversation_make
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
ISOLATE_CSS = ROOT / "teams" / "static" / "arena" / "isolate.css"
# Elements that start a paragraph of their own, so a bidi override inside ends at their edge.
BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "li", "main", "nav", "ol",
    "option", "p", "pre", "section", "table", "td", "textarea", "th", "title", "ul",
}  # fmt: skip
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
FSI_PDI = re.compile("\u2068[^\u2068\u2069]*\u2069")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def css_isolated() -> set[str]:
    selectors = ISOLATE_CSS.read_text().split("{")[0].split("*/")[-1]
    return {name.strip() for name in selectors.split(",")}


class PageScan(HTMLParser):
    """Inline scripts, inline event handlers, and bidi text that is not isolated: neither alone in an
    isolating element nor wrapped in the FSI ... PDI isolate characters (for plain text like <title>)."""

    def __init__(self, values: tuple[str, ...] = ()) -> None:
        super().__init__(convert_charrefs=True)
        self.values = values
        self.inline_scripts: list[str] = []
        self.handlers: list[str] = []
        self.unisolated: list[str] = []
        # Per open element: [tag, children seen, bidi text seen]
        self.stack: list[list] = []
        self.in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.handlers += [f"<{tag} {name}=...>" for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            kind = (attributes.get("type") or "text/javascript").lower()
            self.in_inline_script = "src" not in attributes and "json" not in kind
        if self.stack:
            self.stack[-1][1] += 1
        if tag not in VOID:
            self.stack.append([tag, 0, None])

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_inline_script = False
        while self.stack:
            name, children, bidi_text = self.stack.pop()
            alone = bidi_text is not None and bidi_text.strip() in self.values
            if bidi_text is not None and not (alone and children == 1 and (name in BLOCKS or name in css_isolated())):
                self.unisolated.append(f"<{name}>: {bidi_text!r}")
            if name == tag:
                break

    def handle_data(self, data):
        if self.in_inline_script and data.strip():
            self.inline_scripts.append(data.strip()[:80])
        if not data.strip() or not self.stack:
            return
        self.stack[-1][1] += 1
        if BIDI.search(FSI_PDI.sub("", data)):
            self.stack[-1][2] = data


def scan(response, values: tuple[str, ...] = ()) -> PageScan:
    assert response.status_code == 200, response.status_code
    scanner = PageScan(values)
    scanner.feed(response.content.decode())
    scanner.close()
    return scanner


def pages(arena, labelled) -> list[str]:
    """The site's pages and the admin's, for the cast with one labelled conversation."""
    urls = [
        reverse("home"),
        reverse("teams:bot-list"),
        reverse("teams:bot-detail", args=[arena.rogue_bot.pk]),
        reverse("round-progress", args=[arena.round.pk]),
        reverse("admin:index"),
        reverse("admin:judging_judgedconversation_transcript", args=[labelled.conversation.pk]),
        reverse("api:docs"),
        reverse("api:redoc"),
        admin_url(Team, "import"),
        admin_url(Team, "export"),
    ]
    for model in admin.site._registry:
        if model._meta.app_label in {"teams", "competition", "conversations", "judging"}:
            urls.append(admin_url(model, "changelist"))
    for obj in (arena.rogues, arena.rogue_bot, arena.round, labelled.conversation, labelled.reply):
        urls.append(admin_url(obj, "change"))
    return urls


def test_it_sends_a_content_security_policy_without_inline_script(client, arena):
    client.force_login(arena.olivia)
    for url in (reverse("home"), reverse("admin:index"), reverse("login")):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["default-src"] == "'self'"
        assert directives["script-src"].startswith("'self'")
        assert "unsafe-inline" not in directives["script-src"]
        assert "unsafe-eval" not in directives["script-src"]
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"


def test_it_has_no_inline_script_or_event_handler_on_any_page(client, arena):
    labelled = labelled_conversation_make(arena)
    client.force_login(arena.olivia)
    for url in pages(arena, labelled):
        scanned = scan(client.get(url))
        assert scanned.inline_scripts == [], url
        assert scanned.handlers == [], url


def test_it_shows_bot_and_team_text_with_bidi_overrides_isolated(client, arena):
    # Unterminated overrides: each would reverse everything after it in the same paragraph.
    values = ("Rogues \u202eevil", "rogue\u202dlive", "be \u202bnice", "Please \u2067write \u202ecode")
    Team.objects.filter(pk=arena.rogues.pk).update(name=values[0])
    Bot.objects.filter(pk=arena.rogue_bot.pk).update(name=values[1], system_prompt=values[2])
    arena.rogue_bot.refresh_from_db()
    labelled = labelled_conversation_make(arena)
    labelled.attack.content = values[3]
    labelled.attack.save()
    client.force_login(arena.olivia)
    found = {url: scan(client.get(url), values).unisolated for url in pages(arena, labelled)}
    assert {url: problems for url, problems in found.items() if problems} == {}
    # The team's own pages too.
    client.force_login(arena.alice)
    for url in (reverse("teams:bot-list"), reverse("teams:bot-detail", args=[arena.rogue_bot.pk])):
        response = client.get(url)
        assert "evil" in response.content.decode()
        assert scan(response, values).unisolated == [], url


def test_it_reports_bidi_text_that_shares_its_element_with_other_text():
    # The negative of the check above: the scanner does flag what it should.
    scanner = PageScan(("\u202eevil",))
    scanner.feed(
        "<li>\u202eevil (a match)</li><li><bdi>\u202eevil</bdi> (a match)</li>"
        "<title>\u2068\u202eevil\u2069 | Change</title><title>\u202eevil | Change</title>"
    )
    assert scanner.unisolated == ["<li>: '\\u202eevil (a match)'", "<title>: '\\u202eevil | Change'"]


# --- Login throttling ------------------------------------------------------------------------------


def fail_logins(client: Client, url: str, username: str, times: int) -> None:
    for _ in range(times):
        client.post(url, {"username": username, "password": "wrong-password"})


def test_it_locks_a_username_out_of_the_site_login_after_repeated_failures(client, arena, settings):
    url = reverse("login")
    fail_logins(client, url, "alice", settings.AXES_FAILURE_LIMIT)
    response = client.post(url, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert "alice" in page
    assert "_auth_user_id" not in client.session


def test_it_lets_a_user_in_after_fewer_failures_than_the_limit(client, arena, settings):
    url = reverse("login")
    fail_logins(client, url, "alice", settings.AXES_FAILURE_LIMIT - 1)
    response = client.post(url, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(arena.alice.pk)


def test_it_starts_each_test_with_no_failed_attempts(client, arena):
    # The lockout of the test above is gone: attempts are rows, rolled back after every test.
    from axes.models import AccessAttempt

    assert not AccessAttempt.objects.exists()
    assert client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302


def test_it_locks_the_admin_login_too_and_only_for_that_username(client, arena, settings):
    url = reverse("admin:login")
    fail_logins(client, url, "olivia", settings.AXES_FAILURE_LIMIT)
    assert client.post(url, {"username": "olivia", "password": PASSWORD}).status_code == 429
    other = Client()
    assert other.post(url, {"username": "olivia", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9").status_code == 302


def test_it_offers_no_password_login_on_the_api(client, arena):
    # The API takes keys (random, stored hashed) or the site's session, whose login is throttled
    # above: there is no password the API would let anyone guess.
    token = base64.b64encode(f"dana:{PASSWORD}".encode()).decode()
    response = client.get(reverse("api:bot-list"), HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code in (401, 403)
    client.force_login(arena.dana)
    assert client.get(reverse("api:bot-list")).status_code == 200
