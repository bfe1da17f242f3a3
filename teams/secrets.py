"""Rotation of a bot's signing secret.

A rotation has two steps so that a bot never sees a request it cannot verify: while it runs, the
platform signs with both secrets (bot-protocol.md: several ``v1=`` values); once the team has
deployed the new secret, the organizer finishes it and only the new one is used.
"""

from __future__ import annotations

from django.db import transaction

from teams.models import Bot, bot_secret_new


def bot_secret_rotate(*, bot: Bot) -> str:
    """Start a rotation: the current secret becomes the previous one and a new secret is made.

    Returns the new secret; callers show it once and never store it elsewhere. A rotation that is
    already running is replaced: its older secret is dropped. ``bot`` is updated in place.
    The bot's version does not change, since the secret is not part of its behaviour contract.
    """
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        locked.previous_secret = locked.secret
        locked.secret = bot_secret_new()
        locked.save(update_fields=["secret", "previous_secret", "updated_at"])
    bot.secret, bot.previous_secret = locked.secret, locked.previous_secret
    return locked.secret


def bot_secret_rotation_finish(*, bot: Bot) -> None:
    """End a rotation: the previous secret is forgotten and requests carry one signature again.

    Harmless when no rotation is running. ``bot`` is updated in place.
    """
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        if locked.previous_secret:
            locked.previous_secret = ""
            locked.save(update_fields=["previous_secret", "updated_at"])
    bot.previous_secret = ""
