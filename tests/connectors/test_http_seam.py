"""The HTTP seam's decisions, and what it logs, against the sandbox's real endpoints."""

from __future__ import annotations

import logging

import pytest
import requests

from connectors import http
from sandbox.state import sandbox_configure


def test_retry_decisions_carry_a_reason_and_a_wait() -> None:
    throttled = http.decide(
        status=429, headers={"Retry-After": "17", "X-Rate-Limit-Problem": "minute"}, attempt=0
    )
    assert throttled == http.RetryDecision(True, "rate limited (minute)", 17.0)
    server = http.decide(status=503, headers={}, attempt=3)
    assert server.retry and server.reason == "server error 503" and 0 <= server.wait <= 16
    assert http.decide(status=400, headers={}, attempt=0) == http.RetryDecision(
        False, "rejected with 400"
    )
    assert http.decide(status=401, headers={}, attempt=0).retry is True  # once, after a refresh
    assert http.decide(status=401, headers={}, attempt=1).retry is False
    network = http.decide(status=None, headers={}, attempt=2, network=True)
    assert network.retry and network.reason == "network error" and network.wait <= 8


def test_backoff_is_capped_with_jitter() -> None:
    waits = [http.backoff(20) for _ in range(50)]
    assert max(waits) <= http.BACKOFF_CAP and min(waits) >= 0
    assert len(set(waits)) > 1


def test_provider_messages_are_the_providers_own_words() -> None:
    def response(status: int, body: bytes) -> requests.Response:
        r = requests.Response()
        r.status_code, r._content = status, body
        return r

    xero = response(
        400,
        b'{"Elements":[{"ValidationErrors":[{"Message":"Invoice # must be '
        b'unique."}]}],"Message":"A validation exception occurred"}',
    )
    assert http.provider_message(xero) == "Invoice # must be unique."
    amazon = response(
        429,
        b'{"errors":[{"code":"QuotaExceeded","message":"You exceeded your '
        b'quota for the requested resource."}]}',
    )
    assert http.provider_message(amazon) == "You exceeded your quota for the requested resource."
    lwa = response(
        400,
        b'{"error":"invalid_grant","error_description":"The authorization code '
        b'is invalid or expired."}',
    )
    assert http.provider_message(lwa) == "The authorization code is invalid or expired."


def test_calls_log_one_line_without_secrets_and_raise_typed_errors(
    sandbox_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{sandbox_url}/amazon/lwa/auth/o2/token"
    caplog.set_level(logging.INFO, logger="connectors.http")
    with pytest.raises(http.AuthRejected) as rejected:
        http.call(
            "amazon-lwa",
            "token",
            "POST",
            url,
            data={"client_id": "nobody", "client_secret": "s3cr3t-value"},
        )
    assert rejected.value.status == 401 and rejected.value.permanent
    assert rejected.value.message == "Client authentication failed"
    line = caplog.records[-1].getMessage()
    assert line.startswith(
        "provider=amazon-lwa op=token method=POST "
        "path=/sandbox/amazon/lwa/auth/o2/token status=401 ms="
    )
    assert "s3cr3t" not in caplog.text

    sandbox_configure(fault_5xx_rate=1.0)
    with pytest.raises(http.RetryLater) as later:
        http.call("amazon-lwa", "token", "POST", url, data={})
    assert later.value.status in (500, 503) and not later.value.permanent

    sandbox_configure(fault_5xx_rate=0.0, fault_reset_rate=1.0)
    with pytest.raises(http.RetryLater) as reset:
        http.call("amazon-lwa", "token", "POST", url, data={})
    assert reset.value.decision.reason == "network error"
