"""REST API: conversations with their labels, for the teams that played them and for organizers.

A team reads its own bots' conversations in published rounds (conversations.selectors); the
opponent is a stable pseudonym, never a team or bot name (teams.pseudonyms); judges' verdicts and
the final labels are shown, human annotations never are (annotators are blind and anonymous, and a
final label decided by humans shows its labels without their notes). Organizers see everything,
bot names included.
"""

from __future__ import annotations

import itertools
import re
from base64 import b64decode
from datetime import UTC
from urllib import parse

import django_filters
from django.db.models import Prefetch
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from config.api_filters import IdFilter
from config.api_pagination import minimum_set
from conversations.models import Conversation, Turn
from conversations.selectors import conversations_visible_to
from judging.models import FinalLabel, Verdict
from judging.reading.readers import ConversationReader
from judging.selectors import Outcome, conversations_with_outcome, outcome_q

LABEL_FIELDS = ("malicious_assistance", "vulnerable_code", "refusal", "cwe", "severity")


class ConversationCursor(CursorPagination):
    """Newest first. A cursor this pagination did not write is a 400 naming ``cursor``: DRF's own
    decoding skips characters outside base64 (``!!!`` read as the first page) and sends any position
    to the database."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = ("-created_at", "-id")

    def get_schema_operation_parameters(self, view) -> list[dict]:
        # From 1: config/api_query.py refuses anything else before the view (DRF's own reading would
        # fall back to 50 on page_size=false or 0, answering a page the client did not ask for).
        parameters = super().get_schema_operation_parameters(view)
        return minimum_set(parameters, name=self.page_size_query_param, minimum=1)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:  # absent or empty: the first page
            return None
        invalid = ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        try:
            tokens = parse.parse_qs(b64decode(encoded.encode("ascii"), validate=True).decode("ascii"))
            position = tokens.get("p", [None])[0]
            if not tokens or set(tokens) - {"o", "r", "p"} or not _written_position(position):
                raise ValueError(encoded)
        except ValueError:  # binascii.Error and UnicodeError are ValueErrors
            raise invalid from None
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise invalid from None


def _written_position(text: str | None) -> bool:
    """Whether ``text`` can be a position the pagination wrote: none, or a created_at with its time zone
    that the database can compare (9999-12-31T23:59:59-23:59 is past year 9999 in UTC: OverflowError)."""
    if text is None:
        return True
    try:
        moment = parse_datetime(text)  # raises ValueError too
        return moment is not None and moment.tzinfo is not None and moment.astimezone(UTC) is not None
    except (ValueError, OverflowError):
        return False


class ConversationFilter(django_filters.FilterSet):
    competition = django_filters.CharFilter(field_name="match__round__competition__slug")
    round = IdFilter(field_name="match__round_id")
    category = django_filters.CharFilter(field_name="goal_category")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, method="outcome_filter")
    status = django_filters.ChoiceFilter(choices=Conversation.Status.choices)

    class Meta:
        model = Conversation
        fields = ["competition", "round", "category", "outcome", "status"]

    def outcome_filter(self, queryset, name, value):
        return queryset.filter(outcome_q(value))


class VerdictSerializer(serializers.ModelSerializer):
    judge = serializers.CharField(source="judge.name")
    judge_kind = serializers.CharField(source="judge.kind")

    class Meta:
        model = Verdict
        fields = [
            "judge",
            "judge_kind",
            "judge_version",
            *LABEL_FIELDS,
            "probabilities",
            "rationale",
            "findings",
            "error",
            "created_at",
        ]


class TurnSerializer(serializers.ModelSerializer):
    final_label = serializers.SerializerMethodField()
    verdicts = serializers.SerializerMethodField()
    error_detail = serializers.SerializerMethodField()

    class Meta:
        model = Turn
        fields = [
            "index",
            "speaker",
            "status",
            "content",
            "ends_conversation",
            "latency_ms",
            "error_detail",
            "final_label",
            "verdicts",
        ]

    @extend_schema_field(serializers.CharField())
    def get_error_detail(self, turn: Turn) -> str:
        # A failure's detail can name the failing bot's URL: only its own team and organizers read it.
        viewer: ConversationReader = self.context["viewer"]
        return turn.error_detail if viewer.may_see_details_of(turn.conversation, turn.speaker) else ""

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_final_label(self, turn: Turn) -> dict | None:
        label: FinalLabel | None = getattr(turn, "final_label", None)
        if label is None:
            return None
        shown = {field: getattr(label, field) for field in LABEL_FIELDS}
        shown["source"] = label.source
        # A judge ensemble's rationale is the judges' text; a human-decided label's is an annotator's note.
        shown["rationale"] = label.rationale if label.source == FinalLabel.Source.JUDGE_ENSEMBLE else ""
        return shown

    @extend_schema_field(VerdictSerializer(many=True))
    def get_verdicts(self, turn: Turn) -> list[dict]:
        return VerdictSerializer(turn.verdicts.all(), many=True).data


class ConversationListSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid")
    short_id = serializers.SerializerMethodField()
    competition = serializers.CharField(source="match.round.competition.slug")
    round = serializers.SerializerMethodField()
    goal = serializers.DictField(read_only=True)
    outcome = serializers.CharField()
    attacker = serializers.SerializerMethodField()
    defender = serializers.SerializerMethodField()
    failure_detail = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "short_id",
            "competition",
            "round",
            "goal",
            "status",
            "outcome",
            "attacker",
            "defender",
            "failure_side",
            "failure_kind",
            "failure_detail",
            "moderation",
            "started_at",
            "ended_at",
        ]

    def get_short_id(self, conversation: Conversation) -> str:
        return conversation.uuid.hex[:8]

    @extend_schema_field(serializers.DictField())
    def get_round(self, conversation: Conversation) -> dict:
        round_ = conversation.match.round
        return {"id": round_.pk, "number": round_.number, "name": round_.name, "practice": round_.practice}

    @extend_schema_field(serializers.DictField())
    def get_attacker(self, conversation: Conversation) -> dict:
        return self.context["viewer"].bot(conversation, "attacker")

    @extend_schema_field(serializers.DictField())
    def get_defender(self, conversation: Conversation) -> dict:
        return self.context["viewer"].bot(conversation, "defender")

    def get_failure_detail(self, conversation: Conversation) -> str:
        viewer: ConversationReader = self.context["viewer"]
        if viewer.may_see_details_of(conversation, conversation.failure_side):
            return conversation.failure_detail
        return ""


class ConversationDetailSerializer(ConversationListSerializer):
    turns = serializers.SerializerMethodField()

    class Meta(ConversationListSerializer.Meta):
        fields = [*ConversationListSerializer.Meta.fields, "turns"]

    @extend_schema_field(TurnSerializer(many=True))
    def get_turns(self, conversation: Conversation) -> list[dict]:
        turns = conversation.turns.all()
        for turn in turns:
            turn.conversation = conversation  # already loaded; spares a query per turn
        return TurnSerializer(turns, many=True, context=self.context).data


# A short id: the first 8 (up to all 32) hex digits of a conversation's UUID, as the site and the API show it.
SHORT_ID = re.compile(r"[0-9a-f]{8,32}")
# What the path takes (and the schema says): the UUID as the API writes it, or a short id. Anything
# else is the API's 404 before any lookup: "urn:uuid:..." or "{...}", which Python's UUID reads too,
# were found although the schema promised a UUID.
CONVERSATION_ID = "(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{8,32})"


def _hyphenated(prefix: str) -> str:
    """A hex prefix of a UUID in its text form (hyphens after the 8th, 12th, 16th and 20th digit)."""
    cuts = [0, 8, 12, 16, 20, 32]
    return "-".join(prefix[a:b] for a, b in itertools.pairwise(cuts) if prefix[a:b])


class ConversationViewSet(viewsets.ReadOnlyModelViewSet):
    """Your teams' conversations in published rounds (organizers: all), newest first, with labels."""

    lookup_field = "uuid"
    lookup_value_regex = CONVERSATION_ID
    pagination_class = ConversationCursor
    filterset_class = ConversationFilter

    def get_queryset(self):
        visible = conversations_visible_to(user=self.request.user).select_related(
            "match__round__competition", "match__attacker__team", "match__defender__team"
        )
        queryset = conversations_with_outcome(visible)
        if self.action == "retrieve":
            turns = Turn.objects.select_related("final_label").prefetch_related(
                Prefetch(
                    "verdicts",
                    queryset=Verdict.objects.select_related("judge").order_by("judge__name", "-judge_version"),
                )
            )
            queryset = queryset.prefetch_related(Prefetch("turns", queryset=turns.order_by("index")))
        return queryset

    def get_object(self) -> Conversation:
        """The conversation by its full UUID or by a prefix of it: the short id pages show (8 characters)."""
        value = str(self.kwargs[self.lookup_field]).lower()
        if not SHORT_ID.fullmatch(value):
            return super().get_object()
        queryset = self.filter_queryset(self.get_queryset())
        found = list(queryset.filter(uuid__startswith=_hyphenated(value))[:2])
        if len(found) != 1:
            raise NotFound(
                f"No conversation you can see has the id {value}."
                if not found
                else f"Several conversations you can see start with {value}: use the full id."
            )
        self.check_object_permissions(self.request, found[0])
        return found[0]

    def get_serializer_class(self):
        return ConversationDetailSerializer if self.action == "retrieve" else ConversationListSerializer

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "viewer": ConversationReader(self.request.user)}
