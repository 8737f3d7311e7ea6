"""The client-approval step on the Review page: the approver approves, the client signs off."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from tests.integration.web.conftest import Login
from tests.integration.web.web_support import HTML, Seed

from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.models import Brand, Post, PostStatus
from finagency.review import service as review

CLEAN = "A clean draft about the ECB rate"


async def _turn_on_client_approval(services: Services, seed: Seed) -> None:
    async with transaction(services.sessionmaker) as session:
        brand = await session.get(Brand, seed.brand_ids["a"])
        assert brand is not None
        await review.set_client_approval(session, brand, True, actor="user:admin")


async def _status(services: Services, post_id: int) -> str:
    async with services.sessionmaker() as session:
        status = await session.scalar(select(Post.status).where(Post.id == post_id))
    assert status is not None
    return str(status)


async def test_client_signs_off_on_the_review_page_after_the_approver(
    app: object, services: Services, seed: Seed, login: Login
) -> None:
    await _turn_on_client_approval(services, seed)
    post_id = seed.post_id(CLEAN)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as approver,
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        token = await login(approver, "approver")
        await approver.post(f"/review/{post_id}/approve", data={"csrf_token": token}, headers=HTML)
        assert await _status(services, post_id) == PostStatus.AWAITING_CLIENT.value
        # The approver has nothing more to do; the client sees the post with its buttons.
        approver_page = (await approver.get("/review", headers=HTML)).text
        assert f"/review/{post_id}/client-approve" not in approver_page

        client_token = await login(client, "client")
        page = (await client.get("/review", headers=HTML)).text
        assert 'id="client-signoff"' in page
        assert f"/review/{post_id}/client-approve" in page
        signed = await client.post(
            f"/review/{post_id}/client-approve", data={"csrf_token": client_token}, headers=HTML
        )
        assert signed.status_code == 303
        after = (await client.get("/review", headers=HTML)).text

    assert f"Post {post_id} approved for the client." in after
    assert await _status(services, post_id) != PostStatus.AWAITING_CLIENT.value


async def test_client_turning_a_post_down_needs_a_reason_and_the_client_role(
    app: object, services: Services, seed: Seed, login: Login
) -> None:
    await _turn_on_client_approval(services, seed)
    post_id = seed.post_id(CLEAN)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as approver,
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        token = await login(approver, "approver")
        await approver.post(f"/review/{post_id}/approve", data={"csrf_token": token}, headers=HTML)
        # The approver may not stand in for the client.
        await approver.post(
            f"/review/{post_id}/client-approve", data={"csrf_token": token}, headers=HTML
        )
        refused = (await approver.get("/review", headers=HTML)).text
        assert f"Post {post_id} was not approved" in refused
        assert await _status(services, post_id) == PostStatus.AWAITING_CLIENT.value

        client_token = await login(client, "client")
        await client.post(
            f"/review/{post_id}/client-reject", data={"csrf_token": client_token}, headers=HTML
        )
        assert await _status(services, post_id) == PostStatus.AWAITING_CLIENT.value
        await client.post(
            f"/review/{post_id}/client-reject",
            data={"csrf_token": client_token, "reason": "Not our tone"},
            headers=HTML,
        )
    assert await _status(services, post_id) == PostStatus.REJECTED.value
