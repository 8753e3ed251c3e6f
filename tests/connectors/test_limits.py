from __future__ import annotations

import threading
import uuid

import pytest
from django.conf import settings
from django.test import override_settings

from connectors import limits


@pytest.fixture(params=["redis", "database"])
def limiter(request, db):
    url = settings.REDIS_URL if request.param == "redis" else ""
    if request.param == "redis":
        assert url, "make test runs with REDIS_URL"
    with override_settings(REDIS_URL=url):
        yield request.param


def test_sixty_a_minute_per_tenant_then_a_wait(limiter) -> None:
    tenant = str(uuid.uuid4())
    grants = [limits.xero_acquire(tenant) for _ in range(5)]
    assert all(g.ok for g in grants)
    blocked = limits.xero_acquire(tenant)
    assert not blocked.ok and blocked.reason.endswith(":inflight")
    for g in grants:
        limits.xero_release(g)
    for _ in range(55):
        limits.xero_release(limits.xero_acquire(tenant))
    over = limits.xero_acquire(tenant)
    assert not over.ok and over.reason.endswith(":minute")
    assert 55 < over.wait <= 60
    other = limits.xero_acquire(str(uuid.uuid4()))  # another tenant is unaffected
    assert other.ok


def test_time_scale_shrinks_the_window(limiter) -> None:
    tenant = str(uuid.uuid4())
    with override_settings(RATE_LIMIT_TIME_SCALE=60):
        for _ in range(60):
            limits.xero_release(limits.xero_acquire(tenant))
        over = limits.xero_acquire(tenant)
        assert not over.ok and over.wait <= 1.0


def test_xero_headers_keep_the_count_in_step(limiter) -> None:
    tenant = str(uuid.uuid4())
    limits.xero_observe(tenant, {"X-MinLimit-Remaining": "2", "X-DayLimit-Remaining": "4990"})
    assert limits.xero_acquire(tenant).ok and limits.xero_acquire(tenant).ok
    third = limits.xero_acquire(tenant)
    assert not third.ok and third.reason.endswith(":minute")


def test_amazon_bucket_allows_burst_then_rate(limiter) -> None:
    key = f"seller-{uuid.uuid4()}"
    waits = [limits.sp_wait(key, "getOrders") for _ in range(21)]
    assert waits[:20] == [0.0] * 20
    assert 55 < waits[20] <= 61  # 0.0167 per second: about one a minute


def test_concurrent_workers_never_exceed_the_minute(db) -> None:
    """Redis only: the database backend serves the single-worker demo."""
    tenant = str(uuid.uuid4())
    granted: list[limits.Grant] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(40):
            g = limits.xero_acquire(tenant)
            if g.ok:
                with lock:
                    granted.append(g)
                limits.xero_release(g)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 60
