"""The dispatcher: the one scheduled entry point that enqueues whatever work is due.

Celery beat runs ``sync.tasks.dispatch_due_work`` every ``DISPATCH_INTERVAL_SECONDS``. Each kind
of sync registers a *source* here: a function that, given the time, enqueues the small tasks
that are due (one per link and kind) and returns how many it enqueued. Keeping one dispatcher
means one schedule to reason about, and fairness decided in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

DueWorkSource = Callable[[datetime], int]
_sources: dict[str, DueWorkSource] = {}


def register_source(name: str) -> Callable[[DueWorkSource], DueWorkSource]:
    def decorator(func: DueWorkSource) -> DueWorkSource:
        _sources[name] = func
        return func

    return decorator


def registered_sources() -> dict[str, DueWorkSource]:
    return dict(_sources)


def dispatch_due_work(*, now: datetime) -> dict[str, int]:
    """Run every registered source; one failing source does not stop the others."""
    enqueued: dict[str, int] = {}
    for name, source in sorted(_sources.items()):
        try:
            enqueued[name] = source(now)
        except Exception:
            log.exception("dispatch source failed source=%s", name)
            enqueued[name] = -1
    log.info("dispatch done %s", " ".join(f"{k}={v}" for k, v in enqueued.items()) or "no sources")
    return enqueued


# "Sync now" for one link: each kind of sync registers what it does for a single link.
LinkTrigger = Callable[[Any], int]
_link_triggers: dict[str, LinkTrigger] = {}


def register_link_trigger(name: str) -> Callable[[LinkTrigger], LinkTrigger]:
    def decorator(func: LinkTrigger) -> LinkTrigger:
        _link_triggers[name] = func
        return func

    return decorator


def link_sync_now(link: Any) -> dict[str, int]:
    """Run every registered per-link trigger (pulls, pushes) for this link now."""
    return {name: trigger(link) for name, trigger in sorted(_link_triggers.items())}
