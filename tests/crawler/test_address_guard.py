"""Hostile links: private, loopback, link-local and metadata addresses, names that resolve there,
redirects that lead there and non-HTTP schemes are refused (kind "refused") unless explicitly allowed."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from twisted.internet.address import IPv4Address, IPv6Address

from crawler.addresses import is_public
from crawler.middlewares import PrivateAddressGuard, RefusedRequest
from crawler.resolver import GuardedResolver, install
from tests import chaos
from support.faultserver import FaultServer
from tests.pages import article, listing

DNS = {"public.example": ["93.184.216.34"], "evil.example": ["10.0.0.5"],
       "mixed.example": ["93.184.216.34", "127.0.0.1"], "rebind.example": ["169.254.169.254"],
       "v6.example": ["fd00::1"]}


async def fake_resolve(host: str, port: int) -> list[str]:
    await asyncio.sleep(0.05)  # a lookup takes time; the guard awaits it, the reactor keeps running
    if host not in DNS:
        raise OSError(f"no such host {host}")
    return DNS[host]


def guard(allow: bool = False, **kwargs: Any) -> PrivateAddressGuard:
    crawler = get_crawler(settings_dict={"ARCHIVE_ALLOW_PRIVATE_ADDRESSES": allow})
    middleware = build_from_crawler(PrivateAddressGuard, crawler)
    middleware.resolve = kwargs.get("resolve", fake_resolve)
    return middleware


def refused(middleware: PrivateAddressGuard, url: str, **meta: Any) -> str | None:
    try:
        asyncio.run(middleware.process_request(Request(url, meta=meta)))
    except RefusedRequest as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://127.9.9.9:8080/x", "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/",
    "http://[fd12:3456::1]/", "http://0.0.0.0/", "http://100.64.0.1/", "http://224.0.0.1/",
    "http://localhost/", "http://LOCALHOST./", "http://app.localhost/", "http://metadata.google.internal/",
    "http://user:pw@127.0.0.1/", "http://public.example@10.0.0.1/",
    "http://evil.example/a", "http://mixed.example/", "http://rebind.example/", "http://v6.example/",
])
def test_private_targets_are_refused(url: str) -> None:
    reason = refused(guard(), url)
    assert reason is not None and "ARCHIVE_ALLOW_PRIVATE_ADDRESSES" in reason


@pytest.mark.parametrize("url", ["http://2130706433/", "http://0x7f.0.0.1/", "http://127.1/", "http://017700000001/"])
def test_numeric_spellings_of_loopback_are_refused(url: str) -> None:
    """inet_aton's odd forms are no IP literal to ipaddress, but they resolve to 127.0.0.1 (real lookup)."""
    from crawler.middlewares import resolve_all
    assert refused(guard(resolve=resolve_all), url) is not None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/",
                                 "data:text/html,<p>x</p>", "s3://bucket/key"])
@pytest.mark.parametrize("allow", [False, True])
def test_non_http_schemes_are_refused_even_when_private_is_allowed(url: str, allow: bool) -> None:
    assert "not http(s)" in (refused(guard(allow), url) or "")


def test_public_names_pass_and_unknown_names_are_left_to_the_download() -> None:
    middleware = guard()
    assert refused(middleware, "https://public.example/markets/a.html") is None
    assert refused(middleware, "https://no-such-host.example/") is None  # recorded as "dns" by the download


def test_a_redirect_into_a_private_network_is_refused() -> None:
    """Redirects are new requests through the same middleware; the reason names where it came from."""
    reason = refused(guard(), "http://169.254.169.254/latest/meta-data/iam/",
                     redirect_urls=["https://public.example/story"])
    assert reason is not None and "redirected from https://public.example/story" in reason


def test_allowing_private_addresses_lifts_only_the_address_rule() -> None:
    middleware = guard(allow=True)
    for url in ("http://127.0.0.1:8080/", "http://evil.example/", "http://169.254.169.254/"):
        assert refused(middleware, url) is None


