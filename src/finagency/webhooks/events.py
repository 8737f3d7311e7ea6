"""The events a webhook endpoint can subscribe to, and how EventBus events map onto them."""

from __future__ import annotations

from typing import Any, Final

from finagency.core.events import Event

EVENTS: Final[frozenset[str]] = frozenset(
    {
        "post.published",
        "post.failed",
        "content.approved",
        "content.rejected",
        "content.drafted",
        "job.dead_lettered",
        "account.auth_expired",
        "report.ready",
    }
)
ALL_EVENTS: Final = "*"


def webhook_event(event: Event) -> tuple[str, dict[str, Any]] | None:
    """The webhook event name and payload for a bus event, or None when it is not sent out.

    The review domain announces ``approval.given`` for both decisions; receivers get the
    decision as its own event name, so a CRM can subscribe to rejections alone.
    """
    if event.brand_id is None:
        return None
    if event.name == "approval.given":
        decision = str(event.data.get("decision", ""))
        name = {"approve": "content.approved", "approved": "content.approved"}.get(
            decision, "content.rejected" if decision.startswith("reject") else ""
        )
        return (name, dict(event.data)) if name else None
    if event.name in EVENTS:
        return event.name, dict(event.data)
    return None
