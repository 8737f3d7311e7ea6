"""Prometheus metrics the queue exports."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

JOBS_FINISHED = Counter(
    "finagency_jobs_finished_total",
    "Jobs that ended a run, by outcome (completed, retried, snoozed, discarded, lease_lost)",
    ["queue", "task", "outcome"],
)
JOB_DURATION = Histogram("finagency_job_duration_seconds", "Time a job run took", ["queue", "task"])
JOBS_CLAIMED = Counter("finagency_jobs_claimed_total", "Jobs handed to a worker", ["queue"])
CLAIM_DURATION = Histogram(
    "finagency_claim_duration_seconds",
    "Time one batched claim took (transaction included)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
LEASES_RECOVERED = Counter(
    "finagency_leases_recovered_total",
    "Running jobs taken back from workers that stopped answering",
)
