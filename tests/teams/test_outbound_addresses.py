"""Every way of writing a loopback, private or reserved address is refused before any connection.

Each URL points at a real local server (tests/rawserver.py) where it can; every socket connect the
process makes during the call is recorded, so "no connection attempted" is observed, not assumed.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from teams.addresses import address_refusal, embedded_ipv4
from teams.http import OutboundError, outbound_post
from tests.rawserver import request_read

# (label, URL); {port} is the local server's port on 127.0.0.1.
FORMS = [
    ("dotted IPv4", "http://127.0.0.1:{port}/bot"),
    ("decimal IPv4", "http://2130706433:{port}/bot"),
    ("hex IPv4", "http://0x7f000001:{port}/bot"),
    ("hex octets", "http://0x7f.0x0.0x0.0x1:{port}/bot"),
    ("octal first octet", "http://0177.0.0.1:{port}/bot"),
    ("octal short", "http://0177.1:{port}/bot"),
    ("short form a.b", "http://127.1:{port}/bot"),
    ("short form a.b.c", "http://127.0.1:{port}/bot"),
    ("zero-padded octets", "http://127.000.000.001:{port}/bot"),
    ("zero address", "http://0.0.0.0:{port}/bot"),
    ("single zero", "http://0:{port}/bot"),
    ("trailing dot on IPv4", "http://127.0.0.1.:{port}/bot"),
    ("localhost", "http://localhost:{port}/bot"),
    ("localhost in capitals", "http://LOCALHOST:{port}/bot"),
    ("localhost with a trailing dot", "http://localhost.:{port}/bot"),
    ("IDN full-width digits", "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}/bot"),
    ("IDN full-width localhost", "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54:{port}/bot"),
    ("userinfo before the host", "http://example.org@127.0.0.1:{port}/bot"),
    ("IPv6 loopback", "http://[::1]:{port}/bot"),
    ("IPv6 loopback in full", "http://[0:0:0:0:0:0:0:1]:{port}/bot"),
    ("IPv6 unspecified", "http://[::]:{port}/bot"),
    ("IPv6 loopback with a zone id", "http://[::1%25lo]:{port}/bot"),
    ("link-local with a zone id", "http://[fe80::1%25lo]:{port}/bot"),
    ("IPv4-compatible dotted", "http://[::127.0.0.1]:{port}/bot"),
    ("IPv4-compatible hex", "http://[::7f00:1]:{port}/bot"),
    ("IPv4-compatible private", "http://[::10.0.0.1]/bot"),
    ("IPv4-mapped dotted", "http://[::ffff:127.0.0.1]:{port}/bot"),
    ("IPv4-mapped hex", "http://[::ffff:7f00:1]:{port}/bot"),
    ("IPv4-mapped in full", "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/bot"),
    ("IPv4-mapped metadata", "http://[::ffff:a9fe:a9fe]/latest/meta-data/"),
    ("IPv4-translated", "http://[::ffff:0:7f00:1]:{port}/bot"),
    ("6to4 loopback", "http://[2002:7f00:0001::]:{port}/bot"),
    ("6to4 private", "http://[2002:c0a8:0101::1]/bot"),
    ("NAT64 hex", "http://[64:ff9b::7f00:1]:{port}/bot"),
    ("NAT64 dotted", "http://[64:ff9b::127.0.0.1]:{port}/bot"),
    ("NAT64 metadata", "http://[64:ff9b::169.254.169.254]/latest/meta-data/"),
    ("NAT64 local-use", "http://[64:ff9b:1::7f00:1]/bot"),
    ("Teredo to loopback", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/bot"),
    ("Teredo to a private address", "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/bot"),
    ("ISATAP to loopback", "http://[2600::5efe:7f00:1]/bot"),
    ("ISATAP (global id) to a private address", "http://[2600::200:5efe:a00:1]/bot"),
    ("unique local IPv6", "http://[fd00:ec2::254]/latest/meta-data/"),
    ("IPv6 multicast", "http://[ff02::1]/bot"),
    ("private 10/8", "http://10.0.0.1/bot"),
    ("private 172.16/12", "http://172.16.0.1/bot"),
    ("private 192.168/16", "http://192.168.1.1/bot"),
    ("shared address space 100.64/10", "http://100.64.0.1/bot"),
    ("cloud metadata", "http://169.254.169.254/latest/meta-data/"),
    ("benchmarking 198.18/15", "http://198.18.0.1/bot"),
    ("multicast", "http://224.0.0.1/bot"),
    ("broadcast", "http://255.255.255.255/bot"),
    ("reserved 240/4", "http://240.0.0.1/bot"),
]


@pytest.fixture
def connects(monkeypatch) -> list:
    """Every address a socket of this process tries to connect to while the test runs."""
    attempts: list = []
    real_connect = socket.socket.connect

    def spy(sock, address):
        attempts.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return attempts


def post(url: str):
    return outbound_post(url=url, body=b"{}", headers={"Content-Type": "application/json"}, timeout=3)


@pytest.mark.parametrize(("label", "url"), FORMS, ids=[label for label, _ in FORMS])
def test_it_refuses_each_form_of_a_local_address_without_connecting(settings, raw_server, connects, label, url):
    settings.ARENA_ALLOW_PRIVATE_URLS = False
    server = raw_server(request_read)

    with pytest.raises(OutboundError) as caught:
        post(url.format(port=server.port))

    assert (caught.value.kind, caught.value.permanent) == ("blocked_address", True), caught.value.detail
    assert connects == []
    assert server.connections == 0


def test_it_has_at_least_thirty_forms_in_the_table():
    assert len(FORMS) >= 30
    assert len({url for _, url in FORMS}) == len(FORMS)


@pytest.mark.parametrize(
    "url", ["http://[::ffff:127.0.0.1]:{port}/bot", "http://2130706433:{port}/bot", "http://127.1:{port}/bot"]
)
def test_it_connects_to_the_same_forms_when_local_addresses_are_allowed(settings, raw_server, connects, url):
    # The negative of the table above: the forms are refused by the guard, not by being unreachable.
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    server = raw_server(request_read)

    with pytest.raises(OutboundError) as caught:
        post(url.format(port=server.port))

    assert caught.value.kind == "connection"  # the raw server reads the request and hangs up
    assert server.connections == 1
    assert connects


@pytest.mark.parametrize(
    ("address", "form", "inner"),
    [
        ("::7f00:1", "IPv4-compatible", "127.0.0.1"),
        ("::ffff:7f00:1", "IPv4-mapped", "127.0.0.1"),
        ("::ffff:0:a00:1", "IPv4-translated", "10.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "NAT64", "169.254.169.254"),
        ("2002:c0a8:101::", "6to4", "192.168.1.1"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo", "127.0.0.1"),
        ("2600::5efe:7f00:1", "ISATAP", "127.0.0.1"),
    ],
)
def test_it_finds_the_ipv4_address_inside_each_ipv6_form(address, form, inner):
    assert embedded_ipv4(ipaddress.IPv6Address(address)) == (form, ipaddress.IPv4Address(inner))
    assert f"the {form} form of {inner}" in address_refusal(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "2002:808:808::1"])
def test_it_allows_public_addresses_and_forms_carrying_a_public_one(address):
    assert address_refusal(ipaddress.ip_address(address)) == ""


def test_it_refuses_nat64_addresses_even_for_a_public_ipv4_address():
    # 64:ff9b::/96 is not global (RFC 6890): a NAT64 gateway is the operator's, not the bot's.
    assert address_refusal(ipaddress.ip_address("64:ff9b::808:808")) == "64:ff9b::808:808 is not a public address"
