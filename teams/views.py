"""The teams' bot pages: their bots, each bot's health history, and the owners' check and test actions.

Everything a bot answered is hostile text: it reaches the templates as plain strings and is
autoescaped there; JSON is pretty-printed here, never marked safe.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from teams import services
from teams.bot_calls import BotCallBusy, bot_call_request
from teams.forms import TeamBotForm
from teams.models import ApiToken, Bot, BotCall, BotHealthCheck, CallFailure, Membership, Team
from teams.secrets import bot_secret_rotate, bot_secret_rotation_finish
from teams.selectors import bot_call_latest, bot_health_history, bot_list_for_user, bot_operable_by
from teams.services import BotTestReport, api_token_create, api_token_revoke

HEALTH_HISTORY_LENGTH = 50
# Indenting deeply nested JSON multiplies its size; past this the raw body alone is shown.
PRETTY_MAX_CHARS = 100_000
CALL_REFRESH_SECONDS = 2

# What to fix, per failure kind, in the words of the protocol (docs/bot-protocol.md).
FAILURE_HINTS: dict[str, str] = {
    CallFailure.TIMEOUT.value: (
        "Answer sooner: the whole answer must arrive within the time limit (45 s by default, or the bot's own "
        "shorter limit). Reply first and log afterwards; keep model calls within the budget."
    ),
    CallFailure.CONNECTION.value: (
        "The platform could not reach the URL: check that the server is running, listens on a public address "
        "and port, and that its TLS certificate is valid for the host name."
    ),
    CallFailure.HTTP_STATUS.value: (
        "Answer with status 200. A 401/403 often means the signature check is wrong: the HMAC-SHA256 is over "
        'the bytes "{timestamp}.{raw body}" keyed with the bot\'s secret; a 404 means the registered URL is not '
        "the endpoint's path."
    ),
    CallFailure.BAD_JSON.value: (
        'Answer with a JSON object like {"content": "..."} (Content-Type: application/json), '
        "not HTML, plain text, an array or a string."
    ),
    CallFailure.BAD_CONTENT.value: (
        'The JSON object needs a "content" field holding a non-empty string of at most 20,000 characters '
        '(attackers may add "end": true). No NUL characters or unpaired surrogates.'
    ),
    CallFailure.TOO_LARGE.value: "Keep the answer body under 1 MiB.",
    CallFailure.REDIRECT.value: (
        "Redirects are not followed: register the final URL (for example https:// instead of http://, or with "
        "the trailing slash your server expects)."
    ),
    CallFailure.BLOCKED_ADDRESS.value: (
        "The URL must be a public http(s) address: loopback, private, link-local and reserved addresses are "
        "refused. Register the address the platform can reach on the internet."
    ),
    CallFailure.CIRCUIT_OPEN.value: (
        "The bot failed too often in a row during a round, so calls were skipped. Fix the failures shown in the "
        "health history, then ask an organizer to re-run the failed conversations (possible until the round's "
        "standings are published)."
    ),
}


def _visible_bot(request: HttpRequest, bot_id: int) -> Bot:
    # Another team's bot is a 404, never a 403: its existence is not theirs to learn.
    return get_object_or_404(bot_list_for_user(user=request.user), pk=bot_id)


def _operable_bot(request: HttpRequest, bot_id: int) -> Bot:
    bot = _visible_bot(request, bot_id)
    if not bot_operable_by(user=request.user, bot=bot):
        raise PermissionDenied("Only the team's owners and organizers can check or test this bot.")
    return bot


def _failure_label(kind: str) -> str:
    return CallFailure(kind).label if kind in CallFailure.values else kind


def _json_pretty(text: str) -> str | None:
    """``text`` re-indented when it is JSON (and the result stays readable), else None. Still hostile text."""
    try:
        pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return None
    return pretty if len(pretty) <= PRETTY_MAX_CHARS else None


def _uptime_percent(checks: list[BotHealthCheck]) -> float | None:
    if not checks:
        return None
    return round(100 * sum(check.ok for check in checks) / len(checks), 1)


def _history_hints(checks: list[BotHealthCheck]) -> list[dict]:
    """One hint per failure kind seen in the history, most recent kind first."""
    kinds = dict.fromkeys(check.error_kind for check in checks if check.error_kind)
    return [
        {"kind": kind, "label": _failure_label(kind), "hint": FAILURE_HINTS[kind]}
        for kind in kinds
        if kind in FAILURE_HINTS
    ]


def _report_context(report: BotTestReport) -> dict:
    return {
        "report": report,
        "request_body_pretty": _json_pretty(report.request_body) or report.request_body,
        "request_headers": sorted(report.request_headers.items()),
        "response_body_pretty": _json_pretty(report.response_body) if report.response_body else None,
        "error_label": _failure_label(report.error_kind) if report.error_kind else "",
        "error_hint": FAILURE_HINTS.get(report.error_kind, ""),
    }


def _bot_page(request: HttpRequest, bot: Bot, *, test_page: bool = False) -> HttpResponse:
    checks = list(bot_health_history(bot=bot, limit=HEALTH_HISTORY_LENGTH))
    may_operate = bot_operable_by(user=request.user, bot=bot)
    health_call = bot_call_latest(bot=bot, kind=BotCall.Kind.HEALTH_CHECK) if may_operate else None
    test_call = bot_call_latest(bot=bot, kind=BotCall.Kind.TEST) if test_page else None
    context = {
        "bot": bot,
        "checks": checks,
        "uptime_percent": _uptime_percent(checks),
        "history_length": HEALTH_HISTORY_LENGTH,
        "may_operate": may_operate,
        "history_hints": _history_hints(checks),
        "test_page": test_page,
        "health_call": health_call,
        "test_call": test_call,
        # While a call is under way the page reloads itself (a meta refresh: no script) until it is done.
        "refresh_seconds": CALL_REFRESH_SECONDS
        if any(call is not None and call.in_flight for call in (health_call, test_call))
        else None,
    }
    if test_call is not None and test_call.report:
        context.update(_report_context(BotTestReport(**test_call.report)))
    return render(request, "teams/bot_detail.html", context)


@login_required
@require_GET
def bot_list(request: HttpRequest) -> HttpResponse:
    """The bots of the user's teams (every bot for staff), each with its latest health check."""
    latest = BotHealthCheck.objects.order_by("-checked_at", "-pk")[:1]
    bots = bot_list_for_user(user=request.user).prefetch_related(
        Prefetch("health_checks", queryset=latest, to_attr="latest_checks")
    )
    rows = [{"bot": bot, "latest": bot.latest_checks[0] if bot.latest_checks else None} for bot in bots]
    return render(request, "teams/bot_list.html", {"rows": rows})


