"""The one guarded outbound HTTP client for admin-configured URLs (feeds, webhooks).

Every request made through ``build_guarded_client`` is checked twice:

* by ``GuardedTransport`` before each hop: scheme (http/https only), no userinfo, and the
  host's resolved addresses must all be publicly routable. Redirects are followed here,
  hop by hop, so every ``Location`` passes the same check (httpx's own
  ``follow_redirects`` stays off);
* by ``PinnedNetworkBackend`` at connect time: the socket is opened to an address that
  passed the check, so a DNS answer that changes between check and connect (rebinding)
  cannot reach a private address. TLS SNI and ``Host`` still come from the URL.

An explicit allow list (host names, IPs, CIDRs) admits private targets such as local fakes
in tests; cloud-metadata addresses are refused unless named exactly. Resolution failures
fail closed (the request is not sent).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from finagency.core.errors import BadRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

FINAL_URL_EXTENSION = "finagency.final_url"
"""Response extension holding the URL of the last hop (httpx resets ``response.request``)."""

ALLOWED_SCHEMES = frozenset({"http", "https"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURLError(BadRequest):
    """The URL points somewhere the product must not reach (private network, bad scheme)."""

    code = "unsafe_url"


@dataclass(frozen=True, slots=True)
class AllowList:
    """Explicit exceptions to the public-address rule; empty by default."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(hosts=frozenset(hosts), networks=tuple(networks))

    def admits_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def admits_address(self, address: IPAddress) -> bool:
        if address in METADATA_ADDRESSES:
            # A wide range such as 169.254.0.0/16 must not open the metadata service.
            return any(n.num_addresses == 1 and address in n for n in self.networks)
        return any(address in n for n in self.networks)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: IPAddress) -> bool:
    # is_global alone misses nothing we know of, but the explicit flags document intent and
    # guard against interpreter versions with wrong special-purpose tables (CVE-2024-4032).
    return not (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in METADATA_ADDRESSES
    )


def check_address(ip: str | IPAddress, allow: AllowList | Sequence[str] = ()) -> None:
    """Raise ``UnsafeURLError`` unless ``ip`` is public or admitted by ``allow``."""
    allow_list = allow if isinstance(allow, AllowList) else AllowList.parse(allow)
    try:
        address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    except ValueError as exc:
        raise UnsafeURLError(f"blocked: {ip!r} is not an IP address") from exc
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # the same host, so judge (and allow) it as IPv4
    candidates = [address]
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        candidates.append(embedded)
    if all(allow_list.admits_address(c) for c in candidates if not _is_public(c)):
        return
    raise UnsafeURLError(
        "blocked: the address is not publicly routable",
        details={"reason": "non_public_address"},
    )


