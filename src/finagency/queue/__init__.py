"""The job engine: a durable queue in the application's own database, with no domain knowledge.

Public API: declare ``Task``s in a ``TaskRegistry``; ``enqueue`` in the caller's session;
run a ``Worker`` and a ``Scheduler``. Tasks steer their job with ``Snooze`` and ``Discard``
or by raising the typed external errors of ``finagency.core.errors``.
"""

from finagency.queue.context import JobContext, JobInfo
from finagency.queue.enqueue import enqueue, enqueue_many
from finagency.queue.errors import Discard, LeaseLost, Snooze
from finagency.queue.notify import NOTIFIER_KEY, Notifier
from finagency.queue.registry import Task, TaskRegistry, UnknownTask
from finagency.queue.retry import ExponentialBackoff, RetryStrategy
from finagency.queue.scheduler import RecurringJob, Scheduler
from finagency.queue.worker import Worker, WorkerConfig

__all__ = [
    "NOTIFIER_KEY",
    "Discard",
    "ExponentialBackoff",
    "JobContext",
    "JobInfo",
    "LeaseLost",
    "Notifier",
    "RecurringJob",
    "RetryStrategy",
    "Scheduler",
    "Snooze",
    "Task",
    "TaskRegistry",
    "UnknownTask",
    "Worker",
    "WorkerConfig",
    "enqueue",
    "enqueue_many",
]
