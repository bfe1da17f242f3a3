"""REST API: competitions and their rounds; organizers start, pause, resume and publish rounds.

The round actions call the same lifecycle functions as the admin's actions and are recorded in
the admin history (who, when), like them.
"""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from competition.models import Competition, Round
from competition.pipeline import lifecycle
from competition.standings.selectors import round_standings_table


class CompetitionSerializer(serializers.ModelSerializer):
    categories = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Competition
        fields = ["slug", "name", "description", "categories", "goals", "scoring_weights", "created_at"]


class RoundSerializer(serializers.ModelSerializer):
    competition = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    settings = serializers.DictField(source="settings_in_force", read_only=True)

    class Meta:
        model = Round
        fields = [
            "id",
            "competition",
            "number",
            "name",
            "slug",
            "practice",
            "status",
            "settings",
            "scheduled_at",
            "started_at",
            "playing_finished_at",
            "judging_finished_at",
            "published_at",
        ]


class CompetitionViewSet(viewsets.ReadOnlyModelViewSet):
    """Every competition, newest first."""

    queryset = Competition.objects.order_by("-created_at")
    serializer_class = CompetitionSerializer
    lookup_field = "slug"
    # A slug's characters only: anything else (a NUL, which PostgreSQL refuses) is the API's 404.
    lookup_value_regex = "[-a-zA-Z0-9_]{1,60}"


class IsRoundOperator(permissions.BasePermission):
    message = "Only organizers can start, pause, resume or publish rounds."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("competition.change_round")


class RoundViewSet(viewsets.ReadOnlyModelViewSet):
    """Rounds of every competition (filter by competition slug, status, practice)."""

    serializer_class = RoundSerializer
    lookup_value_regex = "[0-9]{1,18}"  # an id past 64 bits is the API's 404, not an overflow
    filterset_fields = {"competition__slug": ["exact"], "status": ["exact"], "practice": ["exact"]}

    def get_queryset(self):
        # Practice matches are their teams' own: /api/practice-matches/.
        return (
            Round.objects.filter(kind=Round.Kind.ROUND)
            .select_related("competition")
            .order_by("competition_id", "number")
        )

    def get_permissions(self):
        if self.action in {"start", "pause", "resume", "publish"}:
            return [*super().get_permissions(), IsRoundOperator()]
        return super().get_permissions()

    def _lifecycle(self, request: Request, step, done: str) -> Response:
        round_ = self.get_object()
        try:
            moved = step(round_id=round_.pk)
        except lifecycle.RoundTransitionError as error:
            return Response(
                {"error": {"status": 409, "code": "conflict", "message": str(error)}}, status=status.HTTP_409_CONFLICT
            )
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=[moved],
            action_flag=CHANGE,
            change_message=f"{done.capitalize()} the round through the API.",
            single_object=True,
        )
        return Response(RoundSerializer(moved).data)

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "RoundStandings",
                {
                    "competition": serializers.DictField(),
                    "round": serializers.DictField(),
                    "bots": serializers.ListField(child=serializers.DictField()),
                    "teams": serializers.ListField(child=serializers.DictField()),
                    "revisions": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
    )
    @action(detail=True, methods=["get"])
    def standings(self, request: Request, pk=None, **kwargs) -> Response:
        """The round's standings: bots ranked per side with every part of their score, the rating and
        its 95% interval, teams, and revisions since publication (docs/scoring.md). Teams read published
        rounds only; organizers read scored ones too."""
        round_ = self.get_object()
        shown = (Round.Status.PUBLISHED,) + (
            (Round.Status.SCORED,) if request.user.has_perm("competition.view_standing") else ()
        )
        if round_.status not in shown:
            raise NotFound("This round's standings are not published yet.")
        return Response(round_standings_table(round_=round_))

    @extend_schema(request=None, responses={200: RoundSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk=None, **kwargs) -> Response:
        """Freeze the round's settings and bots and start playing (draft or scheduled rounds)."""
        return self._lifecycle(request, lifecycle.round_start, "started")

    @extend_schema(request=None, responses={200: RoundSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk=None, **kwargs) -> Response:
        """Stop making calls; nothing played is lost."""
        return self._lifecycle(request, lifecycle.round_pause, "paused")

    @extend_schema(request=None, responses={200: RoundSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk=None, **kwargs) -> Response:
        """Continue a paused round from every conversation's last stored turn."""
        return self._lifecycle(request, lifecycle.round_resume, "resumed")

    @extend_schema(request=None, responses={200: RoundSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk=None, **kwargs) -> Response:
        """Show a scored round's standings to the teams."""
        return self._lifecycle(request, lifecycle.round_publish, "published")
