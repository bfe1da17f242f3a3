"""Which resolved addresses an outbound call may connect to, beyond what requests-hardened refuses.

requests-hardened's IP filter refuses loopback, private, link-local, multicast and a list of special
ranges, and unwraps IPv4-mapped IPv6 (``::ffff:127.0.0.1``). IPv6 has more ways to carry an IPv4
address, and a host that routes one of them would reach the IPv4 address inside: this module finds
the IPv4 address embedded in each form and refuses the call when that address is not public.

The forms (RFC 6052 section 2, RFC 4291 section 2.5.5, RFC 3056, RFC 4380, RFC 5214, RFC 6145):
IPv4-compatible ``::a.b.c.d`` (deprecated), IPv4-mapped ``::ffff:a.b.c.d``, IPv4-translated
``::ffff:0:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d`` and the local-use ``64:ff9b:1::/48``, 6to4
``2002:AABB:CCDD::``, Teredo ``2001:0::/32`` (the client address, inverted, in the last 32 bits) and
ISATAP (``…:0:5efe:a.b.c.d`` or ``…:200:5efe:a.b.c.d`` as the interface identifier).
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_ISATAP_IDENTIFIERS = (0x00005EFE, 0x02005EFE)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The form's name and the IPv4 address an IPv6 address carries, or None when it carries none."""
    value = int(ip)
    low32 = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _IPV4_TRANSLATED:
        return "IPv4-translated", low32
    if ip in _IPV4_COMPATIBLE and value > 1:
        return "IPv4-compatible", low32
    if ip in _NAT64_WELL_KNOWN or ip in _NAT64_LOCAL_USE:
        return "NAT64", low32
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip.teredo is not None:
        return "Teredo", ip.teredo[1]
    if (value >> 32) & 0xFFFFFFFF in _ISATAP_IDENTIFIERS:
        return "ISATAP", low32
    return None


def host_refusal(hostname: str) -> str:
    """Why a URL's host may not be called before it is even resolved ("" when it may be resolved).

    Catches what a resolver may treat differently from Python: a trailing dot (``127.0.0.1.``,
    ``localhost.``), a zone id (``[::1%25lo]``) and the reserved name localhost (RFC 6761), in any case.
    """
    host = hostname.strip("[]").lower()
    host = host[:-1] if host.endswith(".") else host
    if host == "localhost" or host.endswith(".localhost"):
        return f"{hostname} names this machine"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return ""
    return address_refusal(ip)


def address_refusal(ip: IPAddress) -> str:
    """Why an outbound call may not connect to ip ("" when it may): not a public unicast address,
    or an IPv6 address carrying an IPv4 address that is not one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = embedded_ipv4(ip)
        if embedded is not None:
            form, inner = embedded
            if not _public(inner):
                return f"{ip} is the {form} form of {inner}, which is not a public address"
        if ip.scope_id:
            return f"{ip} has a zone (interface) id, which only a local address needs"
    if not _public(ip):
        return f"{ip} is not a public address"
    return ""


def _public(ip: IPAddress) -> bool:
    # is_global alone counts multicast (224.0.0.0/4, ff0e::/16) as global.
    return ip.is_global and not ip.is_multicast and not ip.is_reserved and not ip.is_unspecified
