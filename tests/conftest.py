import pytest
from rest_framework.test import APIClient

from tests import cast


@pytest.fixture
def arena(db) -> cast.Cast:
    """The named cast: an organizer, an annotator, two attacker and two defender teams with bots."""
    return cast.build()


@pytest.fixture
def labelled(arena) -> cast.Labelled:
    """A labelled conversation of the cast (``cast.labelled_conversation_make``)."""
    return cast.labelled_conversation_make(arena)


@pytest.fixture(autouse=True)
def cache_cleared():
    """API throttles count in the cache: each test starts with no requests counted."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    """``api(user)``: a DRF test client signed in as ``user``."""

    def as_user(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return as_user
