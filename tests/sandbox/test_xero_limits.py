"""The sandbox Xero's rate limits and Idempotency-Key, time-scaled so the real limits fit in a test.

Xero's limits per tenant: 60 calls a minute, 5,000 a day, 5 in flight; per app 10,000 a minute.
Idempotency: the first response to a key is replayed for 6 minutes to the same method, URL and
body; rate limits are checked first (xero-api.md §3, §4).
"""

from __future__ import annotations

import math
import threading
import time
from decimal import Decimal

import pytest
import requests

from sandbox.models import RateCounter
from sandbox.state import sandbox_configure
from sandbox.xero.models import Invoice, Organisation
from sandbox.xero.seed import seed_organisations
from sandbox.xero.testing import Api, connect


@pytest.fixture
def uk(sandbox_url: str) -> Organisation:
    seed_organisations(site_url="http://hub.test")
    return Organisation.objects.get(short_code="!nW7Gd")


@pytest.fixture
def api(sandbox_url: str, uk: Organisation) -> Api:
    return Api(sandbox_url, connect(uk))


def _invoice(reference: str) -> dict[str, object]:
    return {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"Name": "Amazon UK"},
                "Reference": reference,
                "Status": "AUTHORISED",
                "LineItems": [
                    {
                        "Description": "x",
                        "Quantity": 1,
                        "UnitAmount": Decimal("10.00"),
                        "AccountCode": "200",
                        "TaxType": "OUTPUT2",
                    }
                ],
            }
        ]
    }


def _start_of_window(length: float) -> None:
    """Sleep until a fresh fixed window begins, so a test's calls all land in one window."""
    time.sleep(length - (time.time() % length) + 0.05)


def test_every_response_carries_the_remaining_limits(api: Api) -> None:
    first = api.get("Organisation")
    assert first.status_code == 200
    assert first.headers["X-MinLimit-Remaining"] == "59"
    assert first.headers["X-DayLimit-Remaining"] == "4999"
    assert first.headers["X-AppMinLimit-Remaining"] == "9999"
    second = api.put("Invoices", _invoice("R"))
    assert second.headers["X-MinLimit-Remaining"] == "58"
    assert second.headers["X-DayLimit-Remaining"] == "4998"


def test_the_61st_call_in_a_minute_is_a_429_with_retry_after(api: Api) -> None:
    sandbox_configure(time_scale=10)  # a Xero minute lasts 6 seconds
    _start_of_window(6.0)
    statuses = [api.get("Organisation").status_code for _ in range(60)]
    assert statuses == [200] * 60
    refused = api.get("Organisation")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert refused.headers["X-MinLimit-Remaining"] == "0"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 6
    # Limits come before idempotency: even a replayable write is refused and not processed.
    replay = api.put("Invoices", _invoice("late"), headers={"Idempotency-Key": "k-late"})
    assert replay.status_code == 429
    assert Invoice.objects.count() == 0
    time.sleep(retry_after)
    assert api.get("Organisation").status_code == 200


def test_the_daily_limit(api: Api, uk: Organisation) -> None:
    index = math.floor(time.time() / 86_400)
    RateCounter.objects.create(key=f"xero:tenant:{uk.tenant_id}:day", window=index, count=5000)
    refused = api.get("Organisation")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "day"
    assert refused.headers["X-DayLimit-Remaining"] == "0"
    seconds_to_midnight = 86_400 - time.time() % 86_400
    assert abs(int(refused.headers["Retry-After"]) - seconds_to_midnight) <= 2


def test_the_app_wide_minute_limit(api: Api) -> None:
    index = math.floor(time.time() / 60)
    RateCounter.objects.create(
        key=f"xero:app:{api.conn.app.client_id}:minute", window=index, count=10_000
    )
    RateCounter.objects.create(
        key=f"xero:app:{api.conn.app.client_id}:minute", window=index + 1, count=10_000
    )
    refused = api.get("Organisation")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "appminute"
    assert refused.headers["X-AppMinLimit-Remaining"] == "0"