@never_cache  # shows a new signing secret once, right after registration or rotation: no cache keeps it
@login_required
@require_GET
def bot_detail(request: HttpRequest, bot_id: int) -> HttpResponse:
    """One bot: its settings (the secret as a hint only), its health history and, for owners, the actions."""
    return _bot_page(request, _visible_bot(request, bot_id))


def _call_request(request: HttpRequest, bot: Bot, kind: str) -> None:
    try:
        bot_call_request(bot=bot, kind=kind, user=request.user)
    except BotCallBusy as busy:
        messages.warning(request, f"{busy} Its result appears on this page when it arrives.")


@login_required
@require_http_methods(["GET", "POST"])
def bot_health_check_now(request: HttpRequest, bot_id: int) -> HttpResponse:
    """Queue a ping of the bot (POST) and go back to its page, which shows the check when it arrives.
    A GET (a reload, a bookmark) only goes back to the page: checks are made on purpose, never by
    opening a link. The bot is called by a background task, never inside this request."""
    if request.method == "GET":
        return redirect("teams:bot-detail", bot_id=_visible_bot(request, bot_id).pk)
    bot = _operable_bot(request, bot_id)
    _call_request(request, bot, BotCall.Kind.HEALTH_CHECK)
    return redirect("teams:bot-detail", bot_id=bot.pk)


@login_required
@require_http_methods(["GET", "POST"])
def bot_test(request: HttpRequest, bot_id: int) -> HttpResponse:
    """POST: queue one sample turn to the bot and redirect to this page.
    GET (after that redirect, a reload, a bookmark): the latest sample exchange of the bot, or that it
    is still under way (the page then reloads itself every few seconds). The bot is called by a
    background task, never inside this request."""
    bot = _operable_bot(request, bot_id)
    if request.method == "POST":
        _call_request(request, bot, BotCall.Kind.TEST)
        return redirect("teams:bot-test", bot_id=bot.pk)
    return _bot_page(request, bot, test_page=True)


