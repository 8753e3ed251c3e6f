"""Serve the hub (and, with SANDBOX on, the sandbox under /sandbox/) on its own port.

Uses ``sandbox.server``, which can reset connections and withhold responses as the sandbox's
faults require; Django's development server cannot.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.server import build_server


class Command(BaseCommand):
    help = "Serve the sandbox (and the hub) on a port of its own: manage.py runsandbox --port 8001"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SANDBOX:
            raise CommandError("SANDBOX is off: there is no sandbox to serve.")
        server = build_server(options["host"], options["port"])
        self.stdout.write(f"Sandbox serving on http://{options['host']}:{options['port']}/sandbox/")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
