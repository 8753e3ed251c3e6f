"""State shared by every sandbox provider: the clock's time scale, faults, and limit counters.

Everything lives in the database so the web process, the workers and a standalone sandbox server
all see the same limits and the same data.
"""

from __future__ import annotations

from django.db import models


class SandboxState(models.Model):
    """One row (pk=1): how the sandbox behaves right now. Tests and benchmarks change it."""

    # 60 means a Xero "minute" lasts one real second: the same limits, sixty times faster.
    time_scale = models.FloatField(default=1.0)
    fault_5xx_rate = models.FloatField(default=0.0, help_text="Share of calls answered 500/503.")
    fault_timeout_rate = models.FloatField(
        default=0.0, help_text="Share of calls processed but whose response is withheld."
    )
    fault_reset_rate = models.FloatField(
        default=0.0, help_text="Share of calls whose connection is reset before processing."
    )
    fault_timeout_seconds = models.FloatField(
        default=30.0, help_text="How long a withheld response hangs before the socket closes."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"sandbox state (time x{self.time_scale:g})"


class RateCounter(models.Model):
    """Calls counted in one fixed window of one limit (e.g. a Xero tenant's minute)."""

    key = models.CharField(max_length=200)
    window = models.BigIntegerField(help_text="Index of the window since the epoch.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="rate_counter_once")]


class InFlight(models.Model):
    """Calls in progress for one concurrency limit (Xero: 5 per tenant)."""

    key = models.CharField(max_length=200, unique=True)
    count = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class TokenBucket(models.Model):
    """Amazon's rate-and-burst limits: tokens refill at ``rate`` per second up to ``burst``."""

    key = models.CharField(max_length=200, unique=True)
    tokens = models.FloatField()
    refreshed_at = models.FloatField(help_text="Unix time of the last refill (real seconds).")
