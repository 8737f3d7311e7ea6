"""Every API error in one shape with a stable code; CORS answers only the allow-listed origin."""

from __future__ import annotations

import httpx
from api_support import CORS_ORIGIN
from web_support import Login, Seed


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    error: dict[str, object] = body["error"]
    return error


async def test_unknown_api_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


async def test_wrong_method_is_a_json_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/stats")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


async def test_anonymous_caller_gets_401(client: httpx.AsyncClient, seed: Seed) -> None:
    response = await client.get("/api/v1/posts")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


async def test_bad_query_is_validation_failed_with_the_location(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "admin")

    response = await client.get("/api/v1/findings", params={"limit": 0})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert ["query", "limit"] in [item["loc"] for item in error["details"]]  # type: ignore[attr-defined]


async def test_malformed_bearer_header_is_refused(client: httpx.AsyncClient, seed: Seed) -> None:
    response = await client.get("/api/v1/posts", headers={"Authorization": "Token abc"})

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


async def test_allowed_origin_gets_cors_headers_on_preflight(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/v1/posts",
        headers={
            "Origin": CORS_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == CORS_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


async def test_other_origin_gets_no_cors_consent(client: httpx.AsyncClient, seed: Seed) -> None:
    preflight = await client.options(
        "/api/v1/posts",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    simple = await client.get("/api/v1/brands", headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_allowed_origin_sees_cors_header_on_real_responses(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    response = await client.get("/api/v1/brands", headers={"Origin": CORS_ORIGIN})

    assert response.status_code == 401  # the origin is allowed, the caller still signs in
    assert response.headers["access-control-allow-origin"] == CORS_ORIGIN


async def test_nul_characters_are_refused_before_they_reach_the_database(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    # PostgreSQL cannot store NUL in text; schemathesis found this answering 500 on /quotes.
    token = await login(client, "admin")

    in_query = await client.get("/api/v1/quotes", params={"symbol": "AA\x00PL"})
    in_body = await client.post(
        "/api/v1/content/editorial",
        json={"brand_id": seed.brand_ids["a"], "title": "t\x00", "text": "Rates held."},
        headers={"X-CSRF-Token": token},
    )
    plain = await client.get("/api/v1/quotes", params={"symbol": "AAPL"})

    assert in_query.status_code == 422
    assert error_of(in_query)["message"] == "symbol must not contain NUL characters"
    assert in_body.status_code == 422
    assert error_of(in_body)["code"] == "validation_failed"
    assert plain.status_code == 200
