"""Runs that advance one checkpointed step per task."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sync.models import Run, RunStatus

log = logging.getLogger(__name__)
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


def runs_requeue_lost(
    *, kind: str, now: datetime, lost_after: timedelta, step: Callable[[int, int], object]
) -> int:
    """Queue again the current step of runs whose task was lost (no step for ``lost_after``).

    Each run keeps ``checkpoint["at"]`` (ISO time of its last step) and ``checkpoint["step"]``;
    the step counter makes a duplicate of a task that was not lost do nothing.
    """
    count = 0
    for run in Run.objects.filter(kind=kind, status__in=ACTIVE):
        try:
            last = datetime.fromisoformat(str(run.checkpoint.get("at")))
        except ValueError:
            continue
        if now - last > lost_after:
            log.warning("%s run %s made no step since %s: queueing it again", kind, run.pk, last)
            step(run.pk, int(run.checkpoint.get("step", 0)))
            count += 1
    return count
