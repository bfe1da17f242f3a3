"""Sign-up with a verified email, sign-in by username or email, password change and reset, all
mailed through a real SMTP server on loopback."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import OutboundMail
from accounts.tasks import mail_send_task
from tests.cast import PASSWORD, user_make
from tests.smtp import html_of, link_in, text_of

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def _signup(client: Client, on_commit, username="nina", email="nina@example.org"):
    with on_commit():
        return client.post(
            "/accounts/signup/",
            {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
        )


def test_it_signs_up_verifies_the_email_and_then_lets_the_person_in(inbox, on_commit):
    client = Client()
    response = _signup(client, on_commit)
    assert b"Check your email" in response.content
    assert not User.objects.get(username="nina").is_active
    assert not Client().login(username="nina", password=PASSWORD)

    (message,) = inbox.to("nina@example.org")
    assert "Confirm your email" in message["Subject"]
    link = link_in(message, "/accounts/verify/")
    assert link in html_of(message)
    response = client.get(link.removeprefix("http://testserver"), follow=True)
    assert response.status_code == 200
    assert User.objects.get(username="nina").is_active
    assert response.context["user"].username == "nina"


def test_it_refuses_a_taken_email_and_a_forged_link(inbox, on_commit):
    user_make("alice")
    response = _signup(Client(), on_commit, username="alice2", email="ALICE@example.org")
    assert response.status_code == 400
    assert b"An account with that email exists" in response.content
    assert Client().get("/accounts/verify/not-a-token/").status_code == 400


@pytest.mark.parametrize("login", ["alice", "alice@example.org", "Alice@Example.org"])
def test_it_signs_in_by_username_or_email(login):
    user_make("alice")
    client = Client()
    response = client.post("/accounts/login/", {"username": login, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/teams/").status_code == 200


def test_it_counts_failures_by_username_and_by_email_against_one_lockout(settings):
    user_make("alice")
    client = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login = "alice" if attempt % 2 else "alice@example.org"
        client.post("/accounts/login/", {"username": login, "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert b"Too many failed logins" in response.content
    response = client.post("/accounts/login/", {"username": "alice@example.org", "password": PASSWORD})
    assert b"Too many failed logins" in response.content


def test_it_resets_a_forgotten_password_by_email(inbox, on_commit):
    # An account a competition file made has no usable password until its person resets it.
    User.objects.create_user(username="fred", email="fred@example.org", password=None)
    client = Client()
    with on_commit():
        client.post("/accounts/password/reset/", {"email": "fred@example.org"})
    (message,) = inbox.to("fred@example.org")
    assert text_of(message) and html_of(message)
    path = link_in(message, "/accounts/reset/").removeprefix("http://testserver")
    form = client.get(path, follow=True)
    assert b"Set a new password" in form.content
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert Client().login(username="fred", password=NEW_PASSWORD)
    # The link works once.
    assert b"does not work" in client.get(path, follow=True).content


def test_it_sends_no_reset_mail_for_an_unknown_address(inbox, on_commit):
    with on_commit():
        response = Client().post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert inbox.messages == []


def test_it_changes_the_password_of_a_signed_in_person():
    user_make("alice")
    client = Client()
    client.login(username="alice", password=PASSWORD)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert Client().login(username="alice", password=NEW_PASSWORD)
    assert Client().get("/accounts/password/").status_code == 302  # to the login page


def test_it_retries_a_mail_the_server_refused_and_sends_it_once(inbox, on_commit):
    inbox.refuse = 1
    _signup(Client(), on_commit)
    mail = OutboundMail.objects.get(to="nina@example.org")
    assert (mail.status, mail.attempts) == ("queued", 1)
    assert "451" in mail.last_error
    mail_send_task(mail.pk)  # what the scheduled retry runs
    mail_send_task(mail.pk)  # and a duplicate run sends nothing more
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("sent", 2)
    assert len(inbox.to("nina@example.org")) == 1
