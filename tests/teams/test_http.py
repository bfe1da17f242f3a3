"""The outbound seam against real local servers: limits, failure kinds and the address guard."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from werkzeug import Response

from teams.http import OutboundError, RetryPolicy, outbound_get, outbound_post
from tests.rawserver import RawServer, closed_port, request_read


@pytest.fixture
def private_ok(settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = True


def post(url: str, *, timeout: float = 5, body: bytes = b"{}", max_bytes: int | None = None):
    return outbound_post(
        url=url, body=body, headers={"Content-Type": "application/json"}, timeout=timeout, max_bytes=max_bytes
    )


def failure(url: str, **kwargs) -> OutboundError:
    with pytest.raises(OutboundError) as caught:
        post(url, **kwargs)
    return caught.value


def test_it_returns_status_headers_and_body_of_a_2xx_answer(private_ok, httpserver):
    httpserver.expect_request("/bot", method="POST", data=b'{"x":1}').respond_with_json({"content": "hi"})

    response = post(httpserver.url_for("/bot"), body=b'{"x":1}')

    assert response.status == 200
    assert json.loads(response.body) == {"content": "hi"}
    assert response.headers["Content-Type"] == "application/json"
    assert response.latency_ms >= 0


def test_it_gets_with_the_given_headers(private_ok, httpserver):
    httpserver.expect_request("/v1/models", method="GET", headers={"Authorization": "Bearer k"}).respond_with_json(
        {"data": []}
    )

    response = outbound_get(url=httpserver.url_for("/v1/models"), headers={"Authorization": "Bearer k"}, timeout=5)

    assert json.loads(response.body) == {"data": []}


def test_it_raises_http_status_for_a_5xx_and_keeps_the_body(private_ok, httpserver):
    httpserver.expect_request("/bot").respond_with_data("upstream down", status=502)

    error = failure(httpserver.url_for("/bot"))

    assert (error.kind, error.status, error.permanent) == ("http_status", 502, False)
    assert "HTTP 502" in error.detail
    assert error.body == b"upstream down"


def test_it_cuts_the_body_of_an_error_status_instead_of_failing_it_as_too_large(private_ok, httpserver):
    httpserver.expect_request("/bot").respond_with_data(b"e" * 5000, status=503)

    error = failure(httpserver.url_for("/bot"), max_bytes=1000)

    assert (error.kind, error.status, error.permanent) == ("http_status", 503, False)
    assert error.body == b"e" * 1000


def test_it_raises_a_permanent_http_status_for_a_4xx(private_ok, httpserver):
    httpserver.expect_request("/bot").respond_with_data("nope", status=404)

    error = failure(httpserver.url_for("/bot"))

    assert (error.kind, error.status, error.permanent) == ("http_status", 404, True)


def test_it_never_follows_a_redirect(private_ok, httpserver):
    httpserver.expect_request("/bot").respond_with_data("", status=302, headers={"Location": "/elsewhere"})
    httpserver.expect_request("/elsewhere").respond_with_json({"content": "followed"})

    error = failure(httpserver.url_for("/bot"))

    assert (error.kind, error.status, error.permanent) == ("redirect", 302, True)
    assert [request.path for request, _ in httpserver.log] == ["/bot"]


def test_it_refuses_a_body_over_the_declared_limit(private_ok, httpserver):
    httpserver.expect_request("/bot").respond_with_data(b"x" * (1024 * 1024 + 10))

    error = failure(httpserver.url_for("/bot"))

    assert (error.kind, error.permanent) == ("too_large", True)


def test_it_cuts_a_chunked_body_at_the_limit(private_ok, httpserver):
    def endless(request):
        return Response((b"y" * 4096 for _ in range(10_000)), mimetype="application/json")

    httpserver.expect_request("/bot").respond_with_handler(endless)

    error = failure(httpserver.url_for("/bot"), max_bytes=100_000)

    assert error.kind == "too_large"


def test_it_accepts_a_body_exactly_at_the_limit(private_ok, httpserver):
    httpserver.expect_request("/bot").respond_with_data(b"z" * 1000)

    assert post(httpserver.url_for("/bot"), max_bytes=1000).body == b"z" * 1000


def test_it_times_out_when_no_answer_comes(private_ok, raw_server):
    def silent(conn):
        request_read(conn)
        time.sleep(4)

    server = raw_server(silent)
    started = time.monotonic()

    error = failure(server.url(), timeout=1)

    assert (error.kind, error.permanent) == ("timeout", False)
    assert error.detail == "no complete answer within 1 s"
    assert time.monotonic() - started < 2


def test_it_times_out_a_body_dripping_one_byte_at_a_time(private_ok, raw_server):
    def drip(conn):
        request_read(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            conn.sendall(b" ")
            time.sleep(0.5)

    server = raw_server(drip)
    started = time.monotonic()

    error = failure(server.url(), timeout=2)

    elapsed = time.monotonic() - started
    assert error.kind == "timeout"
    assert 1.9 < elapsed < 3


def test_it_times_out_headers_dripping_one_byte_at_a_time(private_ok, raw_server):
    def drip(conn):
        request_read(conn)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
            conn.sendall(bytes([byte]))
            time.sleep(0.2)

    server = raw_server(drip)
    started = time.monotonic()

    error = failure(server.url(), timeout=1.5)

    assert error.kind == "timeout"
    assert time.monotonic() - started < 2.5


def test_it_reports_a_refused_connection_as_retryable(private_ok):
    error = failure(f"http://127.0.0.1:{closed_port()}/bot")

    assert (error.kind, error.permanent) == ("connection", False)
    assert "connection refused" in error.detail


def test_it_reports_a_connection_closed_without_an_answer(private_ok, raw_server):
    server = raw_server(request_read)

    error = failure(server.url())

    assert (error.kind, error.permanent) == ("connection", False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/bot",
        "http://localhost:{port}/bot",
        "http://[::1]:{port}/bot",
        "http://2130706433:{port}/bot",
        "http://0x7f000001:{port}/bot",
        "http://0177.0.0.1:{port}/bot",
        "http://[::ffff:127.0.0.1]:{port}/bot",
        "http://127.1:{port}/bot",
        "http://0.0.0.0:{port}/bot",
        "http://10.0.0.1/bot",
        "http://192.168.1.1/bot",
        "http://172.16.0.1/bot",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://[::1]/",
    ],
)
def test_it_blocks_private_addresses_without_connecting(settings, raw_server, url):
    settings.ARENA_ALLOW_PRIVATE_URLS = False
    server = raw_server(request_read)

    error = failure(url.format(port=server.port))

    assert (error.kind, error.permanent) == ("blocked_address", True)
    assert "ARENA_ALLOW_PRIVATE_URLS" in error.detail
    assert server.connections == 0


def test_it_blocks_private_addresses_for_get_too(settings, raw_server):
    settings.ARENA_ALLOW_PRIVATE_URLS = False
    server = raw_server(request_read)

    with pytest.raises(OutboundError) as caught:
        outbound_get(url=server.url(), headers={}, timeout=2)

    assert caught.value.kind == "blocked_address"
    assert server.connections == 0


def test_it_calls_local_addresses_when_the_setting_allows_it(settings, httpserver):
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    httpserver.expect_request("/bot").respond_with_json({"ok": True})

    assert post(httpserver.url_for("/bot")).status == 200

    settings.ARENA_ALLOW_PRIVATE_URLS = False
    assert failure(httpserver.url_for("/bot")).kind == "blocked_address"
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/bot", "file:///etc/passwd", "gopher://127.0.0.1:70/", "http:///x"])
def test_it_calls_only_http_and_https_urls(private_ok, url):
    error = failure(url)

    assert (error.kind, error.permanent) == ("blocked_address", True)


def test_it_neither_keeps_nor_sends_cookies(private_ok, httpserver):
    httpserver.expect_request("/a").respond_with_json({}, headers={"Set-Cookie": "session=stolen; Path=/"})
    httpserver.expect_request("/b").respond_with_json({})

    post(httpserver.url_for("/a"))
    post(httpserver.url_for("/b"))

    assert "Cookie" not in httpserver.log[1][0].headers


def test_it_ignores_proxies_from_the_environment(private_ok, httpserver, monkeypatch):
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    httpserver.expect_request("/bot").respond_with_json({"content": "direct"})

    assert post(httpserver.url_for("/bot")).status == 200


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.05)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class _EchoServer(ThreadingHTTPServer):
    # With the default listen backlog of 5, a burst of 32 connects overflows the accept queue on a
    # busy machine and the kernel resets connections the client already thinks are open.
    request_queue_size = 64
    daemon_threads = True


def test_it_serves_many_threads_at_once(private_ok):
    server = _EchoServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bot"
    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            bodies = list(pool.map(lambda n: post(url, body=str(n).encode()).body, range(200)))
    finally:
        server.shutdown()
        server.server_close()

    assert bodies == [str(n).encode() for n in range(200)]


# --- The retry policy -----------------------------------------------------------------------------
FAST = RetryPolicy(attempts=3, backoff_seconds=0.01, backoff_max_seconds=0.02)


def failing_then_answering(httpserver, failures: list[Response]) -> None:
    """The endpoint answers each of ``failures`` in turn, then 200 {"ok": true} from then on."""
    answers = iter(failures)

    def answer(request):
        return next(answers, None) or Response(json.dumps({"ok": True}), content_type="application/json")

    httpserver.expect_request("/bot").respond_with_handler(answer)


def test_it_retries_transient_failures_until_the_answer_and_keeps_their_errors(private_ok, httpserver):
    failing_then_answering(httpserver, [Response("busy", status=503), Response("down", status=502)])

    response = outbound_post(url=httpserver.url_for("/bot"), body=b"{}", headers={}, timeout=5, retry=FAST)

    assert (response.status, json.loads(response.body), response.attempts) == (200, {"ok": True}, 3)
    assert [(f.kind, f.status) for f in response.failed_attempts] == [("http_status", 503), ("http_status", 502)]
    assert all("answered HTTP 50" in f.detail for f in response.failed_attempts)
    assert len(httpserver.log) == 3


def test_it_raises_the_last_failure_with_the_earlier_ones_when_the_attempts_run_out(private_ok, httpserver):
    failures = [Response("a", status=500), Response("b", status=503), Response("c", status=504)]
    failing_then_answering(httpserver, failures)

    with pytest.raises(OutboundError) as caught:
        outbound_post(url=httpserver.url_for("/bot"), body=b"{}", headers={}, timeout=5, retry=FAST)

    error = caught.value
    assert (error.kind, error.status, error.attempts, error.body) == ("http_status", 504, 3, b"c")
    assert [f.status for f in error.failed_attempts] == [500, 503]
    assert len(httpserver.log) == 3


def test_it_sends_once_without_a_policy(private_ok, httpserver):
    failing_then_answering(httpserver, [Response("busy", status=503)])

    with pytest.raises(OutboundError) as caught:
        outbound_post(url=httpserver.url_for("/bot"), body=b"{}", headers={}, timeout=5)

    assert (caught.value.attempts, caught.value.failed_attempts) == (1, ())
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 429])
def test_it_does_not_retry_a_permanent_failure(private_ok, httpserver, status):
    failing_then_answering(httpserver, [Response("no", status=status)])

    with pytest.raises(OutboundError) as caught:
        outbound_post(url=httpserver.url_for("/bot"), body=b"{}", headers={}, timeout=5, retry=FAST)

    assert (caught.value.permanent, caught.value.attempts) == (True, 1)
    assert len(httpserver.log) == 1


def test_it_retries_only_the_kinds_the_policy_names(private_ok, httpserver):
    failing_then_answering(httpserver, [Response("busy", status=503)])
    connection_only = RetryPolicy(attempts=3, backoff_seconds=0.01, transient_kinds=frozenset({"connection"}))

    with pytest.raises(OutboundError) as caught:
        outbound_post(url=httpserver.url_for("/bot"), body=b"{}", headers={}, timeout=5, retry=connection_only)

    assert (caught.value.kind, caught.value.permanent, caught.value.attempts) == ("http_status", False, 1)


def test_it_retries_a_hang_up_then_takes_the_answer(private_ok):
    def script(conn):
        request_read(conn)
        if server.connections > 2:
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{"ok":true}')
        # the first two connections are closed without a word

    server = RawServer(script)
    try:
        response = outbound_post(url=server.url(), body=b"{}", headers={}, timeout=5, retry=FAST)
    finally:
        server.close()

    assert (response.body, response.attempts) == (b'{"ok":true}', 3)
    assert [f.kind for f in response.failed_attempts] == ["connection", "connection"]
    assert server.connections == 3


def test_it_asks_for_fresh_headers_on_every_attempt(private_ok, httpserver):
    failing_then_answering(httpserver, [Response("busy", status=503)])
    built = []

    def headers():
        built.append(len(built) + 1)
        return {"X-Arena-Delivery": "same-delivery", "X-Attempt": str(built[-1])}

    outbound_post(url=httpserver.url_for("/bot"), body=b"{}", headers=headers, timeout=5, retry=FAST)

    sent = [(request.headers["X-Arena-Delivery"], request.headers["X-Attempt"]) for request, _ in httpserver.log]
    assert sent == [("same-delivery", "1"), ("same-delivery", "2")]


def test_it_pauses_with_a_capped_exponential_backoff():
    policy = RetryPolicy(attempts=5, backoff_seconds=0.25, backoff_max_seconds=0.6)

    assert [policy.pause_seconds(n) for n in (1, 2, 3, 4)] == [0.25, 0.5, 0.6, 0.6]
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
