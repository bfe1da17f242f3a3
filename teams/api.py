"""REST API for a team's bots: list, register, change settings, rotate the secret, check, test.

Checks and tests are queued (202) and polled at the call's URL: the bot is never called inside a request.

Thin views over teams.services / teams.secrets, the same calls the site and the admin make.
Visibility follows the site: another team's bot is a 404; a member who is not an owner sees but
gets 403 on every write.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from config.api_fields import (
    JsonBooleanField,
    JsonCharField,
    JsonChoiceField,
    JsonFloatField,
    JsonIntegerField,
    JsonSlugField,
)
from teams.bot_calls import BotCallBusy, bot_call_request
from teams.models import Bot, BotCall, Membership, Team
from teams.protocol import PROTOCOL
from teams.secrets import bot_secret_rotate, bot_secret_rotation_finish
from teams.selectors import bot_list_for_user, bot_operable_by
from teams.services import bot_register, bot_settings_update


class BotSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    side = serializers.CharField(read_only=True)
    secret_hint = serializers.CharField(read_only=True)
    rotating = serializers.SerializerMethodField()
    has_api_key = serializers.SerializerMethodField()

    class Meta:
        model = Bot
        fields = [
            "id",
            "team",
            "side",
            "name",
            "kind",
            "url",
            "active",
            "model",
            "system_prompt",
            "timeout_seconds",
            "max_concurrency",
            "version",
            "secret_hint",
            "rotating",
            "has_api_key",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_rotating(self, bot: Bot) -> bool:
        return bool(bot.previous_secret)

    def get_has_api_key(self, bot: Bot) -> bool:
        return bool(bot.api_key)


# The schema's BotKindSettableEnum (settings.SPECTACULAR_SETTINGS): the protocol's name is a documented choice.
SETTABLE_KINDS = [*Bot.TEAM_KINDS, (PROTOCOL, f"{PROTOCOL} endpoint (taken as arena)")]


class BotKindField(JsonChoiceField):
    """A bot kind a team may set: ``arena`` (an endpoint speaking the arena.v1 protocol) or ``openai``.

    ``arena.v1``, the protocol's name that the site and docs/bot-protocol.md show, is taken as
    ``arena``; reads always return ``arena``. ``probe`` is the platform's own and not settable here.
    """

    def __init__(self, **kwargs) -> None:
        message = f'"{{input}}" is not a bot kind: "arena" (or "{PROTOCOL}") or "openai".'
        super().__init__(choices=SETTABLE_KINDS, error_messages={"invalid_choice": message}, **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(Bot.Kind.ARENA.value if data == PROTOCOL else data)


def _declared(name: str) -> list:
    # The validators the model declares on the field (not the database's range checks), so the API
    # reports every bad field at once instead of finding the model's rules one request later.
    return list(Bot._meta.get_field(name)._validators)


class BotWriteSerializer(serializers.Serializer):
    """What a team changes on its bot (never its team). The API key is write-only; the secret is never set by hand."""

    name = JsonCharField(max_length=120, required=False)
    kind = BotKindField(required=False, help_text=f'"arena" (default; "{PROTOCOL}" is taken too) or "openai"')
    url = JsonCharField(max_length=500, required=False, validators=_declared("url"))
    active = JsonBooleanField(required=False)
    model = JsonCharField(max_length=200, required=False, allow_blank=True)
    api_key = JsonCharField(max_length=500, required=False, allow_blank=True, write_only=True)
    system_prompt = JsonCharField(required=False, allow_blank=True)
    # The model's limits, so the schema states them (teams.models.Bot).
    timeout_seconds = JsonFloatField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=600,
        help_text="Seconds per call (1 to 600); null means the round's limit",
    )
    max_concurrency = JsonIntegerField(required=False, min_value=1, max_value=256)


def _team_refusal(request: Request) -> dict:
    """A change naming a team is refused, reported with the request's other bad fields."""
    if isinstance(request.data, dict) and "team" in request.data:
        return {"team": ["A bot cannot move to another team."]}
    return {}


