"""Outbound webhooks: signed domain events sent to brand-configured URLs through the queue.

Public entry points: ``deliver_event`` (record and enqueue one event for every subscribed
endpoint of a brand), ``TASKS`` (the delivery task for the worker's registry) and
``forward_events`` (bridge from the in-process EventBus).
"""

from finagency.webhooks.events import EVENTS
from finagency.webhooks.service import deliver_event
from finagency.webhooks.tasks import DELIVER_TASK, TASKS

__all__ = ["DELIVER_TASK", "EVENTS", "TASKS", "deliver_event"]
