"""A small threaded WSGI server that can drop connections, for the demo, the sandbox and tests.

Django's development server cannot reset a socket on purpose; this one puts the client socket in
the environ (``sandbox.socket``) so ``sandbox.faults`` can reset it or withhold a response.
"""

from __future__ import annotations

import logging
import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.handlers.wsgi import WSGIHandler
from django.db import connections

log = logging.getLogger("sandbox.server")


class _Handler(WSGIRequestHandler):
    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["sandbox.socket"] = self.connection
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:
            pass  # the fault dropped the socket on purpose, or the client went away
        finally:
            # One thread per request: its database connection would outlive it otherwise.
            connections.close_all()


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # aborted connections are the point; Django logs real errors itself


def build_server(host: str, port: int) -> _Server:
    server = make_server(host, port, WSGIHandler(), server_class=_Server, handler_class=_Handler)
    assert isinstance(server, _Server)
    return server


def serve_in_thread(
    host: str = "127.0.0.1", port: int = 0, *, poll_interval: float = 0.5
) -> tuple[_Server, threading.Thread]:
    """Serve in a daemon thread; ``shutdown()`` returns within ``poll_interval`` seconds."""
    server = build_server(host, port)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": poll_interval},
        name="sandbox-server",
        daemon=True,
    )
    thread.start()
    return server, thread
