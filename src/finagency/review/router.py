"""The review API: approve or reject a post, with maker-checker and per-brand permission checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import (
    CurrentPrincipal,
    DbSession,
    ReadSession,
    get_services,
    require,
)
from finagency.auth.permissions import POST_APPROVE, POST_CLIENT_SIGNOFF, VIEW
from finagency.core.errors import Forbidden, NotFound
from finagency.core.events import Event
from finagency.core.time import utcnow
from finagency.models import Approval, Post
from finagency.review import service
from finagency.review.schemas import (
    ApprovalRead,
    ApproveRequest,
    ClientQueueItem,
    DecisionRead,
    RejectRequest,
)

router = APIRouter(tags=["review"])

Approver = Annotated[CurrentPrincipal, Depends(require(POST_APPROVE))]


async def visible_post(
    session: AsyncSession, principal: CurrentPrincipal, post_id: int, *, for_update: bool = False
) -> Post:
    """The post if the caller may see its brand; another brand's post is NotFound, not 403."""
    query = select(Post).where(Post.id == post_id)
    if for_update:
        # Two approvers clicking at once must not both pass the "still in review" check.
        query = query.with_for_update()
    post = (await session.execute(query)).scalar_one_or_none()
    if post is None or not principal.can_see(post.brand_id):
        raise NotFound(f"post {post_id} not found")
    return post


def check_can_decide(principal: CurrentPrincipal, post: Post) -> None:
    if not principal.can(POST_APPROVE, post.brand_id):
        raise Forbidden("you do not have the 'post.approve' permission on this brand")


async def approve_post(
    session: AsyncSession,
    principal: CurrentPrincipal,
    post_id: int,
    *,
    version_hash: str | None = None,
    note: str = "",
) -> tuple[Post, Approval]:
    """Shared by the API and the review page: load, check, approve (not committed)."""
    post = await visible_post(session, principal, post_id, for_update=True)
    check_can_decide(principal, post)
    approval = await service.approve(
        session, post, approver=principal.user, now=utcnow(), version_hash=version_hash, note=note
    )
    await session.flush()
    return post, approval


async def reject_post(
    session: AsyncSession, principal: CurrentPrincipal, post_id: int, *, reason: str
) -> tuple[Post, Approval]:
    post = await visible_post(session, principal, post_id, for_update=True)
    check_can_decide(principal, post)
    approval = await service.reject(
        session, post, approver=principal.user, reason=reason, now=utcnow()
    )
    await session.flush()
    return post, approval


def decision_event(post: Post, approval: Approval) -> Event:
    return Event(
        "approval.given",
        {"post_id": post.id, "decision": approval.decision, "status": post.status},
        brand_id=post.brand_id,
    )


def _decision(post: Post, approval: Approval) -> DecisionRead:
    return DecisionRead(
        post_id=post.id,
        status=post.status,
        scheduled_at=post.scheduled_at,
        approval=ApprovalRead.model_validate(approval),
    )


@router.post(
    "/posts/{post_id}/approve",
    response_model=DecisionRead,
    dependencies=[Depends(csrf_protect)],
    summary="Approve the post's current version (never your own post)",
)
async def approve(
    post_id: int,
    request: Request,
    principal: Approver,
    session: DbSession,
    background: BackgroundTasks,
    body: ApproveRequest | None = None,
) -> DecisionRead:
    body = body or ApproveRequest()
    post, approval = await approve_post(
        session, principal, post_id, version_hash=body.version_hash, note=body.note
    )
    # Runs after the response, so after the commit: listeners never see uncommitted state.
    background.add_task(get_services(request).events.publish, decision_event(post, approval))
    return _decision(post, approval)


@router.post(
    "/posts/{post_id}/reject",
    response_model=DecisionRead,
    dependencies=[Depends(csrf_protect)],
    summary="Reject the post with a reason the author can act on",
)
async def reject(
    post_id: int,
    body: RejectRequest,
    request: Request,
    principal: Approver,
    session: DbSession,
    background: BackgroundTasks,
) -> DecisionRead:
    post, approval = await reject_post(session, principal, post_id, reason=body.reason)
    background.add_task(get_services(request).events.publish, decision_event(post, approval))
    return _decision(post, approval)


Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]
CLIENT_ROLES = frozenset({"client", "admin"})


def check_is_client(principal: CurrentPrincipal, post: Post) -> None:
    """Client sign-off belongs to the brand's client (or an admin standing in for one)."""
    roles = principal.roles_by_brand.get(post.brand_id, set())
    if not (principal.user.is_admin or roles & CLIENT_ROLES):
        raise Forbidden("only the brand's client can give or refuse the client approval")
    # A token needs the client:signoff scope: a read-only token of a client cannot sign off.
    if not principal.can(POST_CLIENT_SIGNOFF, post.brand_id):
        raise Forbidden(f"you do not have the {POST_CLIENT_SIGNOFF!r} permission here")


async def client_decide(
    session: AsyncSession,
    principal: CurrentPrincipal,
    post_id: int,
    *,
    approve: bool,
    version_hash: str | None = None,
    note: str = "",
) -> tuple[Post, Approval]:
    """Shared by the API and any page: load, check the client role, decide (not committed)."""
    post = await visible_post(session, principal, post_id, for_update=True)
    check_is_client(principal, post)
    if approve:
        approval = await service.client_approve(
            session, post, client=principal.user, now=utcnow(), version_hash=version_hash, note=note
        )
    else:
        approval = await service.client_reject(
            session, post, client=principal.user, reason=note, now=utcnow()
        )
    await session.flush()
    return post, approval


@router.get(
    "/review/client",
    response_model=list[ClientQueueItem],
    summary="Posts waiting for the client's approval on your brands",
)
async def get_client_queue(principal: Viewer, session: ReadSession) -> list[ClientQueueItem]:
    scope = (
        None
        if principal.user.is_admin and principal.via_token is None
        else sorted(principal.brand_ids)
    )
    posts = await service.client_queue(session, scope)
    return [ClientQueueItem.model_validate(post) for post in posts]


@router.post(
    "/posts/{post_id}/client-approve",
    response_model=DecisionRead,
    dependencies=[Depends(csrf_protect)],
    summary="The brand's client approves the approved version (when client approval is on)",
)
async def client_approve(
    post_id: int,
    request: Request,
    principal: Viewer,
    session: DbSession,
    background: BackgroundTasks,
    body: ApproveRequest | None = None,
) -> DecisionRead:
    body = body or ApproveRequest()
    post, approval = await client_decide(
        session, principal, post_id, approve=True, version_hash=body.version_hash, note=body.note
    )
    background.add_task(get_services(request).events.publish, decision_event(post, approval))
    return _decision(post, approval)


@router.post(
    "/posts/{post_id}/client-reject",
    response_model=DecisionRead,
    dependencies=[Depends(csrf_protect)],
    summary="The brand's client turns the post down, with a reason",
)
async def client_reject(
    post_id: int,
    body: RejectRequest,
    request: Request,
    principal: Viewer,
    session: DbSession,
    background: BackgroundTasks,
) -> DecisionRead:
    post, approval = await client_decide(
        session, principal, post_id, approve=False, note=body.reason
    )
    background.add_task(get_services(request).events.publish, decision_event(post, approval))
    return _decision(post, approval)
