"""Rate limits as the real services enforce them, counted in the database.

- ``window_hit``: fixed windows (Xero's 60 per minute per tenant, 5,000 per day, 10,000 per
  minute per app). Xero's windows are fixed and reset at their own times, like these.
- ``concurrency``: calls in flight (Xero's 5 per tenant).
- ``bucket_take``: token buckets (Amazon's per-operation rate and burst).

All durations are in the provider's seconds and divided by the sandbox time scale, so a test can
run the real limits sixty times faster and still see every 429 the real service would send.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sandbox.models import InFlight, RateCounter, TokenBucket


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int = 0  # whole real seconds, as Retry-After carries


def window_hit(
    key: str, *, limit: int, window: float, scale: float, now: float | None = None
) -> Decision:
    """Count one call in the current fixed window of ``window`` provider-seconds."""
    length = window / scale
    now = time.time() if now is None else now
    index = math.floor(now / length)
    for _ in range(3):
        updated = RateCounter.objects.filter(key=key, window=index, count__lt=limit).update(
            count=F("count") + 1
        )
        if updated:
            count = RateCounter.objects.values_list("count", flat=True).get(key=key, window=index)
            return Decision(True, max(limit - count, 0))
        # Full, not merely present: a window another process has just created is counted
        # against on the next pass, not refused.
        if RateCounter.objects.filter(key=key, window=index, count__gte=limit).exists():
            retry = math.ceil((index + 1) * length - now)
            return Decision(False, 0, max(retry, 1))
        try:
            with transaction.atomic():
                RateCounter.objects.create(key=key, window=index, count=1)
            # Old windows are of no further use; keep the table small.
            RateCounter.objects.filter(key=key, window__lt=index - 1).delete()
            return Decision(True, limit - 1)
        except IntegrityError:
            continue  # another process created the window first: count against it
    raise RuntimeError(f"could not count a call against {key}")


def window_remaining(key: str, *, limit: int, window: float, scale: float) -> int:
    index = math.floor(time.time() / (window / scale))
    count = (
        RateCounter.objects.filter(key=key, window=index).values_list("count", flat=True).first()
    )
    return limit - (count or 0)


STALE_IN_FLIGHT = timedelta(minutes=2)


@contextmanager
def concurrency(key: str, *, limit: int) -> Iterator[bool]:
    """Hold one of ``limit`` in-flight slots for the block; yields False when none is free."""
    InFlight.objects.get_or_create(key=key)
    # A slot leaked by a killed server process must not block the tenant forever.
    InFlight.objects.filter(key=key, updated_at__lt=timezone.now() - STALE_IN_FLIGHT).update(
        count=0
    )
    got = InFlight.objects.filter(key=key, count__lt=limit).update(
        count=F("count") + 1, updated_at=timezone.now()
    )
    try:
        yield bool(got)
    finally:
        if got:
            InFlight.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)


def bucket_take(
    key: str, *, rate: float, burst: int, scale: float, now: float | None = None
) -> Decision:
    """Take one token from a bucket that refills ``rate`` tokens per provider-second."""
    now = time.time() if now is None else now
    effective_rate = rate * scale
    with transaction.atomic():
        bucket = TokenBucket.objects.select_for_update().filter(key=key).first()
        if bucket is None:
            try:
                with transaction.atomic():
                    bucket = TokenBucket.objects.create(key=key, tokens=burst, refreshed_at=now)
            except IntegrityError:
                bucket = TokenBucket.objects.select_for_update().get(key=key)
        tokens = min(burst, bucket.tokens + (now - bucket.refreshed_at) * effective_rate)
        if tokens >= 1:
            bucket.tokens, bucket.refreshed_at = tokens - 1, now
            bucket.save(update_fields=["tokens", "refreshed_at"])
            return Decision(True, math.floor(tokens - 1))
        bucket.tokens, bucket.refreshed_at = tokens, now
        bucket.save(update_fields=["tokens", "refreshed_at"])
        return Decision(False, 0, max(math.ceil((1 - tokens) / effective_rate), 1))
