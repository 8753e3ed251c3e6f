"""The sandbox's shared machinery: control endpoint, limits, faults through a real socket."""

from __future__ import annotations

import pytest
import requests

from sandbox.limits import bucket_take, concurrency, window_hit
from sandbox.state import sandbox_state


def test_control_reads_and_changes_behaviour(sandbox_url: str) -> None:
    assert requests.get(f"{sandbox_url}/control", timeout=5).json()["time_scale"] == 1.0
    changed = requests.post(
        f"{sandbox_url}/control", json={"time_scale": 60, "fault_5xx_rate": 0.2}, timeout=5
    )
    assert changed.status_code == 200
    assert changed.json()["time_scale"] == 60 and changed.json()["fault_5xx_rate"] == 0.2
    assert sandbox_state().time_scale == 60

    bad = requests.post(f"{sandbox_url}/control", json={"fault_5xx_rate": 2}, timeout=5)
    assert bad.status_code == 400 and "between 0 and 1" in bad.json()["error"]
    unknown = requests.post(f"{sandbox_url}/control", json={"speed": 2}, timeout=5)
    assert unknown.status_code == 400 and "unknown sandbox setting(s): speed" in unknown.text


@pytest.mark.django_db
def test_fixed_window_counts_to_the_limit_then_says_when_to_retry() -> None:
    now = 1_800_000_000.0  # the start of a 60-second window
    decisions = [window_hit("t:minute", limit=60, window=60, scale=1, now=now) for _ in range(61)]
    assert [d.allowed for d in decisions] == [True] * 60 + [False]
    assert decisions[0].remaining == 59 and decisions[59].remaining == 0
    assert decisions[60].retry_after == 60
    # Time-scaled x60: the same limit in a one-second window.
    fast = [window_hit("t:fast", limit=2, window=60, scale=60, now=now + 0.5) for _ in range(3)]
    assert [d.allowed for d in fast] == [True, True, False]
    assert fast[2].retry_after == 1
    assert window_hit("t:fast", limit=2, window=60, scale=60, now=now + 1.01).allowed


@pytest.mark.django_db
def test_in_flight_slots_are_released() -> None:
    with concurrency("t:inflight", limit=1) as first:
        assert first
        with concurrency("t:inflight", limit=1) as second:
            assert not second
    with concurrency("t:inflight", limit=1) as again:
        assert again


@pytest.mark.django_db
def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    now = 1_800_000_000.0
    burst = [bucket_take("s:getOrders", rate=0.0167, burst=20, scale=1, now=now) for _ in range(21)]
    assert [d.allowed for d in burst] == [True] * 20 + [False]
    assert burst[20].retry_after == 60  # one token per ~60 s at 0.0167/s
    later = bucket_take("s:getOrders", rate=0.0167, burst=20, scale=1, now=now + 61)
    assert later.allowed


def _lwa_app():
    from sandbox.amazon.models import LwaApp

    return LwaApp.objects.create(
        kind="seller",
        application_id="amzn1.sp.solution.t",
        client_id="amzn1.application-oa2-client.t",
        client_secret="s",
        name="t",
        redirect_uris=["https://example.com/cb"],
    )


def test_faults_reach_the_client_as_the_real_failures(sandbox_url: str) -> None:
    from sandbox.amazon.lwa import issue_authorization_code
    from sandbox.amazon.models import LwaAuthCode
    from sandbox.state import sandbox_configure

    app = _lwa_app()
    url = f"{sandbox_url}/amazon/lwa/auth/o2/token"

    def exchange(code: str) -> requests.Response:
        return requests.post(
            url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": app.client_id,
                "client_secret": "s",
                "redirect_uri": "https://example.com/cb",
            },
            timeout=5,
        )

    sandbox_configure(fault_5xx_rate=1.0)
    code = issue_authorization_code(
        app=app, redirect_uri="https://example.com/cb", subject_kind="seller", subject_id="A2SELLER"
    )
    assert exchange(code).status_code in (500, 503)
    assert LwaAuthCode.objects.get().used_at is None, "a 5xx processes nothing"

    sandbox_configure(fault_5xx_rate=0.0, fault_reset_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        exchange(code)
    assert LwaAuthCode.objects.get().used_at is None, "a reset processes nothing"

    sandbox_configure(fault_reset_rate=0.0, fault_timeout_rate=1.0, fault_timeout_seconds=0.2)
    with pytest.raises(requests.ConnectionError):
        exchange(code)
    assert LwaAuthCode.objects.get().used_at is not None, "a withheld response was processed"

    sandbox_configure(fault_timeout_rate=0.0)
    replay = exchange(code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
