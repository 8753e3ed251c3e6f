from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from sync.dispatch import dispatch_due_work as _dispatch


@shared_task(name="sync.tasks.dispatch_due_work", acks_late=False)
def dispatch_due_work() -> dict[str, int]:
    # acks_late off: a dispatcher tick lost with its worker is simply replaced by the next tick.
    return _dispatch(now=timezone.now())