class BotCreateSerializer(BotWriteSerializer):
    """A registration: team, name and URL are required, and every one missing is reported at once."""

    team = JsonSlugField(help_text="Slug of your team")
    name = JsonCharField(max_length=120)
    url = JsonCharField(max_length=500, validators=_declared("url"))


class BotCreatedSerializer(BotSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret, shown this once")

    class Meta(BotSerializer.Meta):
        fields = [*BotSerializer.Meta.fields, "secret"]
        read_only_fields = fields


SECRET_SCHEMA = inline_serializer(
    "BotSecret",
    {"bot": serializers.IntegerField(), "secret": serializers.CharField(), "rotating": serializers.BooleanField()},
)
TEST_REPORT_FIELDS = {
    "ok": serializers.BooleanField(),
    "url": serializers.CharField(),
    "role": serializers.CharField(),
    "request_body": serializers.CharField(),
    "request_headers": serializers.DictField(child=serializers.CharField()),
    "status": serializers.IntegerField(allow_null=True),
    "response_body": serializers.CharField(),
    "latency_ms": serializers.IntegerField(allow_null=True),
    "content": serializers.CharField(),
    "end": serializers.BooleanField(),
    "error_kind": serializers.CharField(),
    "error": serializers.CharField(),
}
HEALTH_FIELDS = {
    "ok": serializers.BooleanField(),
    "latency_ms": serializers.IntegerField(allow_null=True),
    "error_kind": serializers.CharField(),
    "error": serializers.CharField(),
    "checked_at": serializers.DateTimeField(),
}


class CallInFlight(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A call to this bot is already under way."
    default_code = "call_in_flight"


def _call_url(call: BotCall) -> str:
    return reverse("api:bot-call", kwargs={"pk": call.bot_id, "call_id": call.pk})


class BotCallSerializer(serializers.ModelSerializer):
    """A queued, running or finished call; ``health_check`` or ``report`` once it is done."""

    poll_url = serializers.SerializerMethodField()
    health_check = serializers.SerializerMethodField()
    report = serializers.SerializerMethodField()

    class Meta:
        model = BotCall
        fields = ["id", "bot", "kind", "status", "requested_at", "started_at", "finished_at", "poll_url"]
        fields += ["health_check", "report"]
        read_only_fields = fields

    def get_poll_url(self, call: BotCall) -> str:
        return _call_url(call)

    @extend_schema_field(inline_serializer("BotHealthCheck", HEALTH_FIELDS, allow_null=True))
    def get_health_check(self, call: BotCall) -> dict | None:
        check = call.health_check
        if check is None:
            return None
        return {
            "ok": check.ok,
            "latency_ms": check.latency_ms,
            "error_kind": check.error_kind,
            "error": check.error,
            "checked_at": check.checked_at,
        }

    @extend_schema_field(inline_serializer("BotTestReport", TEST_REPORT_FIELDS, allow_null=True))
    def get_report(self, call: BotCall) -> dict | None:
        return {"ok": not call.report["error_kind"], **call.report} if call.report else None


def _shown_once(response: Response) -> Response:
    """An answer holding a secret shown this once: no cache (browser, proxy) may keep a copy."""
    response["Cache-Control"] = "no-store"
    return response


def _django_errors(error: DjangoValidationError) -> ValidationError:
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages})


class BotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your teams' bots (organizers: every bot)."""

    serializer_class = BotSerializer
    lookup_value_regex = "[0-9]{1,18}"  # an id past 64 bits is the API's 404, not an overflow
    filterset_fields = ["active", "kind", "team__slug"]

    def get_queryset(self):
        return bot_list_for_user(user=self.request.user)

    def get_throttles(self):
        if self.action in {"health_check", "test"}:
            self.throttle_scope = "bot_call"
            return [*super().get_throttles(), ScopedRateThrottle()]
        return super().get_throttles()

    def _operable(self) -> Bot:
        bot = self.get_object()
        if not bot_operable_by(user=self.request.user, bot=bot):
            raise PermissionDenied("Only the team's owners and organizers can change, check or test this bot.")
        return bot

    def _write_data(
        self, request: Request, serializer_class: type[BotWriteSerializer], refused: dict | None = None
    ) -> dict:
        """The request's valid fields; every bad one (and each of ``refused``) reported at once."""
        serializer = serializer_class(data=request.data)
        errors = {} if serializer.is_valid() else dict(serializer.errors)
        errors |= refused or {}
        if errors:
            raise ValidationError(errors)
        return dict(serializer.validated_data)

    @extend_schema(request=BotCreateSerializer, responses={201: BotCreatedSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Register a bot for a team you own. The answer holds its signing secret, shown this once."""
        data = self._write_data(request, BotCreateSerializer)
        slug = data.pop("team")
        organizer = request.user.has_perm("teams.add_bot")
        # A team the user is not in is a 404, like its bots: its existence is not theirs to probe.
        teams = Team.objects.all() if organizer else Team.objects.filter(memberships__user=request.user).distinct()
        team = get_object_or_404(teams, slug=slug)
        owner = Membership.objects.filter(user=request.user, team=team, role=Membership.Role.OWNER).exists()
        if not (owner or organizer):
            raise PermissionDenied("Only the team's owners can register its bots.")
        try:
            bot, secret = bot_register(team=team, **data)
        except DjangoValidationError as error:
            raise _django_errors(error) from error
        bot.secret = secret
        return _shown_once(Response(BotCreatedSerializer(bot).data, status=status.HTTP_201_CREATED))

    @extend_schema(request=BotWriteSerializer, responses={200: BotSerializer})
    def partial_update(self, request: Request, pk=None, **kwargs) -> Response:
        """Change settings; a change to kind, URL, model, prompt or limits makes a new version."""
        bot = self._operable()
        data = self._write_data(request, BotWriteSerializer, refused=_team_refusal(request))
        try:
            bot = bot_settings_update(bot=bot, **data)
        except DjangoValidationError as error:
            raise _django_errors(error) from error
        return Response(BotSerializer(bot).data)

    @extend_schema(request=None, responses={200: SECRET_SCHEMA})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk=None, **kwargs) -> Response:
        """Start a rotation: a new secret (shown this once); requests carry both signatures until finished."""
        bot = self._operable()
        secret = bot_secret_rotate(bot=bot)
        return _shown_once(Response({"bot": bot.pk, "secret": secret, "rotating": True}))

    @extend_schema(request=None, responses={200: BotSerializer})
    @action(detail=True, methods=["post"], url_path="finish-rotation")
    def finish_rotation(self, request: Request, pk=None, **kwargs) -> Response:
        """End a rotation once the bot verifies the new secret: the old one stops being sent."""
        bot = self._operable()
        bot_secret_rotation_finish(bot=bot)
        return Response(BotSerializer(bot).data)

    def _call(self, kind: str) -> Response:
        bot = self._operable()
        try:
            call = bot_call_request(bot=bot, kind=kind, user=self.request.user)
        except BotCallBusy as busy:
            raise CallInFlight(f"{busy} Poll {_call_url(busy.call)} for its result.") from None
        body = BotCallSerializer(call).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["poll_url"]})

    @extend_schema(request=None, responses={202: BotCallSerializer})
    @action(detail=True, methods=["post"], url_path="health-check")
    def health_check(self, request: Request, pk=None, **kwargs) -> Response:
        """Queue a ping of the bot (202); poll the call's URL for the result, also kept in its health history.

        One call per bot at a time: another while one is queued or running is a 409."""
        return self._call(BotCall.Kind.HEALTH_CHECK)

    @extend_schema(request=None, responses={202: BotCallSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk=None, **kwargs) -> Response:
        """Queue one sample turn (202); poll the call's URL for the raw exchange (the bot's text as it came).

        One call per bot at a time: another while one is queued or running is a 409."""
        return self._call(BotCall.Kind.TEST)

    @extend_schema(request=None, responses={200: BotCallSerializer})
    @action(detail=True, methods=["get"], url_path=r"calls/(?P<call_id>[0-9]{1,18})")
    def call(self, request: Request, pk=None, call_id=None, **kwargs) -> Response:
        """A health check or sample exchange asked for with POST: its status, and its result once done."""
        bot = self._operable()
        call = get_object_or_404(BotCall.objects.select_related("health_check"), bot=bot, pk=call_id)
        return Response(BotCallSerializer(call).data)
