"""Forms for bots, shared by the organizers' admin and the teams' own pages."""

from __future__ import annotations

from typing import Any

from django import forms

from teams.models import Bot


class WriteOnlyField(forms.CharField):
    """A credential never rendered back into the page; an empty box keeps the stored value."""

    def __init__(self, **kwargs: Any) -> None:
        # Whatever widget the admin would pick, this one never writes the value into the page.
        kwargs["widget"] = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        super().__init__(**kwargs)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return bool(data) and data != initial


class BotForm(forms.ModelForm):
    api_key_clear = forms.BooleanField(required=False, label="Remove the stored API key")

    class Meta:
        model = Bot
        fields = [
            "team",
            "name",
            "kind",
            "url",
            "active",
            "model",
            "api_key",
            "system_prompt",
            "timeout_seconds",
            "max_concurrency",
        ]
        field_classes = {"api_key": WriteOnlyField}
        help_texts = {"api_key": "openai kind: Bearer key sent to the endpoint. Never shown; leave empty to keep it."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The platform's own probe kind is nobody's to choose, organizers included (as in the API);
        # the probe bot itself keeps showing its kind.
        if self.instance.kind != Bot.Kind.PROBE:
            self.fields["kind"].choices = Bot.TEAM_KINDS

    def clean_api_key(self) -> str:
        return self.cleaned_data["api_key"] or self.initial.get("api_key", "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("api_key_clear"):
            cleaned["api_key"] = ""
            self.instance.api_key = ""
        return cleaned


class TeamBotForm(BotForm):
    """A team owner's form on the site: the team is one they own, and only when registering."""

    def __init__(self, *args: Any, owned_teams=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["team"]
        else:
            self.fields["team"].queryset = owned_teams
            self.fields["team"].empty_label = None
        if not self.instance.api_key:
            del self.fields["api_key_clear"]

    def bot_fields(self) -> dict[str, Any]:
        """The cleaned values the services take (teams.services.BOT_TEAM_FIELDS)."""
        return {name: value for name, value in self.cleaned_data.items() if name not in {"team", "api_key_clear"}}
