"""Signed tokens of the accounts' links: a sign-up's email verification."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

VERIFY_SALT = "accounts.verify"


def verify_token(*, user_id: int, email: str) -> str:
    """A link token that verifies ``email`` for the account; it stops working once the address changes."""
    return signing.dumps({"user": user_id, "email": email.lower()}, salt=VERIFY_SALT, compress=True)


def verify_read(token: str) -> tuple[int, str]:
    """(user id, email) of an unexpired token; raises signing.BadSignature (SignatureExpired included)."""
    data = signing.loads(token, salt=VERIFY_SALT, max_age=settings.ARENA_VERIFY_DAYS * 86400)
    return int(data["user"]), str(data["email"])
