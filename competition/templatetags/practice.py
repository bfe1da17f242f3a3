"""``{% bot_practice bot %}``: the bot page's practice part (whether the bot is open to other teams'
practice in each competition it is entered in, and for its team's owners the control to open or
close it), so that teams/ imports nothing of the competitions it sits below."""

from __future__ import annotations

from django import template

from competition.practice.selectors import practice_openings_of_bot
from teams.models import Bot, Membership

register = template.Library()


@register.inclusion_tag("competition/practice/_bot_practice.html", takes_context=True)
def bot_practice(context: template.Context, bot: Bot) -> dict:
    user = context["request"].user
    # Only owners open a bot (competition/practice/services.py: practice_opt_in_set); organizers
    # name reference bots in the competition file or the admin instead.
    owner = Membership.objects.filter(user=user, team_id=bot.team_id, role=Membership.Role.OWNER).exists()
    return {"bot": bot, "openings": practice_openings_of_bot(bot=bot), "owner": owner}
