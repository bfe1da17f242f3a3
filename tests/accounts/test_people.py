"""Teams formed by people: a request for a new team, its approval, invitations, members removed,
ownership handed over, and one team per person per competition held by the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from accounts import services
from accounts.models import Invitation
from competition.entries import services as entry_services
from competition.entries.models import Entry, EntrySeat, Registration
from competition.models import Competition
from teams.models import Membership, Side, Team
from tests.cast import PASSWORD, team_make, user_make
from tests.smtp import link_in

pytestmark = pytest.mark.django_db


def _signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_it_registers_a_requested_team_that_organizers_approve_in_the_admin(arena, inbox, on_commit):
    user_make("nina")
    nina = _signed_in("nina")
    response = nina.post(
        f"/competitions/{arena.competition.slug}/register/",
        {"form": "new", "new-name": "Night Owls", "new-institution": "Owl U", "new-side": "defender"},
    )
    assert response.status_code == 302
    entry = Entry.objects.get(team__name="Night Owls")
    assert (entry.status, entry.requested_by.username) == ("requested", "nina")
    assert Membership.objects.get(team=entry.team).role == "owner"
    assert b"Night Owls" in nina.get("/teams/entries/").content
    assert b"Night Owls" not in _signed_in("alice").get("/teams/entries/").content

    olivia = _signed_in("olivia")
    pending = olivia.get("/admin/competition/entry/?status__exact=requested").content.decode()
    assert "Night Owls" in pending and "Red Rogues" not in pending
    with on_commit():
        olivia.post("/admin/competition/entry/", {"action": "approve_entries", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.status == "approved"
    (mail,) = inbox.to("nina@example.org")
    assert "approved" in mail["Subject"]


def test_it_refuses_requests_when_registration_is_closed_and_approves_at_once_when_open(arena):
    user_make("nina")
    nina = _signed_in("nina")
    Competition.objects.filter(pk=arena.competition.pk).update(registration=Registration.CLOSED)
    data = {"form": "new", "new-name": "Night Owls", "new-side": "defender"}
    nina.post(f"/competitions/{arena.competition.slug}/register/", data)
    assert not Team.objects.filter(name="Night Owls").exists()
    Competition.objects.filter(pk=arena.competition.pk).update(registration=Registration.OPEN)
    nina.post(f"/competitions/{arena.competition.slug}/register/", data)
    assert Entry.objects.get(team__name="Night Owls").status == "approved"


def test_it_lets_an_invited_person_join_through_the_emailed_link_once(arena, inbox, on_commit):
    alice = _signed_in("alice")
    with on_commit():
        alice.post("/accounts/teams/red-rogues/members/", {"do": "invite", "email": "nina@example.org"})
    path = link_in(inbox.wait_for("nina@example.org")[0], "/accounts/invitations/").removeprefix("http://testserver")
    assert Invitation.objects.get().token_hash not in path  # only a hash is stored

    user_make("nina")
    nina = _signed_in("nina")
    response = nina.post(path)
    assert response.status_code == 302
    assert Membership.objects.get(team=arena.rogues, user__username="nina").role == "member"
    assert EntrySeat.objects.filter(user__username="nina", competition=arena.competition).exists()
    # Single use: the link is spent.
    assert nina.get(path).status_code == 404
    assert _signed_in("dana").post(path).status_code == 404


def test_it_refuses_an_expired_invitation(arena, inbox, on_commit):
    with on_commit():
        services.invitation_create(team=arena.rogues, email="nina@example.org", invited_by=arena.alice)
    path = link_in(inbox.messages[0], "/accounts/invitations/").removeprefix("http://testserver")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    user_make("nina")
    assert _signed_in("nina").post(path).status_code == 404
    assert not Membership.objects.filter(user__username="nina").exists()


def test_it_keeps_a_person_on_one_team_per_competition(arena, inbox, on_commit):
    # dana owns Blue Bastion, entered in the cast's competition: Red Rogues' invitation cannot seat her.
    token_holder = {}
    with on_commit():
        services.invitation_create(team=arena.rogues, email="dana@example.org", invited_by=arena.alice)
    token_holder["path"] = link_in(inbox.messages[0], "/accounts/invitations/").removeprefix("http://testserver")
    dana = _signed_in("dana")
    response = dana.post(token_holder["path"], follow=True)
    assert b"a person plays for one team per competition" in response.content
    assert not Membership.objects.filter(team=arena.rogues, user=arena.dana).exists()
    # The database itself refuses a second seat, whatever writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        rogues_entry = Entry.objects.get(team=arena.rogues)
        EntrySeat.objects.create(entry=rogues_entry, competition=arena.competition, user=arena.dana)
    # In another competition the same person may play for another team.
    other = Competition.objects.create(name="Other Cup", slug="other-cup")
    solo = team_make("Solo", "solo", Side.ATTACKER, arena.dana)
    entry_services.entry_request(competition=other, team=solo)
    with pytest.raises(entry_services.EntryError, match="one team per competition"):
        entry_services.entry_request(competition=arena.competition, team=solo)


def test_it_lets_owners_remove_members_and_hand_over_ownership_with_history(arena):
    alice = _signed_in("alice")
    mallory = _signed_in("mallory")
    assert (
        mallory.post("/accounts/teams/red-rogues/members/", {"do": "remove", "user": arena.alice.pk}).status_code == 403
    )
    assert _signed_in("carl").get("/accounts/teams/red-rogues/members/").status_code == 404
    alice.post("/accounts/teams/red-rogues/members/", {"do": "hand-over", "user": arena.mallory.pk})
    roles = dict(Membership.objects.filter(team=arena.rogues).values_list("user__username", "role"))
    assert roles == {"alice": "member", "mallory": "owner"}
    mallory.post("/accounts/teams/red-rogues/members/", {"do": "remove", "user": arena.alice.pk})
    assert not Membership.objects.filter(team=arena.rogues, user=arena.alice).exists()
    assert not EntrySeat.objects.filter(user=arena.alice).exists()
    assert Membership.history.filter(team_id=arena.rogues.pk, history_type="-").count() == 1
