import pytest

from tests import cast
from tests.botfarm import farm_start


@pytest.fixture
def farm():
    farm = farm_start()
    yield farm
    farm.server.shutdown()
    farm.server.server_close()


@pytest.fixture
def live_arena(db, farm, settings) -> cast.Cast:
    """The cast with every bot served by the local bot farm (loopback allowed for this test)."""
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    return cast.build(bot_url=f"{farm.base_url}/bot")
