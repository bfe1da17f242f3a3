"""``/healthz``: the database and the django-q2 broker, as JSON, without a secret."""

import pytest
from django.urls import reverse
from django_q.conf import Conf

from tests.rawserver import closed_port

pytestmark = pytest.mark.django_db


def test_it_reports_a_working_database_and_broker(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {"ok": True, "kind": "orm", "queued": 0}


def test_it_answers_503_naming_the_failed_broker_without_its_address_or_password(client, monkeypatch):
    # A Redis broker that is down: nothing listens on the port.
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://:hunter2-secret@127.0.0.1:{closed_port()}/0")
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"] == "ConnectionError"
    text = response.content.decode()
    assert "hunter2" not in text and "127.0.0.1" not in text


def test_it_needs_no_login_and_only_answers_get(client):
    assert client.get(reverse("healthz")).status_code == 200
    assert client.post(reverse("healthz")).status_code == 405
