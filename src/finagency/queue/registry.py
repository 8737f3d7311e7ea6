"""Task declarations: what a job's task name runs, on which queue, with which retry policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from finagency.queue.retry import ExponentialBackoff, RetryStrategy

if TYPE_CHECKING:
    from finagency.queue.context import JobContext

Handler = Callable[["JobContext"], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Task:
    name: str  # stable dotted name, stored in job rows: "publishing.publish_post"
    handler: Handler
    queue: str = "default"
    priority: int = 100
    max_attempts: int = 5
    retry: RetryStrategy = field(default_factory=ExponentialBackoff)
    # Seconds a single run may take before it is cancelled and retried.
    timeout_seconds: float = 120.0
    # A job whose worker died may have had an outside effect (a post sent): the rescuer
    # parks it in ``reconcile`` so its next run checks before it acts again.
    reconcile_on_rescue: bool = False


class UnknownTask(LookupError):
    pass


class TaskRegistry:
    """The tasks a process knows; domains add theirs at start-up, not at import."""

    def __init__(self, tasks: Iterable[Task] = ()) -> None:
        self._tasks: dict[str, Task] = {}
        for task in tasks:
            self.add(task)

    def add(self, task: Task) -> None:
        if task.name in self._tasks:
            raise ValueError(f"task {task.name!r} is declared twice")
        self._tasks[task.name] = task

    def get(self, name: str) -> Task:
        try:
            return self._tasks[name]
        except KeyError:
            raise UnknownTask(f"no task named {name!r} is registered in this process") from None

    def __contains__(self, name: object) -> bool:
        return name in self._tasks

    def names(self) -> list[str]:
        return sorted(self._tasks)

    def reconcile_tasks(self) -> list[str]:
        return sorted(name for name, task in self._tasks.items() if task.reconcile_on_rescue)

    def queues(self) -> list[str]:
        return sorted({task.queue for task in self._tasks.values()})
