"""The round's progress page: conversations and benign probes counted apart, as the demo prints them."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_counts_conversations_and_benign_probes_apart_on_the_progress_page(client, started):
    client.force_login(started.olivia)

    page = client.get(reverse("round-progress", args=[started.round.pk])).content.decode()

    assert "4 matches, 4 conversations and 4 benign probes" in page
    assert "2 of 4 conversations and 2 of 4 benign probes finished (50%)" in page