def test_lookups_run_concurrently_off_the_reactor_thread() -> None:
    middleware = guard()
    names = [f"http://public.example/{i}" for i in range(10)]
    middleware.resolve = fake_resolve

    async def all_at_once() -> None:
        await asyncio.gather(*(middleware.process_request(Request(url)) for url in names))

    started = time.monotonic()
    asyncio.run(all_at_once())
    assert time.monotonic() - started < 0.4  # ten 50 ms lookups overlap (one per host is cached after)


def test_verdicts_are_cached_per_host() -> None:
    calls: list[str] = []

    async def counting(host: str, port: int) -> list[str]:
        calls.append(host)
        return DNS[host]

    middleware = guard(resolve=counting)
    for path in ("a", "b", "c"):
        refused(middleware, f"http://evil.example/{path}")
    assert calls == ["evil.example"]


@pytest.mark.parametrize("address, public", [("93.184.216.34", True), ("2606:2800:220:1::1", True),
                                             ("127.0.0.1", False), ("::ffff:10.0.0.1", False),
                                             ("64:ff9b::a00:1", False), ("2002:7f00:1::", False),
                                             ("169.254.169.254", False), ("not an ip", False)])
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(address) is public


#: Each way IPv6 carries an IPv4 address, written around 169.254.169.254 (the metadata service),
#: 127.0.0.1 and 10.0.0.1, and around 8.8.8.8 (public, so the form itself is not what is refused).
#: Python's ipaddress calls the IPv4-compatible, IPv4-translated and local-use NAT64 forms global.
EMBEDDED_FORMS = {
    "IPv4-compatible": "::{}",
    "IPv4-mapped": "::ffff:{}",
    "IPv4-translated": "::ffff:0:{}",
    "NAT64 well-known": "64:ff9b::{}",
    "6to4": "2002:{hi}:{lo}::1",
    "Teredo": "2001:0:4136:e378:8000:63bf:{xhi}:{xlo}",  # client address XOR-ed, server 65.54.227.120
}


def embed(form: str, ipv4: str) -> str:
    import ipaddress
    value = int(ipaddress.IPv4Address(ipv4))
    hi, lo = value >> 16, value & 0xFFFF
    return EMBEDDED_FORMS[form].format(ipv4, hi=f"{hi:x}", lo=f"{lo:x}", xhi=f"{hi ^ 0xFFFF:x}", xlo=f"{lo ^ 0xFFFF:x}")


@pytest.mark.parametrize("form", list(EMBEDDED_FORMS))
@pytest.mark.parametrize("inside", ["169.254.169.254", "127.0.0.1", "10.0.0.1", "100.64.0.1", "0.0.0.0"])
def test_ipv4_inside_ipv6_is_judged_as_ipv4(form: str, inside: str) -> None:
    assert is_public(embed(form, inside)) is False
    assert refused(guard(), f"http://[{embed(form, inside)}]:8080/") is not None


@pytest.mark.parametrize("form", list(EMBEDDED_FORMS))
def test_a_public_ipv4_inside_ipv6_stays_public(form: str) -> None:
    assert is_public(embed(form, "8.8.8.8")) is True


@pytest.mark.parametrize("address", [
    "::a9fe:a9fe",              # IPv4-compatible 169.254.169.254, the example
    "::ffff:0:7f00:1",          # IPv4-translated 127.0.0.1
    "64:ff9b:1::a9fe:a9fe",     # local-use NAT64 (RFC 8215): a translator inside someone's network
    "64:ff9b:1::808:808",       # ... whatever it carries
    "fec0::1", "feff::1",       # site-local (deprecated, fec0::/10)
    "4000::1", "5f00::1", "8000::1", "100::1",  # reserved, outside global unicast 2000::/3
    "3fff::1", "2001:db8::1",   # documentation
    "::", "::1", "ff02::1", "fe80::1%eth0",
    "240.0.0.1", "255.255.255.255", "192.0.0.8", "192.0.2.1", "198.18.0.1", "192.88.99.1", "233.252.0.1",
])
def test_reserved_and_local_ranges_are_refused(address: str) -> None:
    assert is_public(address) is False


