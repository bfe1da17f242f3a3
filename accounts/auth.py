"""django-axes' view of a sign-in name: the site takes a username or an email, and both spellings
of one account must count against one lockout (settings.AXES_USERNAME_CALLABLE)."""

from __future__ import annotations

from accounts.forms import username_for_login


def axes_username(request, credentials: dict | None) -> str:
    """The username a failed or attempted sign-in is counted under (an email of one account: its username)."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    return username_for_login(str(raw or ""))
