from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from sandbox.faults import ConnectionAborted


class AbortedConnectionMiddleware:
    """A connection the sandbox dropped on purpose is not a server error: say nothing more."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ConnectionAborted):
            return HttpResponse(status=499)  # never reaches the client: its socket is gone
        return None
