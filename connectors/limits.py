"""Distributed rate limiters shared by every worker.

Xero: per tenant 60 calls in any minute, 5 in flight and 5,000 a day; per app 10,000 a minute.
SP-API: per seller and operation, a token bucket with the operation's rate and burst. Amazon
Business: per account, 2 per second with a burst of 10.

Xero counts in fixed windows that reset at their own times; a *sliding* log here (no more than N
calls in any window-length span) therefore never exceeds Xero's count in any of its windows,
whenever they start, while still allowing the full 60 a minute.

Backends: Redis (production, tests; atomic Lua scripts) and the database (the demo on SQLite,
no Redis). ``acquire`` never sleeps: it returns how long to wait, and the task re-queues itself
with that countdown, holding no slot.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings

from connectors.providers import (
    BUSINESS_QUOTA,
    SP_QUOTAS,
    XERO_APP_MINUTE,
    XERO_TENANT_CONCURRENT,
    XERO_TENANT_DAY,
    XERO_TENANT_MINUTE,
    Quota,
)


@dataclass(frozen=True)
class Window:
    key: str
    limit: int
    seconds: float


@dataclass(frozen=True)
class Grant:
    """A slot: ``ok`` or how long to wait. Release it with ``release`` when the call returns."""

    ok: bool
    wait: float = 0.0
    lease: str = ""
    concurrency_key: str = ""
    reason: str = ""


class Backend(Protocol):
    def acquire(
        self, windows: list[Window], concurrency: tuple[str, int] | None, lease_seconds: float
    ) -> Grant: ...
    def release(self, grant: Grant) -> None: ...
    def take_token(self, key: str, rate: float, burst: int) -> float: ...
    def note_used(self, window: Window, used: int) -> None: ...


def scale() -> float:
    """Limits run faster against a time-scaled sandbox (a Xero "minute" of one second)."""
    return float(settings.RATE_LIMIT_TIME_SCALE)


def xero_windows(tenant_id: str) -> list[Window]:
    s = scale()
    return [
        Window(
            f"xero:tenant:{tenant_id}:minute",
            int(XERO_TENANT_MINUTE.rate),
            XERO_TENANT_MINUTE.per / s,
        ),
        Window(f"xero:tenant:{tenant_id}:day", int(XERO_TENANT_DAY.rate), XERO_TENANT_DAY.per / s),
        Window("xero:app:minute", int(XERO_APP_MINUTE.rate), XERO_APP_MINUTE.per / s),
    ]


def xero_acquire(tenant_id: str) -> Grant:
    return backend().acquire(
        xero_windows(tenant_id),
        (f"xero:tenant:{tenant_id}:inflight", XERO_TENANT_CONCURRENT),
        lease_seconds=120,
    )


def xero_release(grant: Grant) -> None:
    if grant.ok and grant.concurrency_key:
        backend().release(grant)


def xero_observe(tenant_id: str, headers: dict[str, str] | object) -> None:
    """Keep in step with Xero's own count: X-MinLimit-Remaining / X-DayLimit-Remaining."""
    get = getattr(headers, "get", None)
    if get is None:
        return
    minute, day, _app = xero_windows(tenant_id)
    windows = {"minute": minute, "day": day}
    for header, name in (("X-MinLimit-Remaining", "minute"), ("X-DayLimit-Remaining", "day")):
        value = get(header)
        if value is None:
            continue
        try:
            remaining = int(value)
        except ValueError:
            continue
        window = windows[name]
        backend().note_used(window, window.limit - remaining)


def amazon_wait(key: str, quota: Quota) -> float:
    """Take a token for an Amazon call: 0 to go now, else seconds to wait."""
    return backend().take_token(key, quota.rate * scale() / quota.per, quota.burst)


def sp_wait(selling_partner_id: str, operation: str) -> float:
    return amazon_wait(f"sp:{selling_partner_id}:{operation}", SP_QUOTAS[operation])


def business_wait(account_id: int) -> float:
    return amazon_wait(f"ab:{account_id}", BUSINESS_QUOTA)


# --- Redis ----------------------------------------------------------------------------------------

_ACQUIRE = """
local now = tonumber(ARGV[1])
local nwin = tonumber(ARGV[2])
local wait = 0
local reason = ""
for i = 1, nwin do
  local key = KEYS[i]
  local limit = tonumber(ARGV[2 + (i - 1) * 2 + 1])
  local span = tonumber(ARGV[2 + (i - 1) * 2 + 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + span - now
    if w > wait then wait = w; reason = key end
  end
end
local ckey = KEYS[nwin + 1]
local base = 2 + nwin * 2
local climit = tonumber(ARGV[base + 1])
local lease = ARGV[base + 2]
local lease_for = tonumber(ARGV[base + 3])
if climit > 0 then
  redis.call('ZREMRANGEBYSCORE', ckey, '-inf', now)
  if redis.call('ZCARD', ckey) >= climit then
    if wait == 0 then wait = 0.2; reason = ckey end
  end
end
if wait > 0 then return {0, tostring(wait), reason} end
for i = 1, nwin do
  redis.call('ZADD', KEYS[i], now, lease .. ':' .. i)
  redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2 + (i - 1) * 2 + 2]) * 1000) + 1000)
end
if climit > 0 then
  redis.call('ZADD', ckey, now + lease_for, lease)
  redis.call('PEXPIRE', ckey, math.ceil(lease_for * 1000) + 1000)
end
return {1, "0", ""}
"""