def _owned_teams(user) -> QuerySet[Team]:
    if user.has_perm("teams.add_bot"):
        return Team.objects.order_by("name")
    return Team.objects.filter(memberships__user=user, memberships__role=Membership.Role.OWNER).order_by("name")


def _secret_announce(request: HttpRequest, bot: Bot, secret: str, *, event: str) -> None:
    # Session-stored messages (settings.MESSAGE_STORAGE): the secret never travels in a cookie.
    messages.success(request, secret, extra_tags=f"shown-once new-bot-secret {event}")


@login_required
@require_http_methods(["GET", "POST"])
def bot_register(request: HttpRequest) -> HttpResponse:
    """A team owner registers a bot; its signing secret is shown once, on the bot's page."""
    owned = _owned_teams(request.user)
    if not owned.exists():
        raise PermissionDenied("Only a team's owners can register its bots.")
    form = TeamBotForm(request.POST or None, owned_teams=owned)
    if request.method == "POST" and form.is_valid():
        try:
            bot, secret = services.bot_register(team=form.cleaned_data["team"], **form.bot_fields())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _secret_announce(request, bot, secret, event="created")
            return redirect("teams:bot-detail", bot_id=bot.pk)
    return render(request, "teams/bot_form.html", {"form": form, "bot": None}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def bot_edit(request: HttpRequest, bot_id: int) -> HttpResponse:
    """A team owner changes a bot's settings; a change to what it does makes a new version."""
    bot = _operable_bot(request, bot_id)
    form = TeamBotForm(request.POST or None, instance=Bot.objects.get(pk=bot.pk))
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.bot_settings_update(bot=bot, **form.bot_fields())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if updated.version != bot.version:
                messages.success(
                    request, f"Saved as version {updated.version}; rounds already started keep v{bot.version}."
                )
            else:
                messages.success(request, "Saved.")
            return redirect("teams:bot-detail", bot_id=bot.pk)
    return render(request, "teams/bot_form.html", {"form": form, "bot": bot}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def bot_secret_rotate_view(request: HttpRequest, bot_id: int) -> HttpResponse:
    """Start a rotation; the new secret is shown once on the bot's page. A GET only goes back to the bot's page."""
    if request.method == "GET":
        return redirect("teams:bot-detail", bot_id=_visible_bot(request, bot_id).pk)
    bot = _operable_bot(request, bot_id)
    _secret_announce(request, bot, bot_secret_rotate(bot=bot), event="rotated")
    return redirect("teams:bot-detail", bot_id=bot.pk)


@login_required
@require_http_methods(["GET", "POST"])
def bot_rotation_finish_view(request: HttpRequest, bot_id: int) -> HttpResponse:
    """End a rotation once the bot verifies with the new secret. A GET only goes back to the bot's page."""
    if request.method == "GET":
        return redirect("teams:bot-detail", bot_id=_visible_bot(request, bot_id).pk)
    bot = _operable_bot(request, bot_id)
    bot_secret_rotation_finish(bot=bot)
    messages.success(request, "Rotation finished: requests are signed with the new secret only.")
    return redirect("teams:bot-detail", bot_id=bot.pk)


@never_cache  # shows a new key once, right after it is made: no cache keeps it
@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's REST API keys: make one (shown once, after the redirect) or revoke one."""
    if request.method == "POST":
        if "revoke" in request.POST:
            try:
                token_id = int(request.POST["revoke"])
            except ValueError:
                token_id = 0
            if api_token_revoke(user=request.user, token_id=token_id):
                messages.success(request, "The key is revoked: requests that use it are refused from now on.")
            else:
                messages.warning(request, "No such key of yours; nothing was revoked.")
            return redirect("api-tokens")
        try:
            _token, key = api_token_create(user=request.user, name=request.POST.get("name", ""))
        except ValidationError as error:
            return render(
                request,
                "teams/api_tokens.html",
                _tokens_context(request, errors=error.messages, name=request.POST.get("name", "")),
                status=400,
            )
        # Session-stored messages (settings.MESSAGE_STORAGE): the key never travels in a cookie.
        messages.success(request, key, extra_tags="shown-once new-api-key")
        return redirect("api-tokens")
    return render(request, "teams/api_tokens.html", _tokens_context(request))


def _tokens_context(request: HttpRequest, *, errors: list[str] = (), name: str = "") -> dict:
    return {"tokens": ApiToken.objects.filter(user=request.user), "errors": errors, "name": name}
