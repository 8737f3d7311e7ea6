"""Every ORM model, one module per aggregate; imported here so metadata is complete."""

from finagency.models.audit import AuditCheckpoint, AuditEvent, LegalHold
from finagency.models.auth import LoginThrottle, OidcIdentity, TimeSlot, UserSession
from finagency.models.base import Base, utcnow
from finagency.models.brand import (
    ApiToken,
    Brand,
    Membership,
    Setting,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from finagency.models.content import Approval, ContentItem, Finding, Post, PostStatus
from finagency.models.evaluation import GeneratorEvaluation
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
from finagency.models.metrics import MetricSample, StoredReport
from finagency.models.ops import BackupRecord, ImportLedger, ImportRun
from finagency.models.social import Account, EngagementSnapshot, PublishAttempt, SandboxPost

__all__ = [
    "FINAL_STATES",
    "LIVE_STATES",
    "Account",
    "ApiToken",
    "Approval",
    "AuditCheckpoint",
    "AuditEvent",
    "BackupRecord",
    "Base",
    "Brand",
    "CircuitBreaker",
    "ContentItem",
    "CronFire",
    "EngagementSnapshot",
    "Finding",
    "GeneratorEvaluation",
    "ImportLedger",
    "ImportRun",
    "Instrument",
    "Job",
    "JobCounter",
    "JobState",
    "LeaderLease",
    "LegalHold",
    "LoginThrottle",
    "Membership",
    "MetricSample",
    "NewsItem",
    "OidcIdentity",
    "Post",
    "PostStatus",
    "PublishAttempt",
    "QueueControl",
    "Quote",
    "RateBucket",
    "SandboxPost",
    "Setting",
    "Source",
    "StoredReport",
    "TimeSlot",
    "User",
    "UserSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkerHeartbeat",
    "utcnow",
]