def test_resolver_drops_private_answers_at_connect_time() -> None:
    """DNS rebinding: a name that answered public to the guard and private to the connection."""
    class Fake:
        def resolveHostName(self, receiver: Any, host: str, port: int = 0, *args: Any) -> None:  # noqa: N802
            receiver.resolutionBegan(None)
            receiver.addressResolved(IPv4Address("TCP", "93.184.216.34", port))
            receiver.addressResolved(IPv4Address("TCP", "127.0.0.1", port))
            receiver.addressResolved(IPv6Address("TCP", "fe80::1", port))
            receiver.resolutionComplete()

    class Receiver:
        def __init__(self) -> None:
            self.addresses: list[str] = []
            self.done = False

        def resolutionBegan(self, resolution: Any) -> None:  # noqa: N802
            pass

        def addressResolved(self, address: Any) -> None:  # noqa: N802
            self.addresses.append(address.host)

        def resolutionComplete(self) -> None:  # noqa: N802
            self.done = True

    guarded, receiver = GuardedResolver(Fake()), Receiver()  # type: ignore[arg-type]
    guarded.resolveHostName(receiver, "rebind.example", 80)
    assert receiver.addresses == ["93.184.216.34"] and receiver.done
    guarded.allow_private, receiver = True, Receiver()
    guarded.resolveHostName(receiver, "rebind.example", 80)
    assert receiver.addresses == ["93.184.216.34", "127.0.0.1", "fe80::1"]


def test_lookups_are_cached_under_the_guard() -> None:
    """One getaddrinfo per host for the whole crawl, and a cached private answer is still refused."""
    class Counting:
        calls = 0

        def resolveHostName(self, receiver: Any, host: str, port: int = 0, *args: Any) -> Any:  # noqa: N802
            Counting.calls += 1
            receiver.resolutionBegan(None)
            receiver.addressResolved(IPv4Address("TCP", "93.184.216.34", port))
            receiver.addressResolved(IPv4Address("TCP", "10.1.2.3", port))
            receiver.resolutionComplete()
            return receiver

    class Reactor:
        def __init__(self) -> None:
            self.nameResolver = Counting()

        def installNameResolver(self, resolver: Any) -> None:  # noqa: N802
            self.nameResolver = resolver

    class Receiver:
        def __init__(self) -> None:
            self.addresses: list[tuple[str, int]] = []

        def resolutionBegan(self, resolution: Any) -> None:  # noqa: N802
            pass

        def addressResolved(self, address: Any) -> None:  # noqa: N802
            self.addresses.append((address.host, address.port))

        def resolutionComplete(self) -> None:  # noqa: N802
            pass

    reactor = Reactor()
    guarded = install(reactor, allow_private=False)
    assert reactor.nameResolver is guarded and install(reactor, allow_private=False) is guarded
    first, second = Receiver(), Receiver()
    guarded.resolveHostName(first, "cached-once.example", 80)
    guarded.resolveHostName(second, "cached-once.example", 8080)
    assert Counting.calls == 1
    assert first.addresses == [("93.184.216.34", 80)] and second.addresses == [("93.184.216.34", 8080)]


# -- end to end: the real command, the real reactor --------------------------------------------------
def refused_fetches(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute("select url, error from fetch where error like 'refused:%'"))


