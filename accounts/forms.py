"""Forms of the accounts' pages: sign-up, sign-in by username or email, a password reset mailed
through the one mail path, an invitation, the notice preferences."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UserCreationForm
from django.urls import reverse

from accounts.mail import mail_queue, site_url
from accounts.models import NoticeKind
from accounts.services import email_taken


def username_for_login(login: str) -> str:
    """The username a sign-in name stands for: an email address of exactly one account is read as
    that account's username; anything else is taken as a username. django-axes counts failures under
    this name too (config.auth.axes_username), so the two spellings share one lockout."""
    login = (login or "").strip()
    if "@" in login:
        usernames = list(get_user_model().objects.filter(email__iexact=login).values_list("username", flat=True)[:2])
        if len(usernames) == 1:
            return usernames[0]
    return login


class SignInForm(AuthenticationForm):
    """Django's sign-in form, taking an email address where the username goes."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Username or email"

    def clean(self):
        if "username" in self.cleaned_data:
            self.cleaned_data["username"] = username_for_login(self.cleaned_data["username"])
        return super().clean()


class SignUpForm(UserCreationForm):
    email = forms.EmailField(help_text="We send a link to it: the account works once you follow it.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ["username", "email"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if email_taken(email):
            raise forms.ValidationError("An account with that email exists; sign in, or reset its password.")
        return email


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form; the mail goes through accounts.mail (queued, retried, text and HTML)."""

    def get_users(self, email):
        # Django leaves out accounts without a usable password; an account a competition file made
        # has none until its person sets one, and a reset is how they do (docs/competition-file.md).
        return (
            user
            for user in get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
            if user.email.lower() == email.lower()
        )

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        path = reverse("password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        mail_queue(
            to=to_email,
            subject="Reset your Adversarial Arena password",
            template="password_reset",
            context={"name": context["user"].get_username(), "url": site_url(path)},
        )


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email of the person to invite")


class NoticePreferencesForm(forms.Form):
    """One box per kind of notice: ticked, it also comes by email."""

    def __init__(self, *args, wanted: set[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in NoticeKind.choices:
            self.fields[kind] = forms.BooleanField(label=label, required=False, initial=kind in wanted)
