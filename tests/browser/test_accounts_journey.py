"""A team on its own, in a real browser against a real SMTP server on loopback: a person signs up and
verifies the email, requests a team, an organizer approves it in the admin, the owner invites a
second person who joins through the emailed link, takes the ownership over, registers a bot and
enters it; and a forgotten password is reset through the emailed link."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from competition.entries.models import Entry, EntryBot
from competition.entries.selectors import bots_entered
from competition.models import Competition, Round
from tests import cast
from tests.smtp import link_in, smtp_settings, smtp_start

NEW_PASSWORD = "owls see in the dark 7"


@pytest.fixture
def inbox(settings, live_server):
    controller, inbox = smtp_start()
    smtp_settings(settings, controller.port, live_server.url)
    yield inbox
    controller.stop()


def sign_up(page, live_server, inbox, username: str) -> None:
    """Sign up as ``username`` and follow the emailed verification link (which signs the person in)."""
    before = len(inbox.to(f"{username}@example.org"))
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password", exact=True).fill(cast.PASSWORD)
    page.get_by_label("Password confirmation").fill(cast.PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    message = inbox.wait_for(f"{username}@example.org", count=before + 1)[-1]
    page.goto(link_in(message, "/accounts/verify/"))
    expect(page.locator("header").get_by_text(username)).to_be_visible()


def log_in(page, live_server, login: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(cast.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def team_request(page, live_server) -> None:
    """On the competition's page: Register a team, the Night Owls (defenders)."""
    page.goto(f"{live_server.url}/competitions/owl-cup/")
    page.get_by_role("link", name="Register a team").click()
    page.get_by_label("Name").fill("Night Owls")
    page.get_by_label("Institution").fill("Owl University")
    page.get_by_label("Defender").check()
    page.get_by_role("button", name="Ask to register this team").click()
    expect(page.get_by_role("cell", name="Requested")).to_be_visible()


def entry_approve_in_admin(admin, live_server) -> None:
    admin.goto(f"{live_server.url}/admin/competition/entry/?status__exact=requested")
    admin.get_by_role("row", name="Night Owls").get_by_role("checkbox").check()
    admin.locator("select[name=action]").select_option("approve_entries")
    admin.get_by_role("button", name="Go").click()
    expect(admin.get_by_text("1 entry approved.")).to_be_visible()


def invite(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/teams/night-owls/members/")
    page.get_by_label("Email of the person to invite").fill(email)
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text(f"Invitation sent to {email}.")).to_be_visible()


def hand_over(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/teams/night-owls/members/")
    page.get_by_role("row", name=username).get_by_role("button", name="Hand ownership over").click()
    expect(page.get_by_text(f"{username} owns Night Owls now.")).to_be_visible()


def bot_register_and_enter(page, live_server) -> None:
    page.goto(f"{live_server.url}/teams/bots/new/")
    page.get_by_label("Name").fill("hoot")
    page.get_by_label("URL").fill("https://owls.example.org/bot")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("cell", name="not entered")).to_be_visible()
    page.get_by_role("button", name="Enter this bot").click()
    expect(page.get_by_text("hoot is entered in Owl Cup.")).to_be_visible()


def test_it_walks_from_sign_up_to_an_entered_bot(page_as, live_server, inbox):
    olivia = cast.user_make("olivia", staff=True, group="Organizer")
    competition = Competition.objects.create(name="Owl Cup", slug="owl-cup")
    Round.objects.create(competition=competition, number=1, name="Tournament 1", slug="tournament-1")

    # Nina signs up, verifies her email and asks to register a team.
    page = page_as(None)
    sign_up(page, live_server, inbox, "nina")
    team_request(page, live_server)

    # An organizer approves the request in the admin (the only thing an organizer does).
    entry_approve_in_admin(page_as(olivia), live_server)
    assert "approved" in inbox.wait_for("nina@example.org", count=2)[-1]["Subject"]

    # Nina (signing in by email) invites Omar.
    page = page_as(None)
    log_in(page, live_server, "nina@example.org")
    invite(page, live_server, "omar@example.org")
    invitation_link = link_in(inbox.wait_for("omar@example.org")[0], "/accounts/invitations/")

    # Omar has no account: he signs up, then follows the emailed invitation and joins.
    page = page_as(None)
    page.goto(invitation_link)
    expect(page.get_by_role("heading", name="Join Night Owls")).to_be_visible()
    sign_up(page, live_server, inbox, "omar")
    page.goto(invitation_link)
    page.get_by_role("button", name="Join Night Owls as omar").click()
    expect(page.get_by_text("You joined Night Owls.")).to_be_visible()
    page.goto(invitation_link)
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()  # single use

    # Nina hands the team over to Omar, who registers a bot and enters it.
    page = page_as(None)
    log_in(page, live_server, "nina")
    hand_over(page, live_server, "omar")
    page = page_as(None)
    log_in(page, live_server, "omar")
    bot_register_and_enter(page, live_server)

    entry = Entry.objects.get(team__slug="night-owls", competition=competition)
    assert entry.status == "approved"
    assert list(EntryBot.objects.filter(entry=entry).values_list("bot__name", flat=True)) == ["hoot"]
    assert [bot.name for bot in bots_entered(competition_id=competition.pk, side="defender")] == ["hoot"]


def test_it_resets_a_forgotten_password_through_the_emailed_link(page_as, live_server, inbox):
    cast.user_make("alice")
    page = page_as(None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("alice@example.org")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(link_in(inbox.wait_for("alice@example.org")[0], "/accounts/reset/"))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()
    page.get_by_role("link", name="Log in").last.click()
    page.get_by_label("Username or email").fill("alice")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("header").get_by_text("alice")).to_be_visible()
