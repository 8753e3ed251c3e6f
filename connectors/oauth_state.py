"""OAuth ``state`` kept in the user's session: single use, short-lived, bound to its flow.

A callback whose state is missing, expired, already used or meant for another provider gets a
clear error page, and nothing is created.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.http import HttpRequest

SESSION_KEY = "oauth_flows"
LIFETIME_SECONDS = 15 * 60


class StateError(Exception):
    pass


def state_begin(request: HttpRequest, *, provider: str, **data: Any) -> str:
    state = secrets.token_urlsafe(24)
    flows: dict[str, Any] = request.session.get(SESSION_KEY, {})
    now = time.time()
    flows = {k: v for k, v in flows.items() if now - v["created"] < LIFETIME_SECONDS}
    flows[state] = {"provider": provider, "created": now, **data}
    request.session[SESSION_KEY] = flows
    return state


def state_consume(request: HttpRequest, *, provider: str, state: str | None) -> dict[str, Any]:
    """Take the flow for ``state`` out of the session, or raise StateError saying why."""
    flows: dict[str, Any] = request.session.get(SESSION_KEY, {})
    if not state:
        raise StateError("The reply did not carry a state parameter.")
    flow: dict[str, Any] | None = flows.pop(state, None)
    request.session[SESSION_KEY] = flows
    if flow is None:
        raise StateError(
            "This authorisation reply does not match a request started in this browser, or it "
            "was already used. Start the connection again from the hub."
        )
    if flow["provider"] != provider:
        raise StateError("This authorisation reply belongs to a different provider's flow.")
    if time.time() - flow["created"] >= LIFETIME_SECONDS:
        raise StateError("This authorisation request expired. Start the connection again.")
    return flow
