"""The guarded client refuses private targets on the first hop and on every redirect."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

import httpcore
import httpx
import pytest

from finagency.core.http import (
    FINAL_URL_EXTENSION,
    AllowList,
    EgressGuard,
    PinnedHTTPTransport,
    PinnedNetworkBackend,
    Resolver,
    UnsafeURLError,
    build_guarded_client,
    check_address,
)

DNS = {
    "feeds.example.com": ["93.184.216.34"],
    "cdn.example.com": ["2606:2800:220:1::1"],
    "intranet.example.com": ["10.1.2.3"],
    "metadata.example.com": ["169.254.169.254"],
    "rebind.example.com": ["93.184.216.34", "127.0.0.1"],
    "localhost": ["127.0.0.1", "::1"],
    "fake-platform": ["172.18.0.5"],
}


def fake_resolver() -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        if host not in DNS:
            raise OSError(f"NXDOMAIN {host}")
        return DNS[host]

    return resolve


def ok_handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text=f"hello from {request.url.host}")


def client_for(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    allow: Sequence[str] = (),
    max_redirects: int = 5,
) -> httpx.AsyncClient:
    return build_guarded_client(
        allow=allow,
        user_agent="finagency-tests/1.0 tests@example.com",
        max_redirects=max_redirects,
        resolver=fake_resolver(),
        transport=httpx.MockTransport(handler),
    )


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.0.0.8",
        "172.16.4.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.100.100.200",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - the point of the test
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a00:1",
        "2002:a00:1::1",
    ],
)
def test_non_public_addresses_are_refused(ip: str) -> None:
    with pytest.raises(UnsafeURLError) as caught:
        check_address(ip)
    assert caught.value.code == "unsafe_url"
    assert caught.value.status_code == 400


@pytest.mark.parametrize("ip", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1::1"])
def test_public_addresses_pass(ip: str) -> None:
    check_address(ip)


def test_allow_list_admits_addresses_and_networks() -> None:
    check_address("127.0.0.1", ["127.0.0.0/8"])
    check_address("10.9.9.9", ["10.9.9.9"])
    check_address(ipaddress.ip_address("::ffff:127.0.0.1"), ["127.0.0.1"])
    with pytest.raises(UnsafeURLError):
        check_address("10.9.9.8", ["10.9.9.9"])


def test_metadata_needs_an_exact_entry_not_a_wide_range() -> None:
    with pytest.raises(UnsafeURLError):
        check_address("169.254.169.254", ["169.254.0.0/16"])
    check_address("169.254.169.254", ["169.254.169.254"])


def test_allow_list_parses_hosts_and_networks() -> None:
    allow = AllowList.parse(["Fake-Platform.", "127.0.0.0/8", " ", "::1"])
    assert allow.admits_host("fake-platform")
    assert allow.admits_address(ipaddress.ip_address("127.0.0.9"))
    assert allow.admits_address(ipaddress.ip_address("::1"))


async def test_public_host_is_fetched() -> None:
    async with client_for(ok_handler) as client:
        response = await client.get("https://feeds.example.com/rss")
    assert response.status_code == 200
    assert response.text == "hello from feeds.example.com"
    assert response.request.headers["user-agent"].startswith("finagency-tests")


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:6379/",
        "http://127.0.0.1/admin",
        "http://intranet.example.com/",
        "http://10.0.0.1/",
        "http://metadata.example.com/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:5432/",
    ],
)
async def test_private_targets_are_refused_before_sending(url: str) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    async with client_for(handler) as client:
        with pytest.raises(UnsafeURLError):
            await client.get(url)
    assert sent == []


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://feeds.example.com/x", "https://user:pw@feeds.example.com/"]
)
async def test_bad_schemes_and_userinfo_are_refused(url: str) -> None:
    async with client_for(ok_handler) as client:
        with pytest.raises((UnsafeURLError, httpx.UnsupportedProtocol)):
            await client.get(url)


async def test_allow_list_admits_loopback_for_local_fakes() -> None:
    async with client_for(ok_handler, allow=["127.0.0.1"]) as client:
        response = await client.get("http://localhost:8000/feed")
    # localhost also resolves to ::1, which the entry does not cover: it is never used.
    assert response.text == "hello from localhost"


async def test_allow_list_admits_a_named_host() -> None:
    async with client_for(ok_handler, allow=["fake-platform"]) as client:
        response = await client.get("http://fake-platform:9000/hook")
    assert response.status_code == 200


async def test_allow_list_by_network_admits_ip_literal() -> None:
    async with client_for(ok_handler, allow=["127.0.0.0/8"]) as client:
        response = await client.get("http://127.0.0.1:8000/feed")
    assert response.text == "hello from 127.0.0.1"


async def test_unresolvable_host_fails_closed() -> None:
    async with client_for(ok_handler) as client:
        with pytest.raises(httpx.ConnectError, match="could not resolve"):
            await client.get("https://nowhere.example.com/")


def redirecting(target: str, status: int = 302) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "feeds.example.com":
            return httpx.Response(status, headers={"Location": target})
        return httpx.Response(200, text=f"landed on {request.url}")

    return handler


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://intranet.example.com/",
        "http://localhost/",
        "gopher://cdn.example.com/",
    ],
)
async def test_redirect_to_a_private_address_is_refused(target: str) -> None:
    async with client_for(redirecting(target)) as client:
        with pytest.raises(UnsafeURLError):
            await client.get("https://feeds.example.com/rss")


async def test_public_redirect_is_followed_and_final_url_recorded() -> None:
    async with client_for(redirecting("https://cdn.example.com/rss.xml", 301)) as client:
        response = await client.get("https://feeds.example.com/rss")
    assert response.text == "landed on https://cdn.example.com/rss.xml"
    assert str(response.extensions[FINAL_URL_EXTENSION]) == "https://cdn.example.com/rss.xml"


async def test_redirect_drops_authorization_across_hosts() -> None:
    seen: dict[str, str | None] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = request.headers.get("authorization")
        if request.url.host == "feeds.example.com":
            return httpx.Response(302, headers={"Location": "https://cdn.example.com/x"})
        return httpx.Response(200)

    async with client_for(handler) as client:
        await client.get("https://feeds.example.com/", headers={"Authorization": "Bearer s"})
    assert seen == {"feeds.example.com": "Bearer s", "cdn.example.com": None}


async def test_redirect_loop_stops_at_the_limit() -> None:
    hops: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hops.append(str(request.url))
        return httpx.Response(302, headers={"Location": "/again"})

    async with client_for(handler, max_redirects=3) as client:
        with pytest.raises(httpx.TooManyRedirects):
            await client.get("https://feeds.example.com/start")
    assert len(hops) == 4


async def test_no_redirects_returns_the_3xx_for_webhooks() -> None:
    async with client_for(redirecting("https://cdn.example.com/"), max_redirects=0) as client:
        response = await client.post("https://feeds.example.com/hook", json={"a": 1})
    assert response.status_code == 302


async def test_pinned_backend_refuses_private_answer_at_connect_time() -> None:
    class NeverConnect(httpcore.AsyncNetworkBackend):
        async def connect_tcp(self, *args: object, **kwargs: object) -> httpcore.AsyncNetworkStream:
            raise AssertionError("must not connect")

    guard = EgressGuard(AllowList(), fake_resolver())
    backend = PinnedNetworkBackend(guard, NeverConnect())
    with pytest.raises(UnsafeURLError):
        await backend.connect_tcp("intranet.example.com", 443)


async def test_pinned_backend_connects_to_the_checked_address() -> None:
    connected: list[tuple[str, int]] = []

    class Recorder(httpcore.AsyncNetworkBackend):
        async def connect_tcp(
            self, host: str, port: int, *args: object, **kwargs: object
        ) -> httpcore.AsyncNetworkStream:
            connected.append((host, port))
            raise httpcore.ConnectError("recorded")

    guard = EgressGuard(AllowList(), fake_resolver())
    with pytest.raises(httpcore.ConnectError):
        await PinnedNetworkBackend(guard, Recorder()).connect_tcp("feeds.example.com", 443)
    assert connected == [("93.184.216.34", 443)]


async def test_mixed_answer_connects_only_to_the_public_address() -> None:
    connected: list[str] = []

    class Recorder(httpcore.AsyncNetworkBackend):
        async def connect_tcp(
            self, host: str, port: int, *args: object, **kwargs: object
        ) -> httpcore.AsyncNetworkStream:
            connected.append(host)
            raise httpcore.ConnectError("recorded")

    guard = EgressGuard(AllowList(), fake_resolver())
    with pytest.raises(httpcore.ConnectError):
        await PinnedNetworkBackend(guard, Recorder()).connect_tcp("rebind.example.com", 80)
    assert connected == ["93.184.216.34"]


async def test_real_transport_uses_the_pinned_pool() -> None:
    # Fails if httpx stops routing requests through the private ``_pool`` we replace.
    guard = EgressGuard(AllowList(), fake_resolver())
    transport = PinnedHTTPTransport(guard)
    try:
        assert isinstance(transport._pool, httpcore.AsyncConnectionPool)
        assert isinstance(transport._pool._network_backend, PinnedNetworkBackend)
        request = httpx.Request("GET", "http://intranet.example.com/")
        with pytest.raises(UnsafeURLError):
            await transport.handle_async_request(request)
    finally:
        await transport.aclose()


def test_user_agent_is_required() -> None:
    with pytest.raises(ValueError, match="user_agent"):
        build_guarded_client(user_agent=" ")
