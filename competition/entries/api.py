"""REST API for a team's entries: list them, enter a bot into one, take it out.

Thin views over competition.entries.services, the calls the site and the admin make. Another
team's entry is a 404; a member who is not an owner sees but gets 403 on every write.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from competition.entries import services
from competition.entries.models import Entry
from competition.entries.selectors import entries_for_user, entry_operable_by
from config.api_fields import IdField
from config.api_filters import MAX_ID
from teams.selectors import bot_list_for_user


class EntrySerializer(serializers.ModelSerializer):
    competition = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    bots = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Entry
        fields = ["id", "competition", "team", "status", "reason", "bots", "created_at", "decided_at"]
        read_only_fields = fields


class EntryBotRequestSerializer(serializers.Serializer):
    """The team's bot to enter, by id (a POST's body; a DELETE gives it as ``?bot=``)."""

    bot = IdField(help_text="The bot's id")


class EntryBotQuerySerializer(serializers.Serializer):
    bot = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class EntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The entries of your teams (organizers: every entry); owners enter bots into approved ones."""

    serializer_class = EntrySerializer
    # Digits only, as for bots and rounds: " 1" or "01 " was read as 1 (an answer to an id not asked for).
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return entries_for_user(user=self.request.user).prefetch_related("bots")

    def _operable(self, request: Request, pk: str):
        entry = self.get_object()
        if not entry_operable_by(user=request.user, entry=entry):
            raise PermissionDenied("Only the team's owners and organizers enter bots.")
        # A POST names the bot in its JSON body (a JSON integer); a DELETE in its query, as text.
        asked = (EntryBotRequestSerializer if request.method == "POST" else EntryBotQuerySerializer)(
            data=request.data if request.method == "POST" else request.query_params
        )
        asked.is_valid(raise_exception=True)
        bot_id = asked.validated_data["bot"]
        bot = get_object_or_404(bot_list_for_user(user=request.user), pk=bot_id, team_id=entry.team_id)
        return entry, bot

    @extend_schema(request=EntryBotRequestSerializer, responses=EntrySerializer)
    @action(detail=True, methods=["post"], url_path="bots")
    def enter_bot(self, request: Request, pk: str, **kwargs) -> Response:
        """Enter one of the team's bots (``{"bot": id}``): it plays the competition's next rounds."""
        entry, bot = self._operable(request, pk)
        try:
            services.entry_bot_enter(entry=entry, bot=bot)
        except services.EntryError as error:
            raise ValidationError({"bot": [str(error)]}) from error
        return Response(EntrySerializer(Entry.objects.get(pk=entry.pk)).data, status=status.HTTP_200_OK)

    @extend_schema(
        request=None,
        responses={200: EntrySerializer},
        parameters=[
            OpenApiParameter(
                "bot",
                {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID},
                OpenApiParameter.QUERY,
                required=True,
                description="The bot's id",
            ),
        ],
    )
    @enter_bot.mapping.delete
    def leave_bot(self, request: Request, pk: str, **kwargs) -> Response:
        """Take a bot out (``?bot=id``): rounds already started keep it."""
        entry, bot = self._operable(request, pk)
        services.entry_bot_leave(entry=entry, bot=bot)
        return Response(EntrySerializer(Entry.objects.get(pk=entry.pk)).data, status=status.HTTP_200_OK)
