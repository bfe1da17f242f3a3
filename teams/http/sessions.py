"""The sessions every outbound call goes through (calls.py makes the calls): one per thread and
mode, guarded by requests-hardened's IP filter unless private addresses are allowed, no cookies,
no redirects, nothing from the environment, and a total deadline on every recv() of a response.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import threading
import time
from http.cookiejar import CookiePolicy
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from teams.addresses import address_refusal, host_refusal
from teams.protocol import PROTOCOL

USER_AGENT = f"adversarial-arena/1 (+{PROTOCOL})"


# --- The total deadline ---------------------------------------------------------------------------
# A socket timeout bounds one recv(), so a server dripping a byte at a time could hold a call
# forever. Instead every recv() of a response (status line, headers and body) gets the time left
# until the call's deadline as its timeout. The deadline travels in a thread-local because the
# response object is built deep inside http.client; a call runs start to finish on one thread.
call_state = threading.local()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, raw: io.RawIOBase, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._raw = raw
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        self._sock.settimeout(remaining)
        return self._raw.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _DeadlineSocket:
    """What http.client.HTTPResponse is given instead of the socket: it only calls makefile()."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "rb") -> io.BufferedReader:
        # makefile() on the real socket keeps its reference count right, so the socket stays open
        # for the body even when the connection object closes it after a "Connection: close".
        raw = self._sock.makefile("rb", buffering=0)
        return io.BufferedReader(_DeadlineReader(raw, self._sock, self._deadline))


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock, debuglevel: int = 0, method: str | None = None, url: str | None = None) -> None:
        deadline = getattr(call_state, "deadline", None)
        if deadline is not None:
            sock = _DeadlineSocket(sock, deadline)
        super().__init__(sock, debuglevel, method, url)


class _DeadlineHTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse


class _DeadlineHTTPSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _DeadlineHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


# --- Sessions -------------------------------------------------------------------------------------
# One session per thread and per mode (guarded / private addresses allowed), built lazily.
# requests.Session is not documented as thread-safe (its cookie jar and adapters are shared
# mutable state), and the engine calls from many threads at once; a session per thread needs no
# locks and each thread makes one call at a time, so a small pool per host is enough and every
# thread still reuses its keep-alive connections. The mode is picked per call so that tests (and
# a changed setting) take effect without a restart.
HOSTS_PER_THREAD = 32
CONNECTIONS_PER_HOST = 2


class _DeadlinePoolsMixin:
    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs) -> None:
        super().init_poolmanager(HOSTS_PER_THREAD, CONNECTIONS_PER_HOST, block=False, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _DeadlineHTTPConnectionPool,
            "https": _DeadlineHTTPSConnectionPool,
        }


class _GuardedAdapter(_DeadlinePoolsMixin, IPFilterAdapter):
    """requests-hardened's IP filter (no loopback, private, link-local, metadata or encoded IPs), and
    teams/addresses.py for IPv6 forms carrying an IPv4 address, checked on the pinned address before
    a connection pool (and so a connection) exists."""

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        refusal = host_refusal(urlsplit(request.url).hostname or "")
        if refusal:
            raise InvalidIPAddress(refusal)
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pinned = ipaddress.ip_address(host_params["host"].strip("[]"))
        refusal = address_refusal(pinned)
        if refusal:
            raise InvalidIPAddress(refusal)
        return host_params, pool_kwargs


class _OpenAdapter(_DeadlinePoolsMixin, HTTPAdapter):
    """Any address: only when ARENA_ALLOW_PRIVATE_URLS is on (local development, the demo, tests)."""


class _NoCookies(CookiePolicy):
    # Several bots may share a host (the example bots do); a cookie one of them sets must never
    # travel to another, so the sessions accept and send none.
    netscape = True
    rfc2965 = False
    hide_cookie2 = False

    def set_ok(self, cookie, request) -> bool:
        return False

    def return_ok(self, cookie, request) -> bool:
        return False

    def domain_return_ok(self, domain, request) -> bool:
        return False

    def path_return_ok(self, path, request) -> bool:
        return False


def _session_build(*, guarded: bool) -> requests.Session:
    # The library's own adapters are not mounted (ip_filter_enable=False): the guarded session
    # mounts a subclass of its IPFilterAdapter that also carries the deadline and pool sizing.
    config = Config(
        ip_filter_enable=False,
        ip_filter_allow_loopback_ips=False,
        never_redirect=True,
        default_timeout=(5, 45),
        user_agent_override=USER_AGENT,
    )
    session = HTTPSession(config)
    session.trust_env = False
    session.cookies = RequestsCookieJar(policy=_NoCookies())
    if guarded:
        session.mount("http://", _GuardedAdapter(is_https_proto=False))
        session.mount("https://", _GuardedAdapter(is_https_proto=True))
    else:
        session.mount("http://", _OpenAdapter())
        session.mount("https://", _OpenAdapter())
    return session


_sessions = threading.local()


def session_for(*, guarded: bool) -> requests.Session:
    name = "guarded" if guarded else "open"
    session = getattr(_sessions, name, None)
    if session is None:
        session = _session_build(guarded=guarded)
        setattr(_sessions, name, session)
    return session
