"""Who plays: teams, their members and the bots they host."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from config.bidi import bidi_isolated
from teams.protocol import PROTOCOL


class Side(models.TextChoices):
    ATTACKER = "attacker", "Attacker"
    DEFENDER = "defender", "Defender"


class CallFailure(models.TextChoices):
    """Why a call to a bot (or judge) produced no usable message."""

    TIMEOUT = "timeout", "No complete answer in time"
    CONNECTION = "connection", "Could not connect"
    HTTP_STATUS = "http_status", "Answered with a status other than 200"
    BAD_JSON = "bad_json", "Body is not a JSON object"
    BAD_CONTENT = "bad_content", "Missing, empty, non-string or too long content"
    TOO_LARGE = "too_large", "Body over 1 MiB"
    REDIRECT = "redirect", "Answered with a redirect"
    BLOCKED_ADDRESS = "blocked_address", "URL resolves to a blocked address"
    CIRCUIT_OPEN = "circuit_open", "Bot failed too often in a row; call not made"


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    institution = models.CharField(max_length=200, blank=True)
    side = models.CharField(max_length=10, choices=Side.choices)
    active = models.BooleanField(default=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(side__in=Side.values), name="team_side_valid"),
        ]

    def __str__(self) -> str:
        return bidi_isolated(self.name)


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_unique_user_team"),
            models.CheckConstraint(condition=Q(role__in=["owner", "member"]), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


def bot_label(*, team: str, name: str, version: int | None = None) -> str:
    """How a bot is named in lists: "team / bot", or "team / bot v3" for one version of it (plain text;
    a name holding bidirectional controls comes wrapped in isolates, config/bidi.py)."""
    label = f"{bidi_isolated(team)} / {bidi_isolated(name)}"
    return label if version is None else f"{label} v{version}"


def bot_snapshot_label(snapshot: object, version: int) -> str:
    """:func:`bot_label` of a bot frozen in a match (Bot.snapshot()); "?" stands for what it lacks."""
    snapshot = snapshot if isinstance(snapshot, Mapping) else {}
    return bot_label(team=str(snapshot.get("team", "?")), name=str(snapshot.get("name", "?")), version=version)


def bot_secret_new() -> str:
    """A fresh signing secret: 32 random bytes, hex encoded."""
    return secrets.token_hex(32)


# The only URLs a bot can be called at (URLField alone also takes ftp:// and ftps://, which the
# HTTP seam would refuse at every call of a round). The form, the API, imports and the competition
# file all validate through this field.
# Its own code: under the field's "invalid" code, URLField would replace the message with "Enter a valid URL.".
HTTP_URL = URLValidator(schemes=["http", "https"], message="must be an http:// or https:// URL", code="not_http")


def url_without_credentials(value: str) -> None:
    """Refuse a URL holding a user name or password (``https://user:secret@host/``): it would be shown
    on pages, kept in the bot's history and sent in logs, where no other secret goes."""
    try:
        netloc = urlsplit(value).netloc
    except ValueError:  # not a URL at all: HTTP_URL says so
        return
    if "@" in netloc:
        raise ValidationError(
            "must not hold a user name or password (user:password@); the platform signs every request "
            "(and sends the API key of an openai bot) instead",
            code="credentials",
        )


class Bot(models.Model):
    class Kind(models.TextChoices):
        ARENA = "arena", f"{PROTOCOL} endpoint"
        OPENAI = "openai", "OpenAI-compatible chat completions"
        # The platform's own attacker that plays the competition's benign probe prompts to every
        # defender (docs/scoring.md, "Defenders"); it makes no HTTP call.
        PROBE = "probe", "Built-in benign probe (platform)"

    # The kinds a team may give its bot (API, site form); "probe" is the platform's own.
    TEAM_KINDS = [(Kind.ARENA.value, Kind.ARENA.label), (Kind.OPENAI.value, Kind.OPENAI.label)]

    # The fields whose change makes a new version: a round freezes them into its matches.
    VERSIONED_FIELDS = ("kind", "url", "model", "system_prompt", "timeout_seconds", "max_concurrency")

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="bots")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ARENA)
    url = models.URLField(
        "URL",
        max_length=500,
        validators=[HTTP_URL, url_without_credentials],
        help_text="arena: the URL the platform POSTs to; openai: the base URL",
    )
    secret = models.CharField(max_length=64, default=bot_secret_new, editable=False)
    # During a rotation requests carry signatures with both secrets until this one is cleared.
    previous_secret = models.CharField(max_length=64, blank=True, editable=False)
    api_key = models.CharField(
        "API key", max_length=500, blank=True, help_text="openai kind: Bearer key sent to the endpoint"
    )
    model = models.CharField(max_length=200, blank=True, help_text="openai kind: model name")
    system_prompt = models.TextField(
        blank=True, help_text="openai kind: system prompt; for attackers {category} and {target} are filled in"
    )
    timeout_seconds = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text="Per-call time limit; empty means the round's limit",
    )
    max_concurrency = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(256)], help_text="Calls in flight at most"
    )
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    config_hash = models.CharField(max_length=64, editable=False, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The audit trail of bot changes; secrets and keys never enter it.
    history = HistoricalRecords(excluded_fields=["secret", "previous_secret", "api_key"])

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="bot_unique_team_name"),
            models.CheckConstraint(condition=Q(kind__in=["arena", "openai", "probe"]), name="bot_kind_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="bot_version_positive"),
            models.CheckConstraint(condition=Q(max_concurrency__gte=1), name="bot_concurrency_positive"),
        ]
        indexes = [models.Index(fields=["active", "team"], name="bot_active_team")]

    def __str__(self) -> str:
        return bot_label(team=self.team.name, name=self.name)

    def save(self, *args, **kwargs) -> None:
        # Versioning lives here, not in a service, so that admin edits, imports and the loader all
        # bump it: a round must never run a changed bot under an old version number.
        new_hash = self.compute_config_hash()
        if self.config_hash and new_hash != self.config_hash:
            self.version += 1
        self.config_hash = new_hash
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | {"version", "config_hash"}
        super().save(*args, **kwargs)

    @property
    def side(self) -> str:
        return self.team.side

    def compute_config_hash(self) -> str:
        """SHA-256 over the versioned fields: equal hashes mean the same bot behaviour contract."""
        payload = {field: getattr(self, field) for field in self.VERSIONED_FIELDS}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    @property
    def secret_hint(self) -> str:
        """What may be shown after creation: enough to tell secrets apart, not to use one."""
        return f"{self.secret[:4]}…{self.secret[-4:]}" if self.secret else ""

    def snapshot(self) -> dict:
        """The frozen description a Match keeps of this bot when a round starts."""
        return {
            "bot_id": self.pk,
            "team": self.team.slug,
            "name": self.name,
            "kind": self.kind,
            "url": self.url,
            "model": self.model,
            "system_prompt": self.system_prompt,
            "timeout_seconds": self.timeout_seconds,
            "max_concurrency": self.max_concurrency,
            "config_hash": self.config_hash,
            "version": self.version,
        }


