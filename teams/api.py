"""REST API for a team's bots: list, register, change settings, rotate the secret, check, test.

Thin views over teams.services / teams.secrets, the same calls the site and the admin make.
Visibility follows the site: another team's bot is a 404; a member who is not an owner sees but
gets 403 on every write.
"""

from __future__ import annotations

from dataclasses import asdict

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from teams.models import Bot, Membership, Team
from teams.protocol import PROTOCOL
from teams.secrets import bot_secret_rotate, bot_secret_rotation_finish
from teams.selectors import bot_list_for_user, bot_operable_by
from teams.services import bot_health_check, bot_register, bot_settings_update, bot_test_exchange


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


class BotKindField(serializers.ChoiceField):
    """A bot kind a team may set: ``arena`` (an endpoint speaking the arena.v1 protocol) or ``openai``.

    ``arena.v1``, the protocol's name that the site and docs/bot-protocol.md show, is taken as
    ``arena``; reads always return ``arena``. ``probe`` is the platform's own and not settable here.
    """

    def __init__(self, **kwargs) -> None:
        message = f'"{{input}}" is not a bot kind: "arena" (or "{PROTOCOL}") or "openai".'
        super().__init__(choices=Bot.TEAM_KINDS, error_messages={"invalid_choice": message}, **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(Bot.Kind.ARENA.value if data == PROTOCOL else data)


class BotWriteSerializer(serializers.Serializer):
    """What a team sets on its bot. The API key is write-only; the secret is never set by hand."""

    team = serializers.SlugField(required=False, help_text="Slug of your team (needed when registering)")
    name = serializers.CharField(max_length=120, required=False)
    kind = BotKindField(required=False, help_text=f'"arena" (default; "{PROTOCOL}" is taken too) or "openai"')
    url = serializers.URLField(max_length=500, required=False)
    active = serializers.BooleanField(required=False)
    model = serializers.CharField(max_length=200, required=False, allow_blank=True)
    api_key = serializers.CharField(max_length=500, required=False, allow_blank=True, write_only=True)
    system_prompt = serializers.CharField(required=False, allow_blank=True)
    timeout_seconds = serializers.FloatField(required=False, allow_null=True)
    max_concurrency = serializers.IntegerField(required=False)


class BotCreateSerializer(BotWriteSerializer):
    """A registration: team, name and URL are required, and every one missing is reported at once."""

    team = serializers.SlugField(help_text="Slug of your team")
    name = serializers.CharField(max_length=120)
    url = serializers.URLField(max_length=500)


class BotCreatedSerializer(BotSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret, shown this once")

    class Meta(BotSerializer.Meta):
        fields = [*BotSerializer.Meta.fields, "secret"]
        read_only_fields = fields


SECRET_SCHEMA = inline_serializer(
    "BotSecret",
    {"bot": serializers.IntegerField(), "secret": serializers.CharField(), "rotating": serializers.BooleanField()},
)
TEST_REPORT_SCHEMA = inline_serializer(
    "BotTestReport",
    {
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
    },
)
HEALTH_SCHEMA = inline_serializer(
    "BotHealthCheck",
    {
        "ok": serializers.BooleanField(),
        "latency_ms": serializers.IntegerField(allow_null=True),
        "error_kind": serializers.CharField(),
        "error": serializers.CharField(),
        "checked_at": serializers.DateTimeField(),
    },
)


def _django_errors(error: DjangoValidationError) -> ValidationError:
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages})


class BotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your teams' bots (organizers: every bot)."""

    serializer_class = BotSerializer
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

    def _write_data(self, request: Request, serializer_class=BotWriteSerializer) -> dict:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
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
        return Response(BotCreatedSerializer(bot).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BotWriteSerializer, responses={200: BotSerializer})
    def partial_update(self, request: Request, pk=None, **kwargs) -> Response:
        """Change settings; a change to kind, URL, model, prompt or limits makes a new version."""
        bot = self._operable()
        data = self._write_data(request)
        if "team" in data:
            raise ValidationError({"team": ["A bot cannot move to another team."]})
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
        return Response({"bot": bot.pk, "secret": secret, "rotating": True})

    @extend_schema(request=None, responses={200: BotSerializer})
    @action(detail=True, methods=["post"], url_path="finish-rotation")
    def finish_rotation(self, request: Request, pk=None, **kwargs) -> Response:
        """End a rotation once the bot verifies the new secret: the old one stops being sent."""
        bot = self._operable()
        bot_secret_rotation_finish(bot=bot)
        return Response(BotSerializer(bot).data)

    @extend_schema(request=None, responses={200: HEALTH_SCHEMA})
    @action(detail=True, methods=["post"], url_path="health-check")
    def health_check(self, request: Request, pk=None, **kwargs) -> Response:
        """Ping the bot now and store the result in its health history."""
        check = bot_health_check(bot=self._operable())
        return Response(
            {
                "ok": check.ok,
                "latency_ms": check.latency_ms,
                "error_kind": check.error_kind,
                "error": check.error,
                "checked_at": check.checked_at,
            }
        )

    @extend_schema(request=None, responses={200: TEST_REPORT_SCHEMA})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk=None, **kwargs) -> Response:
        """Send one sample turn and return the raw exchange (the bot's text is returned as it came)."""
        report = bot_test_exchange(bot=self._operable())
        return Response({"ok": report.ok, **asdict(report)})