_NOTE_USED = """
local now = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local used = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local have = redis.call('ZCARD', KEYS[1])
for i = have + 1, used do
  redis.call('ZADD', KEYS[1], now, 'observed:' .. ARGV[4] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], math.ceil(span * 1000) + 1000)
return used - have
"""

_TAKE = """
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""


class RedisBackend:
    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._note = self.redis.register_script(_NOTE_USED)
        self._take = self.redis.register_script(_TAKE)

    def acquire(
        self, windows: list[Window], concurrency: tuple[str, int] | None, lease_seconds: float
    ) -> Grant:
        lease = secrets.token_hex(8)
        ckey, climit = concurrency or ("limit:none", 0)
        args: list[str | int | float] = [time.time(), len(windows)]
        for w in windows:
            args += [w.limit, w.seconds]
        args += [climit, lease, lease_seconds]
        ok, wait, reason = self._acquire(keys=[w.key for w in windows] + [ckey], args=args)
        if int(ok):
            return Grant(True, lease=lease, concurrency_key=ckey if climit else "")
        return Grant(
            False,
            wait=float(wait),
            reason=reason.decode() if isinstance(reason, bytes) else str(reason),
        )

    def release(self, grant: Grant) -> None:
        self.redis.zrem(grant.concurrency_key, grant.lease)

    def take_token(self, key: str, rate: float, burst: int) -> float:
        return float(self._take(keys=[f"limit:{key}"], args=[time.time(), rate, burst]))

    def note_used(self, window: Window, used: int) -> None:
        self._note(
            keys=[window.key], args=[time.time(), window.seconds, used, secrets.token_hex(4)]
        )


# --- Database (the demo without Redis) ------------------------------------------------------------


class DatabaseBackend:
    """The same semantics on the database, for the single-worker demo on SQLite."""

    def acquire(
        self, windows: list[Window], concurrency: tuple[str, int] | None, lease_seconds: float
    ) -> Grant:
        from django.db import transaction

        from connectors.models import LimiterEvent

        now = time.time()
        with transaction.atomic():
            wait, reason = 0.0, ""
            for w in windows:
                LimiterEvent.objects.filter(key=w.key, at__lt=now - w.seconds).delete()
                events = LimiterEvent.objects.filter(key=w.key).order_by("at")
                if events.count() >= w.limit:
                    first = events.first()
                    assert first is not None
                    candidate = first.at + w.seconds - now
                    if candidate > wait:
                        wait, reason = candidate, w.key
            lease = secrets.token_hex(8)
            ckey = ""
            if concurrency:
                ckey, climit = concurrency
                LimiterEvent.objects.filter(key=ckey, at__lt=now).delete()
                if LimiterEvent.objects.filter(key=ckey).count() >= climit and wait == 0:
                    wait, reason = 0.2, ckey
            if wait > 0:
                return Grant(False, wait=wait, reason=reason)
            LimiterEvent.objects.bulk_create(
                [LimiterEvent(key=w.key, at=now, lease=lease) for w in windows]
            )
            if ckey:
                LimiterEvent.objects.create(key=ckey, at=now + lease_seconds, lease=lease)
        return Grant(True, lease=lease, concurrency_key=ckey)

    def release(self, grant: Grant) -> None:
        from connectors.models import LimiterEvent

        LimiterEvent.objects.filter(key=grant.concurrency_key, lease=grant.lease).delete()

    def take_token(self, key: str, rate: float, burst: int) -> float:
        from django.db import transaction

        from connectors.models import LimiterEvent

        now = time.time()
        bucket_key = f"bucket:{key}"
        with transaction.atomic():
            row = LimiterEvent.objects.select_for_update().filter(key=bucket_key).first()
            if row is None:
                row = LimiterEvent.objects.create(key=bucket_key, at=now, tokens=burst)
            tokens = min(burst, (row.tokens or 0) + (now - row.at) * rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate
            row.tokens, row.at = tokens, now
            row.save(update_fields=["tokens", "at"])
        return wait

    def note_used(self, window: Window, used: int) -> None:
        from connectors.models import LimiterEvent

        now = time.time()
        have = LimiterEvent.objects.filter(key=window.key, at__gte=now - window.seconds).count()
        LimiterEvent.objects.bulk_create(
            [
                LimiterEvent(key=window.key, at=now, lease="observed")
                for _ in range(max(used - have, 0))
            ]
        )


@cache
def _backend(url: str) -> Backend:
    return RedisBackend(url) if url else DatabaseBackend()


def backend() -> Backend:
    return _backend(settings.REDIS_URL)


def ceil_wait(seconds: float) -> int:
    return max(1, math.ceil(seconds))
