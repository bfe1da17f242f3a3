"""The clients that ask a bot for one message, one module per kind of bot.

- base.py: the turn request, limits, reply and BotCallError every kind shares, and the content checks;
- arena.py: arena.v1 endpoints (the signed envelope of docs/bot-protocol.md);
- openai.py: OpenAI-compatible chat-completions endpoints;
- probe.py: the platform's built-in probe attacker, which answers without a call;
- exchange.py: one exchange with a bot of either kind (rounds and "Test this bot" both use it),
  and the health-check ping.

Every public name is importable from here.
"""

from teams.clients.base import (
    DEFAULT_MESSAGE_LIMIT,
    DEFAULT_TIMEOUT_SECONDS,
    HEALTH_TIMEOUT_SECONDS,
    BotCallError,
    BotReply,
    BotRequest,
    CallLimits,
    TurnRequest,
    call_time_limit,
)
from teams.clients.exchange import (
    BotExchange,
    bot_call,
    bot_exchange,
    bot_ping,
    bot_reply_parse,
    bot_request_build,
    bot_retry_policy,
    bot_signing_secrets,
)
from teams.clients.openai import system_prompt_render
from teams.clients.probe import probe_reply

__all__ = [
    "DEFAULT_MESSAGE_LIMIT",
    "DEFAULT_TIMEOUT_SECONDS",
    "HEALTH_TIMEOUT_SECONDS",
    "BotCallError",
    "BotExchange",
    "BotReply",
    "BotRequest",
    "CallLimits",
    "TurnRequest",
    "bot_call",
    "bot_exchange",
    "bot_ping",
    "bot_reply_parse",
    "bot_request_build",
    "bot_retry_policy",
    "bot_signing_secrets",
    "call_time_limit",
    "probe_reply",
    "system_prompt_render",
]
