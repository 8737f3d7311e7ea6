"""OAuth 2.0 with PKCE (shared helpers) end to end against the fake X, and proactive refresh."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from finagency.core.errors import AuthExpiredError, TransientExternalError
from finagency.core.time import utcnow
from finagency.integrations.platforms import oauth, x
from finagency.integrations.platforms.base import Credentials
from finagency.integrations.platforms.fakes import x as fake_x

REDIRECT = "https://app.example/callback/x"


def fake_http() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=fake_x.create_app())
    return httpx.AsyncClient(transport=transport, base_url="http://fake")


def test_pkce_pair_is_s256_and_fresh() -> None:
    verifier, challenge = oauth.new_pkce()

    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert oauth.new_pkce()[0] != verifier


def test_authorization_url_carries_state_and_challenge() -> None:
    url = oauth.authorization_url(
        x.AUTHORIZE_URL,
        client_id="cid",
        redirect_uri=REDIRECT,
        scopes=x.SCOPES,
        state="st",
        code_challenge="ch",
    )

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == x.AUTHORIZE_URL
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": "cid",
        "redirect_uri": REDIRECT,
        "scope": " ".join(x.SCOPES),
        "state": "st",
        "code_challenge": "ch",
        "code_challenge_method": "S256",
    }


async def authorize(http: httpx.AsyncClient, challenge: str) -> str:
    url = oauth.authorization_url(
        "http://fake/i/oauth2/authorize",
        client_id=fake_x.TEST_CLIENT_ID,
        redirect_uri=REDIRECT,
        scopes=x.SCOPES,
        state="st-1",
        code_challenge=challenge,
    )
    redirect = await http.get(url)
    assert redirect.status_code == 302
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


async def test_code_exchange_with_pkce_gives_working_tokens() -> None:
    async with fake_http() as http:
        verifier, challenge = oauth.new_pkce()
        code = await authorize(http, challenge)

        tokens = await oauth.exchange_code(
            http,
            "http://fake/2/oauth2/token",
            code=code,
            redirect_uri=REDIRECT,
            client_id=fake_x.TEST_CLIENT_ID,
            code_verifier=verifier,
        )
        identity = await x.build(tokens.merged_into({}), http, base_url="http://fake").verify()

    assert tokens.refresh_token and tokens.expires_at is not None
    assert identity.handle == "finagency_fake"


async def test_code_exchange_with_the_wrong_verifier_is_refused() -> None:
    async with fake_http() as http:
        _, challenge = oauth.new_pkce()
        code = await authorize(http, challenge)
        with pytest.raises(AuthExpiredError):
            await oauth.exchange_code(
                http,
                "http://fake/2/oauth2/token",
                code=code,
                redirect_uri=REDIRECT,
                client_id=fake_x.TEST_CLIENT_ID,
                code_verifier=oauth.new_pkce()[0],
            )


async def test_token_endpoint_5xx_is_transient() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(503)))
    with pytest.raises(TransientExternalError):
        await oauth.refresh(http, "https://t.example/token", "r", "cid")


@pytest.mark.parametrize(("minutes_left", "refreshed"), [(4, True), (-1, True), (30, False)])
async def test_refresh_ahead_of_expiry(minutes_left: int, refreshed: bool) -> None:
    saved: list[Credentials] = []

    async def save(new: Credentials) -> None:
        saved.append(new)

    creds = {
        "access_token": fake_x.TEST_ACCESS_TOKEN,
        "refresh_token": fake_x.TEST_REFRESH_TOKEN,
        "client_id": fake_x.TEST_CLIENT_ID,
        "expires_at": (utcnow() + timedelta(minutes=minutes_left)).isoformat(),
    }
    async with fake_http() as http:
        await x.build(creds, http, base_url="http://fake", on_credentials=save).verify()

    assert bool(saved) is refreshed


def test_expires_at_accepts_iso_and_epoch() -> None:
    iso = oauth.parse_expires_at("2030-01-01T00:00:00+00:00")
    assert iso is not None and oauth.parse_expires_at(str(iso.timestamp())) == iso
    assert oauth.parse_expires_at("soon") is None