async def resolve_host(host: str, port: int) -> list[str]:
    """Resolve ``host`` off the event loop; every distinct address, in resolver order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]).split("%", 1)[0], None)
    return list(seen)


class EgressGuard:
    """Resolves a host and returns the addresses a connection may use, or refuses."""

    def __init__(self, allow: AllowList, resolver: Resolver = resolve_host) -> None:
        self.allow = allow
        self._resolver = resolver

    def check_url(self, url: httpx.URL) -> None:
        """The checks that need no DNS: scheme, userinfo, host present."""
        if url.scheme not in ALLOWED_SCHEMES:
            raise UnsafeURLError(
                f"blocked: scheme {url.scheme!r} is not allowed (http and https only)",
                details={"reason": "scheme"},
            )
        if url.userinfo:
            raise UnsafeURLError(
                "blocked: credentials in the URL are not allowed", details={"reason": "userinfo"}
            )
        if not url.host:
            raise UnsafeURLError("blocked: the URL has no host", details={"reason": "no_host"})

    async def permitted_addresses(self, host: str, port: int) -> list[str]:
        """Addresses of ``host`` that pass the check; refuses when none does (fail closed)."""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            check_address(literal, self.allow)
            return [str(literal)]
        try:
            addresses = list(await self._resolver(host, port))
        except OSError as exc:
            raise httpx.ConnectError(f"could not resolve {host}") from exc
        if not addresses:
            raise httpx.ConnectError(f"could not resolve {host}: empty answer")
        if self.allow.admits_host(host):
            return addresses
        permitted: list[str] = []
        refusal: UnsafeURLError | None = None
        for address in addresses:
            try:
                check_address(address, self.allow)
            except UnsafeURLError as exc:
                refusal = exc
            else:
                permitted.append(address)
        if not permitted:
            assert refusal is not None
            raise refusal
        # Only checked addresses are returned, and the pinned backend connects to nothing else.
        return permitted

    async def check_request_url(self, url: httpx.URL) -> None:
        self.check_url(url)
        if self.allow.admits_host(url.host):
            return
        port = url.port or (443 if url.scheme == "https" else 80)
        await self.permitted_addresses(url.host, port)


class PinnedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the guard permits, checked at connect time."""

    def __init__(
        self, guard: EgressGuard, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._guard.permitted_addresses(host, port)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeURLError("blocked: unix sockets are not allowed", details={"reason": "uds"})

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedHTTPTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool rebuilt on ``PinnedNetworkBackend``.

    httpx offers no public hook for a network backend, so this replaces the private
    ``_pool``; ``tests/unit/core/test_http.py`` fails if httpx stops using it.
    """

    def __init__(self, guard: EgressGuard) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=PinnedNetworkBackend(guard),
        )


def _redirect_request(request: httpx.Request, response: httpx.Response) -> httpx.Request:
    location = response.headers["location"]
    try:
        url = request.url.join(location).copy_with(fragment=None)
    except httpx.InvalidURL as exc:
        raise UnsafeURLError(
            f"blocked: redirect to an invalid URL from {request.url}",
            details={"reason": "bad_redirect"},
        ) from exc
    method = request.method
    if response.status_code == 303 and method != "HEAD":
        method = "GET"
    elif response.status_code in (301, 302) and method == "POST":
        method = "GET"  # what browsers (and httpx) do
    headers = request.headers.copy()
    headers.pop("host", None)
    if url.scheme != request.url.scheme or url.host != request.url.host:
        headers.pop("authorization", None)
        headers.pop("cookie", None)
    if method != request.method:
        for name in ("content-length", "content-type", "transfer-encoding"):
            headers.pop(name, None)
        return httpx.Request(method, url, headers=headers, extensions=request.extensions)
    return httpx.Request(
        method, url, headers=headers, stream=request.stream, extensions=request.extensions
    )


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks every hop against the guard and follows at most ``max_redirects`` redirects.

    With ``max_redirects=0`` (webhooks) a 3xx is returned to the caller unfollowed.
    """

    def __init__(
        self, inner: httpx.AsyncBaseTransport, guard: EgressGuard, *, max_redirects: int = 5
    ) -> None:
        self._inner = inner
        self._guard = guard
        self._max_redirects = max_redirects

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        hops = 0
        while True:
            await self._guard.check_request_url(request.url)
            response = await self._inner.handle_async_request(request)
            is_redirect = (
                response.status_code in _REDIRECT_STATUSES and "location" in response.headers
            )
            if not is_redirect or self._max_redirects == 0:
                response.extensions = {**response.extensions, FINAL_URL_EXTENSION: request.url}
                return response
            await response.aclose()
            if hops >= self._max_redirects:
                raise httpx.TooManyRedirects(
                    f"more than {self._max_redirects} redirects from {request.url}",
                    request=request,
                )
            hops += 1
            request = _redirect_request(request, response)

    async def aclose(self) -> None:
        await self._inner.aclose()


def build_guarded_client(
    *,
    allow: Sequence[str] = (),
    timeout: float = 10.0,
    user_agent: str,
    max_redirects: int = 5,
    resolver: Resolver = resolve_host,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The client for every admin-configured URL.

    ``transport`` replaces the real network (tests pass ``httpx.MockTransport``); the guard
    still runs in front of it, with ``resolver`` answering DNS.
    """
    if not user_agent.strip():
        raise ValueError("build_guarded_client needs a descriptive user_agent")
    guard = EgressGuard(AllowList.parse(allow), resolver)
    inner = transport if transport is not None else PinnedHTTPTransport(guard)
    return httpx.AsyncClient(
        transport=GuardedTransport(inner, guard, max_redirects=max_redirects),
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent},
        follow_redirects=False,
        trust_env=False,
    )
