"""Order-pull tests against the sandbox run with an Amazon "minute" of one second.

The hub's SP-API limiter keeps its token buckets in Redis, shared by every test for the same
sandbox seller; at x60 a bucket the previous test emptied refills in a second or two, and the
sandbox's own usage plans run at the same scale.

``sp_calls`` records every SP-API call a pull makes and passes it on unchanged.

``orders_build`` (what a finished run hands its orders to) is watched by ``builds``: every call
is recorded, then passed on to ``orders.services.orders_build``. Where that function is not
there yet, the record is all there is.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from tests.orders.support import Calls

SCALE = 60


@pytest.fixture(autouse=True)
def _fast_windows(request: pytest.FixtureRequest) -> Iterator[None]:
    if "sandbox_url" not in request.fixturenames:
        yield
        return
    from sandbox.state import sandbox_configure

    request.getfixturevalue("sandbox_url")
    sandbox_configure(time_scale=SCALE)
    with override_settings(RATE_LIMIT_TIME_SCALE=SCALE):
        yield


@pytest.fixture(autouse=True)
def builds(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    try:
        services: Any = importlib.import_module("orders.services")
    except ModuleNotFoundError:
        services = types.ModuleType("orders.services")
        monkeypatch.setitem(sys.modules, "orders.services", services)
    real = getattr(services, "orders_build", None)

    def orders_build(link: Any, *, run: Any = None, order_ids: Any = None) -> Any:
        calls.append({"link": link.pk, "run": run.pk if run else None, "order_ids": order_ids})
        if real is None:
            return None
        return real(link, run=run, order_ids=order_ids)

    monkeypatch.setattr(services, "orders_build", orders_build, raising=False)
    return calls


@pytest.fixture
def sp_calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Every SP-API call the pull makes (operation, path, query), passed on unchanged."""
    from orders import pull

    calls: Calls = []
    real = pull.sp_request

    def recording(account: Any, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        calls.append((operation, path, dict(kwargs.get("params") or kwargs.get("json") or {})))
        return real(account, operation, method, path, **kwargs)

    monkeypatch.setattr(pull, "sp_request", recording)
    return calls
