"""Faults the real services produce, injected at the rates set in ``SandboxState``.

- 5xx: the call is refused with 500 or 503 before anything is processed.
- reset: the TCP connection is reset before anything is processed.
- timeout: the call **is processed** (the document exists afterwards) but the response is
  withheld and the connection closed, the case that creates duplicates in naive clients.

Resets and withheld responses need the socket, which ``sandbox.server`` (the demo's and the
tests' HTTP server) and gunicorn put in the WSGI environ. Under a server that does not, a reset
or a timeout degrades to a 502 with a body that says so, so the fault is still visible.
"""

from __future__ import annotations

import functools
import random
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse

from sandbox.state import sandbox_state

View = Callable[..., HttpResponse]
_random = random.Random()  # noqa: S311  (fault injection, not security)


class ConnectionAborted(Exception):
    """Raised after the socket was reset or closed; the server writes nothing more."""


def _socket(request: HttpRequest) -> socket.socket | None:
    sock = request.META.get("sandbox.socket") or request.META.get("gunicorn.socket")
    return sock if isinstance(sock, socket.socket) else None


def abort_connection(request: HttpRequest, *, reset: bool) -> HttpResponse:
    sock = _socket(request)
    if sock is None:
        what = "connection reset" if reset else "response withheld"
        return JsonResponse(
            {"sandbox_fault": what, "detail": "this server cannot drop sockets"}, status=502
        )
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
    raise ConnectionAborted


def _server_error(request: HttpRequest, status: int) -> JsonResponse:
    """A 5xx in the shape the imitated service uses."""
    if "/xero/" in request.path:
        return JsonResponse(
            {
                "Title": "An error occurred",
                "Status": status,
                "Detail": "The service is temporarily unavailable. Please retry.",
            },
            status=status,
        )
    code = "InternalFailure" if status == 500 else "ServiceUnavailable"
    return JsonResponse(
        {
            "errors": [
                {
                    "code": code,
                    "message": "We encountered an internal error. Please try again.",
                    "details": "",
                }
            ]
        },
        status=status,
    )


def with_faults(view: View) -> View:
    """Wrap a provider endpoint so it suffers the configured faults."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        state = sandbox_state()
        roll = _random.random()
        if roll < state.fault_reset_rate:
            return abort_connection(request, reset=True)
        roll -= state.fault_reset_rate
        if roll < state.fault_5xx_rate:
            status = _random.choice((500, 503))
            return JsonResponse(
                {
                    "Title": "An error occurred",
                    "Status": status,
                    "Detail": "The service is temporarily unavailable. Please retry.",
                },
                status=status,
            )
        roll -= state.fault_5xx_rate
        response = view(request, *args, **kwargs)
        if roll < state.fault_timeout_rate:
            connections.close_all()  # the work is committed; hold no connection while hanging
            time.sleep(min(state.fault_timeout_seconds, 120))
            return abort_connection(request, reset=False)
        return response

    return wrapper
