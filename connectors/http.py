"""The one HTTP seam every provider call goes through.

Default timeouts; one structured log line per call (provider, operation, status, duration and the
provider's remaining-quota headers, never a token or a query string); typed errors; and a retry
decision that says whether to retry, why, and how long to wait.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from hub.metrics import record_call

log = logging.getLogger("connectors.http")

DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
QUOTA_HEADERS = (
    "X-MinLimit-Remaining",
    "X-DayLimit-Remaining",
    "X-AppMinLimit-Remaining",
    "X-Rate-Limit-Problem",
    "x-amzn-RateLimit-Limit",
    "Retry-After",
)
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0

_sessions: dict[str, requests.Session] = {}


def _session(provider: str) -> requests.Session:
    # Sessions hold connection pools only: tokens travel per request, never on the session.
    if provider not in _sessions:
        session = requests.Session()
        session.headers["User-Agent"] = "Ledgerbridge/0.1 (Language=Python)"
        _sessions[provider] = session
    return _sessions[provider]


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    reason: str
    wait: float = 0.0


class ProviderError(Exception):
    """A call that did not succeed. ``message`` is the provider's own words where it gave any."""

    def __init__(
        self,
        *,
        provider: str,
        operation: str,
        message: str,
        status: int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        decision: RetryDecision,
    ) -> None:
        super().__init__(f"{provider} {operation}: {message}")
        self.provider, self.operation, self.message = provider, operation, message
        self.status, self.body, self.headers = status, body, dict(headers or {})
        self.decision = decision

    @property
    def permanent(self) -> bool:
        """The same request can never succeed (a 401 may, once the token is refreshed)."""
        return isinstance(self, Rejected)


class RetryLater(ProviderError):
    """Throttled, a server error or a network failure: try again after ``decision.wait``."""


class Rejected(ProviderError):
    """The provider refused the request itself (4xx): retrying the same request cannot help."""


class AuthRejected(Rejected):
    """401/403 or invalid_grant: the connection needs a refresh or the user's reconnection."""


class Uncertain(RetryLater):
    """Sent, but no answer came (read timeout, reset after sending): the call may have happened."""


def backoff(attempt: int) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt)))  # noqa: S311


def retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def decide(
    *, status: int | None, headers: Mapping[str, str], attempt: int, network: bool = False
) -> RetryDecision:
    if network:
        return RetryDecision(True, "network error", backoff(attempt))
    assert status is not None
    if status == 429:
        problem = headers.get("X-Rate-Limit-Problem")
        wait = retry_after(headers)
        reason = f"rate limited ({problem})" if problem else "rate limited"
        return RetryDecision(True, reason, wait if wait is not None else backoff(attempt))
    if status >= 500:
        wait = retry_after(headers)
        return RetryDecision(
            True, f"server error {status}", wait if wait is not None else backoff(attempt)
        )
    if status == 401:
        return RetryDecision(attempt == 0, "unauthorised: refresh the token once", 0.0)
    return RetryDecision(False, f"rejected with {status}")


def provider_message(response: requests.Response) -> str:
    """The provider's own words: Xero's Detail/Message/ValidationErrors, Amazon's errors[]."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] if text else f"HTTP {response.status_code}"
    if isinstance(body, dict):
        if "errors" in body and isinstance(body["errors"], list) and body["errors"]:
            first = body["errors"][0]
            return str(first.get("message") or first.get("code") or first)
        for element in body.get("Elements") or []:
            for error in element.get("ValidationErrors") or []:
                if error.get("Message"):
                    return str(error["Message"])
        for key in ("error_description", "Detail", "Message", "error", "Title"):
            if body.get(key):
                return str(body[key])
    return f"HTTP {response.status_code}"


def call(
    provider: str,
    operation: str,
    method: str,
    url: str,
    *,
    attempt: int = 0,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    expect: tuple[int, ...] = (),
    **kwargs: Any,
) -> requests.Response:
    """Make one HTTP call; return the response or raise a typed ProviderError.

    ``expect`` lists non-2xx statuses the caller handles itself (e.g. 404 on a lookup).
    """
    started = time.monotonic()
    path = urlsplit(url).path
    try:
        response = _session(provider).request(method, url, timeout=timeout, **kwargs)
    except (requests.ConnectionError, requests.Timeout) as exc:
        elapsed = (time.monotonic() - started) * 1000
        sent = (
            isinstance(exc, requests.ReadTimeout)
            or "RemoteDisconnected" in repr(exc)
            or "Connection aborted" in repr(exc)
        )
        log.warning(
            "provider=%s op=%s method=%s path=%s status=%s ms=%.0f attempt=%d",
            provider,
            operation,
            method,
            path,
            "timeout" if sent else "network",
            elapsed,
            attempt,
        )
        record_call(provider, operation, "timeout" if sent else "network", elapsed / 1000)
        network_error = Uncertain if sent else RetryLater
        raise network_error(
            provider=provider,
            operation=operation,
            message=type(exc).__name__,
            decision=decide(status=None, headers={}, attempt=attempt, network=True),
        ) from exc
    elapsed = (time.monotonic() - started) * 1000
    record_call(provider, operation, response.status_code, elapsed / 1000)
    quota = " ".join(
        f"{h.lower()}={response.headers[h]}" for h in QUOTA_HEADERS if h in response.headers
    )
    log.info(
        "provider=%s op=%s method=%s path=%s status=%d ms=%.0f attempt=%d %s",
        provider,
        operation,
        method,
        path,
        response.status_code,
        elapsed,
        attempt,
        quota,
    )
    if response.ok or response.status_code in expect:
        return response
    decision = decide(status=response.status_code, headers=response.headers, attempt=attempt)
    message = provider_message(response)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    error_class: type[ProviderError]
    if response.status_code in (401, 403) or (
        isinstance(body, dict) and body.get("error") == "invalid_grant"
    ):
        error_class = AuthRejected
    elif decision.retry:
        error_class = RetryLater
    else:
        error_class = Rejected
    raise error_class(
        provider=provider,
        operation=operation,
        message=message,
        status=response.status_code,
        body=body,
        headers=response.headers,
        decision=decision,
    )
