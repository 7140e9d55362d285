"""Which addresses the crawler may fetch: public unicast only, unless private ones are allowed.

Shared by the request guard (crawler.middlewares.PrivateAddressGuard, which refuses early with a
clear error kind) and the resolver (crawler.resolver.GuardedResolver, which drops private
answers at connect time, so a name that re-resolves between the two cannot slip through).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

#: Names of cloud metadata services and local hosts, refused before any lookup.
BLOCKED_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "instance-data",
                           "instance-data.ec2.internal", "metadata.azure.internal"})
ALLOWED_SCHEMES = ("http", "https")


#: IPv6 that carries an IPv4 address in its low 32 bits: IPv4-compatible (::a.b.c.d, deprecated),
#: IPv4-translated (::ffff:0:a.b.c.d, RFC 2765) and well-known NAT64 (RFC 6052). IPv4-mapped,
#: 6to4 and Teredo have their own accessors in ipaddress.
_LOW_32_PREFIXES = (ipaddress.ip_network("::/96"), ipaddress.ip_network("::ffff:0:0:0/96"),
                    ipaddress.ip_network("64:ff9b::/96"))
#: Only 2000::/3 is allocated as global unicast; everything else (site-local fec0::/10, 4000::/3,
#: 5f00::/16...) is reserved or local. Within it, these are not reachable either: local-use NAT64
#: (RFC 8215, a translator inside someone's own network, whatever IPv4 it carries) and
#: documentation (RFC 9637).
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
_NOT_GLOBAL_V6 = (ipaddress.ip_network("64:ff9b:1::/48"), ipaddress.ip_network("3fff::/20"))
#: IETF protocol assignments (192.0.0.0/24, partly global in Python's list) and the deprecated
#: 6to4 relay anycast (RFC 7526): routers and anycast services, never a web server.
_NOT_GLOBAL_V4 = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("192.88.99.0/24"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to (Teredo: its server and its client), or []."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)  # the client's address comes un-XOR-ed
    if any(ip in prefix for prefix in _LOW_32_PREFIXES):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def is_public(address: str) -> bool:
    """Global unicast: not loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
    (169.254/16, the metadata service's home, fe80::/10), shared, reserved or multicast.

    IPv4 written inside IPv6 (::ffff:127.0.0.1, ::a9fe:a9fe, 64:ff9b::a00:1, 2002:7f00:1::,
    Teredo) is judged as that IPv4 address: Python's ipaddress calls several of these forms global.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in net for net in _NOT_GLOBAL_V6):
            return False
        inside = embedded_ipv4(ip)
        if inside:
            return all(is_public(str(v4)) for v4 in inside)
        return ip in _GLOBAL_UNICAST_V6 and ip.is_global
    if any(ip in net for net in _NOT_GLOBAL_V4):
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def static_refusal(url: str) -> str | None:
    """Why `url` is refused without any lookup (scheme, a blocked name, a private IP literal), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES:
        return f"scheme {parts.scheme!r} is not http(s)"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "no host in the URL"
    if host in BLOCKED_NAMES or host.endswith((".localhost", ".internal")):
        return f"{host} is a local or metadata-service name"
    if is_ip_literal(host) and not is_public(host):
        return f"{host} is a private, loopback or link-local address"
    return None
