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


def is_public(address: str) -> bool:
    """Global unicast: not loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
    (169.254/16, the metadata service's home, fe80::/10), shared, reserved or multicast.
    IPv4 written inside IPv6 (::ffff:127.0.0.1, 64:ff9b::a00:1) is judged as the IPv4 address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast


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