class BotHealthCheck(models.Model):
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="health_checks")
    checked_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ok = models.BooleanField()
    latency_ms = models.PositiveIntegerField("latency (ms)", null=True, blank=True)
    error_kind = models.CharField(max_length=30, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["bot", "-checked_at"], name="healthcheck_bot_recent")]

    def __str__(self) -> str:
        return f"{self.bot} {'ok' if self.ok else 'failed'} at {self.checked_at:%Y-%m-%d %H:%M:%S}"


class ApiToken(models.Model):
    """A key for the REST API (``Authorization: Token <key>``), one of several a user may hold.

    Only a SHA-256 of the key is stored: the key itself is shown once, when it is made, and a
    leaked database gives no usable key. ``prefix`` (the key's first characters) tells keys apart.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. 'CI uploader'")
    prefix = models.CharField(max_length=PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="api_token_unique_user_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class BotCall(models.Model):
    """A health check or a sample exchange a person asked for: queued by the web request, made by a task.

    The web request never calls the bot (a bot that never answers would hold a web worker); the
    task (teams.tasks.bot_call_task) makes the call and stores the result here. At most one call per
    bot is queued or running at a time (the partial unique constraint).
    """

    class Kind(models.TextChoices):
        HEALTH_CHECK = "health_check", "Health check"
        TEST = "test", "Sample exchange"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        EXPIRED = "expired", "Expired (no worker finished it in time)"

    IN_FLIGHT = (Status.QUEUED, Status.RUNNING)

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="calls")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    health_check = models.ForeignKey(BotHealthCheck, on_delete=models.SET_NULL, null=True, blank=True)
    # A sample exchange's report (teams.services.BotTestReport as a dict): the bot's text, hostile.
    report = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot"], condition=Q(status__in=["queued", "running"]), name="botcall_one_in_flight_per_bot"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "expired"]), name="botcall_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.bot} ({self.status})"

    @property
    def in_flight(self) -> bool:
        return self.status in self.IN_FLIGHT