def test_only_five_calls_are_in_flight_per_tenant(api: Api) -> None:
    # Every processed call hangs for 2 s before its connection is dropped: five hold the slots.
    sandbox_configure(fault_timeout_rate=1.0, fault_timeout_seconds=2.0)
    barrier = threading.Barrier(7)
    outcomes: list[object] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait()
        try:
            result: object = api.get("Organisation")
        except requests.ConnectionError:
            result = "dropped"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=call) for _ in range(7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    refused = [o for o in outcomes if isinstance(o, requests.Response)]
    assert outcomes.count("dropped") == 5
    assert [r.status_code for r in refused] == [429, 429]
    assert all(r.headers["X-Rate-Limit-Problem"] == "concurrent" for r in refused)
    sandbox_configure(fault_timeout_rate=0.0)
    assert api.get("Organisation").status_code == 200  # the slots were released


def test_idempotent_replay_within_six_minutes_then_a_new_request(api: Api) -> None:
    sandbox_configure(time_scale=120)  # six Xero minutes last three seconds
    key = {"Idempotency-Key": "settlement-1234-invoice"}
    first = api.put("Invoices", _invoice("S-1234"), headers=key)
    assert first.status_code == 200
    replay = api.put("Invoices", _invoice("S-1234"), headers=key)
    assert replay.status_code == 200
    assert replay.content == first.content
    assert Invoice.objects.count() == 1
    # The replay still used quota (a Xero minute is half a second here, so count the day).
    assert (
        int(replay.headers["X-DayLimit-Remaining"])
        == int(first.headers["X-DayLimit-Remaining"]) - 1
    )

    other_body = api.put("Invoices", _invoice("S-9999"), headers=key)
    assert other_body.json()["Invoices"][0]["Reference"] == "S-9999"
    assert Invoice.objects.count() == 2  # a different body is not a replay

    time.sleep(3.1)
    after = api.put("Invoices", _invoice("S-1234"), headers=key)
    assert after.status_code == 200
    assert after.json()["Invoices"][0]["InvoiceID"] != first.json()["Invoices"][0]["InvoiceID"]
    assert Invoice.objects.filter(reference="S-1234").count() == 2


def test_a_withheld_response_is_replayed_to_the_retry(api: Api) -> None:
    sandbox_configure(fault_timeout_rate=1.0, fault_timeout_seconds=0.2)
    key = {"Idempotency-Key": "retry-after-timeout"}
    with pytest.raises(requests.ConnectionError):
        api.put("Invoices", _invoice("lost"), headers=key)
    assert Invoice.objects.count() == 1, "processed although the response never arrived"
    sandbox_configure(fault_timeout_rate=0.0)
    retry = api.put("Invoices", _invoice("lost"), headers=key)
    assert retry.status_code == 200
    assert retry.json()["Invoices"][0]["InvoiceID"] == str(Invoice.objects.get().invoice_id)
    assert Invoice.objects.count() == 1
    without_key = api.put("Invoices", _invoice("lost"))
    assert without_key.status_code == 200 and Invoice.objects.count() == 2


def test_errors_are_replayed_too_and_long_keys_are_refused(api: Api) -> None:
    bad = _invoice("bad")
    bad["Invoices"][0]["LineItems"][0]["AccountCode"] = "999"  # type: ignore[index]
    key = {"Idempotency-Key": "bad-invoice"}
    first = api.put("Invoices", bad, headers=key)
    assert first.status_code == 400
    assert api.put("Invoices", bad, headers=key).content == first.content
    too_long = api.put("Invoices", _invoice("x"), headers={"Idempotency-Key": "k" * 129})
    assert too_long.status_code == 400
    assert Invoice.objects.count() == 0
    assert (
        api.put("Invoices", _invoice("x"), headers={"Idempotency-Key": "k" * 128}).status_code
        == 200
    )
