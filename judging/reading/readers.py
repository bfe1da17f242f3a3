"""Who reads a conversation outside the admin, and what they may see of its bots.

Organizers (who may view matches: who played whom) see every bot by name. A team member sees their
own side by name and the opponent by a stable pseudonym (teams.pseudonyms), never a team or bot
name, as the bot protocol promises; failure details of the opponent's side stay private (they can
name its address). The site's pages (judging/reading/views.py) and the API (judging/reading/api.py) both use this.
"""

from __future__ import annotations

from conversations.models import Conversation
from teams.models import Bot, Membership
from teams.pseudonyms import bot_pseudonym

PROBE_LABEL = "Benign probe (the platform)"


class ConversationReader:
    """A user reading conversations; build once per request (one query for their teams)."""

    def __init__(self, user) -> None:
        self.organizer = user.has_perm("competition.view_match")
        self.team_ids = (
            set() if self.organizer else set(Membership.objects.filter(user=user).values_list("team_id", flat=True))
        )

    def own_side(self, conversation: Conversation) -> str | None:
        """The side the reader's team played, or None (organizers, or a team on neither side)."""
        match = conversation.match
        if match.attacker.team_id in self.team_ids:
            return "attacker"
        if match.defender.team_id in self.team_ids:
            return "defender"
        return None

    def may_see_details_of(self, conversation: Conversation, side: str) -> bool:
        """Whether failure details of ``side`` may be shown: organizers and that side's own team."""
        return self.organizer or self.own_side(conversation) == side

    def bot(self, conversation: Conversation, side: str) -> dict:
        """The bot of ``side`` as the reader may see it: by name (own side, organizers) or pseudonym."""
        match = conversation.match
        bot = match.attacker if side == "attacker" else match.defender
        version = match.attacker_version if side == "attacker" else match.defender_version
        own = self.own_side(conversation)
        if bot.kind == Bot.Kind.PROBE:
            # The platform's own benign probe: nobody's bot, so nothing to hide behind a pseudonym.
            return {"side": side, "pseudonym": PROBE_LABEL, "probe": True}
        if self.organizer or own == side:
            return {"side": side, "id": bot.pk, "name": bot.name, "team": bot.team.slug, "version": version}
        viewer_team = match.attacker.team_id if own == "attacker" else match.defender.team_id
        return {"side": side, "pseudonym": bot_pseudonym(bot_id=bot.pk, viewer_team_id=viewer_team)}

    def bot_label(self, conversation: Conversation, side: str) -> str:
        """The same, as one line of text for pages."""
        shown = self.bot(conversation, side)
        if "pseudonym" in shown:
            return shown["pseudonym"]
        bot = conversation.match.attacker if side == "attacker" else conversation.match.defender
        return f"{bot.team.name} / {bot.name} v{shown['version']}"
