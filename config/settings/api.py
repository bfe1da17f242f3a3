"""The REST API (docs/api.md): authentication, the one parser and error shape, paging, strict filters,
throttles, and the OpenAPI schema drf-spectacular writes."""

from __future__ import annotations

import os

from config.settings.security import ARENA_PROXY_COUNT

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "teams.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, through the one guard for hostile structure (config/hostile.py): a form body cannot say
    # null or a list, and the API takes no files. Anything else is a 415.
    "DEFAULT_PARSER_CLASSES": ["config.api_parsers.GuardedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "config.api_pagination.PageNumbers",
    "PAGE_SIZE": 50,
    # django-filter, strict: an unreadable value is a 400 naming the parameter (config/api_filters.py).
    "DEFAULT_FILTER_BACKENDS": ["config.api_filters.ArenaFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "600/minute"),
        # Calls that reach a team's bot over the network cost more than reads.
        "bot_call": os.environ.get("API_THROTTLE_BOT_CALL", "20/minute"),
    },
    # The client is found behind this many reverse proxies (security.py), as for login throttling.
    "NUM_PROXIES": ARENA_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Adversarial Arena API",
    "DESCRIPTION": (
        "Competitions, rounds, standings, a team's own conversations with their labels, and its bots. "
        "Authenticate with `Authorization: Token <key>` (create keys at /account/tokens/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation UI's assets come from drf-spectacular-sidecar, served by this site: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every error status with the one error shape on every operation (config/api_schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.api_schema.error_responses_add"],
    "ENUM_NAME_OVERRIDES": {
        "RoundStatusEnum": "competition.models.RoundStatus",
        "ConversationStatusEnum": "conversations.models.Conversation.Status",
        "TurnStatusEnum": "conversations.models.Turn.Status",
        "SideEnum": "teams.models.Side",
        "BotKindEnum": "teams.models.Bot.Kind",
        "BotKindSettableEnum": "teams.api.SETTABLE_KINDS",
        "OutcomeEnum": "judging.selectors.Outcome",
    },
}
