"""Prometheus metrics the queue exports."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

JOBS_FINISHED = Counter(
    "finagency_jobs_finished_total",
    "Jobs that ended a run, by outcome (completed, retried, snoozed, discarded, lease_lost)",
    ["queue", "task", "outcome"],
)
JOB_DURATION = Histogram("finagency_job_duration_seconds", "Time a job run took", ["queue", "task"])
