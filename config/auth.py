"""The login throttle as an authentication backend (django-axes), for logins that come from a request.

django-axes refuses to authenticate without a request, because it counts failures per client
address. Logins made by code (``Client.login`` in tests, a management command checking a password)
have no client to throttle, so this backend steps aside for them and the model backend decides.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class RequestLoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' backend for every login with a request; no opinion on one without."""

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
