"""Forms of the entries' pages: a new team's request, an existing team's request."""

from __future__ import annotations

from django import forms

from teams.models import Side, Team


class TeamRequestForm(forms.Form):
    name = forms.CharField(max_length=Team._meta.get_field("name").max_length)
    institution = forms.CharField(max_length=Team._meta.get_field("institution").max_length, required=False)
    side = forms.ChoiceField(choices=Side.choices, widget=forms.RadioSelect)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Team.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A team has this name already; choose another.")
        return name


class EntryRequestForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)

    def __init__(self, *args, teams, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
