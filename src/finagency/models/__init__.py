"""Every ORM model, one module per aggregate; imported here so metadata is complete."""

from finagency.models.audit import AuditEvent
from finagency.models.base import Base, utcnow
from finagency.models.brand import ApiToken, Brand, Membership, Setting, User, WebhookEndpoint
from finagency.models.content import Approval, ContentItem, Finding, Post, PostStatus
from finagency.models.job import (
    FINAL_STATES,
    LIVE_STATES,
    CircuitBreaker,
    CronFire,
    Job,
    JobCounter,
    JobState,
    LeaderLease,
    QueueControl,
    RateBucket,
    WorkerHeartbeat,
)
from finagency.models.market import Instrument, NewsItem, Quote, Source
from finagency.models.social import Account, EngagementSnapshot, PublishAttempt, SandboxPost

__all__ = [
    "FINAL_STATES",
    "LIVE_STATES",
    "Account",
    "ApiToken",
    "Approval",
    "AuditEvent",
    "Base",
    "Brand",
    "CircuitBreaker",
    "ContentItem",
    "CronFire",
    "EngagementSnapshot",
    "Finding",
    "Instrument",
    "Job",
    "JobCounter",
    "JobState",
    "LeaderLease",
    "Membership",
    "NewsItem",
    "Post",
    "PostStatus",
    "PublishAttempt",
    "QueueControl",
    "Quote",
    "RateBucket",
    "SandboxPost",
    "Setting",
    "Source",
    "User",
    "WebhookEndpoint",
    "WorkerHeartbeat",
    "utcnow",
]
