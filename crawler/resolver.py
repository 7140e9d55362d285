"""The address guard's second line: a name resolver that never hands a private address to a connection.

PrivateAddressGuard looks a name up before the request is sent; the connection then looks it up
again. A hostile DNS server can answer the first lookup with a public address and the second with
127.0.0.1 or 169.254.169.254 (DNS rebinding). Wrapping the reactor's resolver closes that gap:
private answers are dropped, and the connection fails as a DNS error instead of reaching them.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from scrapy.resolver import CachingHostnameResolver
from zope.interface import implementer, provider

from crawler.addresses import is_public

log = logging.getLogger(__name__)


@implementer(IHostnameResolver)
class GuardedResolver:
    """Delegates to the reactor's resolver; drops non-public answers unless `allow_private`."""

    def __init__(self, wrapped: IHostnameResolver, allow_private: bool = False) -> None:
        self.wrapped, self.allow_private = wrapped, allow_private

    def resolveHostName(self, resolutionReceiver: IResolutionReceiver, hostName: str,  # noqa: N802, N803
                        portNumber: int = 0, addressTypes: Sequence[type[IAddress]] | None = None,  # noqa: N803
                        transportSemantics: str = "TCP") -> IHostResolution:  # noqa: N803
        receiver = resolutionReceiver if self.allow_private else _PublicOnly(resolutionReceiver, hostName)
        return self.wrapped.resolveHostName(receiver, hostName, portNumber, addressTypes, transportSemantics)


@provider(IResolutionReceiver)
class _PublicOnly:
    def __init__(self, receiver: IResolutionReceiver, host: str) -> None:
        self.receiver, self.host = receiver, host

    def resolutionBegan(self, resolution: IHostResolution) -> None:  # noqa: N802
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: Any) -> None:  # noqa: N802
        if is_public(getattr(address, "host", "")):
            self.receiver.addressResolved(address)
        else:
            log.warning("refused to connect to %s at %s: a private address", self.host, getattr(address, "host", "?"))

    def resolutionComplete(self) -> None:  # noqa: N802
        self.receiver.resolutionComplete()


def install(reactor: Any, allow_private: bool, cache_size: int = 10_000) -> GuardedResolver:
    """Wrap the reactor's resolver once per process; later calls only change `allow_private`.

    Under the guard, Scrapy's caching resolver: `scrapy crawl` installs it on its own, but a crawl
    run through a CrawlerRunner (ours) does not, and every connection then paid a getaddrinfo in
    the reactor's thread pool. Cached answers still pass the guard on each use; they live as
    long as the process, one crawl (`archive schedule` starts each run as a new process).
    """
    current = reactor.nameResolver
    if isinstance(current, GuardedResolver):
        current.allow_private = allow_private
        return current
    guarded = GuardedResolver(CachingHostnameResolver(reactor, cache_size), allow_private)
    reactor.installNameResolver(guarded)
    return guarded
