"""``{% bot_entries bot may_operate %}``: the bot page's part that the competition layer owns (the
team's approved entries and an "Enter this bot" control for each), so that teams/ imports nothing
of the competitions it sits below."""

from __future__ import annotations

from django import template

from competition.entries.selectors import entries_of_bot
from teams.models import Bot

register = template.Library()


@register.inclusion_tag("competition/entries/_bot_entries.html")
def bot_entries(bot: Bot, may_operate: bool) -> dict:
    return {"bot": bot, "rows": entries_of_bot(bot=bot), "may_operate": may_operate}
