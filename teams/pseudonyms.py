"""Stable anonymous names for opponents (bot-protocol.md: a team never learns who it played).

A pseudonym depends on the viewing team and the opponent bot, keyed with a server secret: the same
opponent has the same name across a team's rounds and pages, two teams cannot match their names
for one opponent, and without the key nobody can work back to the bot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings


def bot_pseudonym(*, bot_id: int, viewer_team_id: int) -> str:
    """A name like ``Opponent K7QJ2M`` for ``bot_id`` as seen by ``viewer_team_id``; deterministic."""
    key = (getattr(settings, "ARENA_PSEUDONYM_KEY", "") or settings.SECRET_KEY).encode()
    digest = hmac.new(key, f"opponent:{viewer_team_id}:{bot_id}".encode(), hashlib.sha256).digest()
    return "Opponent " + base64.b32encode(digest[:5]).decode()[:6]
