"""REST API for practice matches: list and read your teams' (organizers: every one), start one.

Thin views over competition.practice.services, the call the site makes. Another team's practice
match is a 404; a refusal (practice closed or paused, the daily cap, an unhealthy bot, not an owner)
is a 400 in the API's one error shape whose `message` says why, word for word as on the site.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from competition.practice import services
from competition.practice.models import PracticeMatch
from competition.practice.selectors import practice_matches_visible_to, practice_result
from config.api_fields import IdField


class PracticeConversationSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    sequence = serializers.IntegerField()
    goal_category = serializers.CharField()
    goal_target = serializers.CharField()
    status = serializers.CharField()
    outcome = serializers.CharField()


class PracticeMatchSerializer(serializers.ModelSerializer):
    competition = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    opponent = serializers.SerializerMethodField()
    status = serializers.CharField(source="round.status", read_only=True)
    conversations = serializers.SerializerMethodField()
    beaten_by = serializers.SerializerMethodField(help_text="How many conversations went against the team's bot")

    class Meta:
        model = PracticeMatch
        fields = ["id", "competition", "team", "bot", "opponent", "status", "conversations", "beaten_by", "created_at"]
        read_only_fields = fields

    def _result(self, match: PracticeMatch):
        cache = self.context.setdefault("results", {})
        if match.pk not in cache:
            cache[match.pk] = practice_result(match=match)
        return cache[match.pk]

    @extend_schema_field(
        inline_serializer(
            "PracticeOpponent",
            {"id": serializers.IntegerField(), "team": serializers.CharField(), "name": serializers.CharField()},
        )
    )
    def get_opponent(self, match: PracticeMatch) -> dict:
        return {"id": match.opponent_id, "team": match.opponent.team.slug, "name": match.opponent.name}

    @extend_schema_field(PracticeConversationSerializer(many=True))
    def get_conversations(self, match: PracticeMatch) -> list[dict]:
        return PracticeConversationSerializer(self._result(match).conversations, many=True).data

    def get_beaten_by(self, match: PracticeMatch) -> int:
        return len(self._result(match).beaten_by)


class PracticeMatchRequestSerializer(serializers.Serializer):
    """What starts a practice match: the competition, the team's bot and the opponent, by id."""

    competition = IdField()
    bot = IdField()
    opponent = IdField()


class PracticeMatchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Your teams' practice matches, newest first; an owner starts one with POST."""

    serializer_class = PracticeMatchSerializer
    # Digits only, as for bots and rounds: " 1" or "01 " was read as 1 (an answer to an id not asked for).
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return practice_matches_visible_to(user=self.request.user)

    @extend_schema(request=PracticeMatchRequestSerializer, responses={201: PracticeMatchSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Start a practice match (``{"competition": id, "bot": id, "opponent": id}``)."""
        asked = PracticeMatchRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        ids = asked.validated_data
        try:
            match = services.practice_match_start(
                user=request.user, competition_id=ids["competition"], bot_id=ids["bot"], opponent_id=ids["opponent"]
            )
        except services.PracticeRefused as refused:
            raise ValidationError(str(refused)) from refused
        return Response(PracticeMatchSerializer(match).data, status=status.HTTP_201_CREATED)
