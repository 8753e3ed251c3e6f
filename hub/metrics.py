"""Prometheus metrics at /metrics.

Counters and histograms are recorded where calls happen (web and worker processes) in
prometheus_client's multiprocess mode (files in ``PROMETHEUS_MULTIPROC_DIR``, shared by the
processes of one host or volume) when that variable is set, else per process; ledger states,
attempt outcomes (throttled, retried, failed, posted: every worker's, from the database) and queue
depths are read from the database and the broker when scraped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

PROVIDER_CALLS = Counter(
    "hub_provider_calls_total", "Calls to Xero and Amazon.", ["provider", "operation", "status"]
)
PROVIDER_THROTTLED = Counter(
    "hub_provider_throttled_total", "Calls answered 429 by the provider.", ["provider"]
)
PROVIDER_LATENCY = Histogram(
    "hub_provider_call_seconds",
    "Provider call latency.",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def record_call(provider: str, operation: str, status: int | str, seconds: float) -> None:
    PROVIDER_CALLS.labels(provider, operation, str(status)).inc()
    PROVIDER_LATENCY.labels(provider).observe(seconds)
    if status == 429:
        PROVIDER_THROTTLED.labels(provider).inc()


class StateCollector(Collector):
    """Ledger states and queue depths, read fresh at every scrape."""

    def collect(self) -> Iterator[Metric]:
        from django.db.models import Count

        from sync.models import Attempt, LedgerEntry, PushQueue

        ledger = GaugeMetricFamily(
            "hub_ledger_entries", "Ledger rows by state and kind.", labels=["status", "kind"]
        )
        for row in LedgerEntry.objects.values("status", "kind").annotate(n=Count("id")):
            ledger.add_metric([row["status"], row["kind"]], row["n"])
        yield ledger
        attempts = GaugeMetricFamily(
            "hub_ledger_attempts", "Send attempts by outcome.", labels=["outcome"]
        )
        for outcome, n in Attempt.objects.values_list("outcome").annotate(n=Count("id")):
            attempts.add_metric([outcome], n)
        yield attempts
        queued = GaugeMetricFamily(
            "hub_push_queue_depth", "Links with a push task queued or running."
        )
        queued.add_metric([], PushQueue.objects.filter(queued_at__isnull=False).count())
        yield queued
        depth = _broker_depth()
        if depth is not None:
            broker = GaugeMetricFamily(
                "hub_broker_queue_depth", "Tasks waiting in the Celery broker's default queue."
            )
            broker.add_metric([], depth)
            yield broker


def _broker_depth() -> int | None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    try:
        return int(redis.Redis.from_url(url, socket_timeout=1).llen("celery"))
    except redis.RedisError:
        return None


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token and request.headers.get("Authorization") != f"Bearer {token}":
        return HttpResponse(
            "Send Authorization: Bearer <METRICS_TOKEN>.\n", status=401, content_type="text/plain"
        )
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        calls = CollectorRegistry()
        MultiProcessCollector(calls)  # type: ignore[no-untyped-call]
        body = generate_latest(calls)
    else:
        body = generate_latest(REGISTRY)
    state = CollectorRegistry()
    state.register(StateCollector())
    body += generate_latest(state)
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")
