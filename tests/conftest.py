import pytest

from tests import cast


@pytest.fixture
def arena(db) -> cast.Cast:
    """The named cast: an organizer, an annotator, two attacker and two defender teams with bots."""
    return cast.build()