@pytest.mark.slow
@pytest.mark.parametrize("env", [{}, {"ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "0"}, {"ARCHIVE_ALLOW_PRIVATE_ADDRESSES": ""}])
def test_crawl_refuses_loopback_by_default(tmp_path: Path, env: dict[str, str]) -> None:
    with FaultServer({"/": listing(["/a.html"]).encode(), "/a.html": article().encode()}) as server:
        result = chaos.run("crawl", server.url, "--db", str(tmp_path / "a.db"), env=env)
    assert result.returncode == 1, result.stderr  # none of the start URLs could be fetched
    assert server.requests == []  # not even robots.txt
    assert list(refused_fetches(tmp_path / "a.db")) == [server.url]
    assert "refused 1" in result.stdout and "pass --allow-private-addresses" in result.stdout


@pytest.mark.slow
def test_crawl_refuses_a_name_that_resolves_to_loopback(tmp_path: Path) -> None:
    with FaultServer({"/": listing(["/a.html"]).encode()}) as server:
        port = server.url.rsplit(":", 1)[1].strip("/")
        url = f"http://news.example.test:{port}/"
        result = chaos.run("crawl", url, "--db", str(tmp_path / "a.db"), chaos=("--dns", "news.example.test=127.0.0.1"))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert server.requests == []
    assert "resolves to 127.0.0.1" in refused_fetches(tmp_path / "a.db")[url]


@pytest.mark.slow
def test_crawl_refuses_ipv4_compatible_loopback(tmp_path: Path) -> None:
    """The outside attack's form: `http://[::127.0.0.1]:PORT/` made real connect() calls."""
    with FaultServer({"/": listing(["/a.html"]).encode()}) as server:
        port = server.url.rsplit(":", 1)[1].strip("/")
        url = f"http://[::127.0.0.1]:{port}/"
        result = chaos.run("crawl", url, "--db", str(tmp_path / "a.db"))
    assert server.requests == []
    assert "private" in refused_fetches(tmp_path / "a.db")[url], result.stderr


#: Spellings of loopback a hostile public page may redirect to (ipaddress, inet_aton and a name).
LOOPBACK_SPELLINGS = ["127.0.0.1", "[::ffff:127.0.0.1]", "[::127.0.0.1]", "[::ffff:0:127.0.0.1]",
                      "[2002:7f00:1::1]", "[64:ff9b::127.0.0.1]", "localhost", "2130706433", "0x7f.0.0.1", "127.1"]


@pytest.mark.slow
def test_a_public_page_redirecting_into_a_private_network_is_refused_end_to_end(tmp_path: Path) -> None:
    """A site on 127.0.0.2 (the guard is told it is public) redirects to the metadata service and
    to every spelling of loopback, where a second server listens: not one connection reaches it."""
    with FaultServer({}) as target:
        port = target.url.rsplit(":", 1)[1].strip("/")
        hops = {f"/hop{i}.html": f"http://{host}:{port}/secret" for i, host in enumerate(LOOPBACK_SPELLINGS)}
        pages = {"/": listing(["/metadata.html", *hops]).encode()}
        with FaultServer(pages, host="127.0.0.2", faults={"/metadata.html": "redirect_metadata",
                                                          **{path: "redirect" for path in hops}},
                         redirects=hops) as site:
            result = chaos.run("crawl", site.url, "--db", str(tmp_path / "a.db"), "--depth", "1",
                               chaos=("--public", "127.0.0.2"))
    assert result.returncode == 0, result.stderr
    assert target.requests == []
    assert {"/", "/metadata.html", *hops} <= set(site.requests)  # the site itself was crawled
    refusals = refused_fetches(tmp_path / "a.db")  # the row is the redirecting page's; the reason names the target
    assert set(refusals) == {site.url + path.lstrip("/") for path in ["/metadata.html", *hops]}, refusals
    assert "169.254.169.254" in refusals[site.url + "metadata.html"]


@pytest.mark.slow
def test_the_opt_in_lifts_the_guard(tmp_path: Path) -> None:
    with FaultServer({"/": listing(["/a.html"]).encode(), "/a.html": article().encode()}) as server:
        flag = chaos.run("crawl", server.url, "--db", str(tmp_path / "a.db"), "--allow-private-addresses")
        env = chaos.run("crawl", server.url, "--db", str(tmp_path / "b.db"), env={"ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"})
    for result in (flag, env):
        assert result.returncode == 0, result.stderr
    assert refused_fetches(tmp_path / "a.db") == {} and refused_fetches(tmp_path / "b.db") == {}
    assert "/a.html" in server.requests
