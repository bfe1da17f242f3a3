"""Writes of accounts: sign-up and its verification, invitations into teams and their acceptance,
members removed and ownership handed over."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.mail import mail_queue, site_url
from accounts.models import Invitation, NoticeKind
from accounts.notices.services import notice_send
from accounts.tokens import verify_read, verify_token
from teams.models import Membership, Team


class AccountError(Exception):
    """A change that cannot happen; the message is written for the person who asked."""


def email_taken(email: str) -> bool:
    return get_user_model().objects.filter(email__iexact=email.strip()).exists()


@transaction.atomic
def account_signup(*, username: str, email: str, password: str):
    """A new account, inactive until its email is verified; the verification link is mailed.
    Raises AccountError when the username or the email is taken (compared without case)."""
    model = get_user_model()
    if model.objects.filter(username__iexact=username).exists():
        raise AccountError("That username is taken.")
    if email_taken(email):
        raise AccountError("An account with that email exists; sign in, or reset its password.")
    user = model.objects.create_user(username=username, email=email.strip(), password=password, is_active=False)
    verification_send(user=user)
    return user


def verification_send(*, user) -> None:
    token = verify_token(user_id=user.pk, email=user.email)
    mail_queue(
        to=user.email,
        subject="Confirm your email for Adversarial Arena",
        template="verify",
        context={
            "name": user.get_username(),
            "url": site_url(reverse("accounts:verify", args=[token])),
            "days": settings.ARENA_VERIFY_DAYS,
        },
    )


@transaction.atomic
def account_verify(*, token: str):
    """Activate the account the token was made for; raises AccountError for a bad or expired link,
    or one whose address has changed since."""
    try:
        user_id, email = verify_read(token)
    except signing.SignatureExpired as error:
        raise AccountError("This link has expired; sign up again to get a new one.") from error
    except signing.BadSignature as error:
        raise AccountError("This link is not valid.") from error
    user = get_user_model().objects.select_for_update().filter(pk=user_id).first()
    if user is None or user.email.lower() != email:
        raise AccountError("This link is not valid.")
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


def _owner_check(*, team: Team, user) -> None:
    if not Membership.objects.filter(team=team, user=user, role=Membership.Role.OWNER).exists():
        raise AccountError("Only the team's owners can do this.")


@transaction.atomic
def invitation_create(*, team: Team, email: str, invited_by) -> Invitation:
    """An owner invites ``email`` into ``team``: a single-use link, valid settings.ARENA_INVITATION_DAYS
    days, is mailed to the address (only its hash is stored)."""
    _owner_check(team=team, user=invited_by)
    email = email.strip()
    if Membership.objects.filter(team=team, user__email__iexact=email).exists():
        raise AccountError(f"{email} is on {team.name} already.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        team=team,
        email=email,
        token_hash=Invitation.hash_of(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.ARENA_INVITATION_DAYS),
    )
    mail_queue(
        to=email,
        subject=f"{invited_by.get_username()} invites you into {team.name} on Adversarial Arena",
        template="invitation",
        context={
            "team": team.name,
            "inviter": invited_by.get_username(),
            "url": site_url(reverse("accounts:invitation", args=[token])),
            "days": settings.ARENA_INVITATION_DAYS,
        },
    )
    # Someone who has an account also finds it among their notices (without the link: only the
    # mail carries it, so only the address's holder can use it).
    notice_send(
        users=get_user_model().objects.filter(email__iexact=email, is_active=True),
        kind=NoticeKind.INVITATION,
        event=f"invitation:{invitation.pk}",
        subject=f"{invited_by.get_username()} invites you into {team.name}",
        body=f"{invited_by.get_username()} invites you into {team.name}; the link to join is in the email "
        f"sent to {email}.",
        email=False,
    )
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """The open invitation of a link's token (not accepted, revoked or expired), else None."""
    return (
        Invitation.objects.select_related("team")
        .filter(
            token_hash=Invitation.hash_of(token), accepted_at__isnull=True, revoked=False, expires_at__gt=timezone.now()
        )
        .first()
    )


@transaction.atomic
def invitation_accept(*, token: str, user) -> Membership:
    """The signed-in ``user`` joins the invitation's team as a member; the link is used up. Raises
    AccountError for a used, revoked or expired link, or when joining would put the person on two
    teams of one competition (competition.entries: EntrySeat)."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise AccountError("This invitation is not valid any more: it was used, withdrawn or has expired.")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise AccountError("This invitation was used already.")
    if Membership.objects.filter(team=invitation.team, user=user).exists():
        raise AccountError(f"You are on {invitation.team.name} already.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team=invitation.team, user=user, role=Membership.Role.MEMBER)
    except IntegrityError as error:
        raise AccountError(
            f"You are on another team of a competition {invitation.team.name} takes part in; "
            "a person plays for one team per competition."
        ) from error
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation._change_reason = "Invitation accepted"
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, user) -> None:
    _owner_check(team=invitation.team, user=user)
    invitation.revoked = True
    invitation.save(update_fields=["revoked"])


@transaction.atomic
def member_remove(*, team: Team, member, by) -> None:
    """An owner removes a member (not the last owner; an owner hands ownership over first)."""
    _owner_check(team=team, user=by)
    membership = Membership.objects.select_for_update().filter(team=team, user=member).first()
    if membership is None:
        raise AccountError(f"{member} is not on {team.name}.")
    if membership.role == Membership.Role.OWNER:
        raise AccountError("An owner is not removed; hand the ownership over first.")
    membership.delete()


@transaction.atomic
def ownership_hand_over(*, team: Team, to, by) -> None:
    """An owner makes a member the owner and becomes a member."""
    _owner_check(team=team, user=by)
    target = Membership.objects.select_for_update().filter(team=team, user=to).first()
    if target is None:
        raise AccountError(f"{to} is not on {team.name}.")
    if target.user_id == by.pk:
        return
    mine = Membership.objects.select_for_update().get(team=team, user=by)
    target.role = Membership.Role.OWNER
    target._change_reason = "Ownership handed over"
    target.save(update_fields=["role"])
    mine.role = Membership.Role.MEMBER
    mine._change_reason = "Ownership handed over"
    mine.save(update_fields=["role"])
