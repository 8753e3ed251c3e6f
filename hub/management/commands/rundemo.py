"""Run the demo: web, a Celery worker and beat, on SQLite and the embedded broker.

``make demo`` calls this after installing and migrating. It starts the three processes, prints
where to go, and stops them all on Ctrl-C (or when any of them exits).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub.models import Customer
from hub.tenancy import customer_create
from sandbox.seed import sandbox_seed

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # local demo only: refused unless DEBUG and SANDBOX are on


class Command(BaseCommand):
    help = "Start the demo: web server, Celery worker and beat (SQLite + embedded broker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG and settings.SANDBOX):
            raise CommandError("rundemo is for the local demo: it needs DEBUG and SANDBOX on.")
        self._ensure_demo_user()
        port, host = options["port"], options["host"]
        self.stdout.write("Seeding the sandbox (Xero organisations, a seller, a business buyer)…")
        for line in sandbox_seed(site_url=f"http://localhost:{port}"):
            self.stdout.write(f"  {line}")
        python = sys.executable
        beat_schedule = settings.VAR_DIR / "celerybeat-schedule"
        commands = {
            "web": [python, "manage.py", "runsandbox", "--host", host, "--port", str(port)],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "hub",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={settings.WORKER_CONCURRENCY}",
                "--hostname=demo@%h",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "hub",
                "beat",
                "--loglevel=INFO",
                f"--schedule={beat_schedule}",
            ],
        }
        url = f"http://localhost:{port}/"
        # OAuth redirect URIs and the sandbox's base URLs follow the port the demo serves on.
        env = {**os.environ, "SITE_URL": url.rstrip("/")}
        processes = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
        self.stdout.write(
            self.style.SUCCESS(
                f"\nThe hub is running at {url}\n"
                f"  Log in as '{DEMO_USERNAME}' with password '{DEMO_PASSWORD}'.\n"
                f"  Sandbox (stand-in Xero and Amazon): {url}sandbox/\n"
                f"  Worker and beat run on the {settings.CELERY_BROKER_URL.split(':')[0]} broker.\n"
                "  Press Ctrl-C to stop.\n"
            )
        )
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in processes.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with status {proc.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in processes.values():
                if proc.poll() is None:
                    proc.terminate()
            for proc in processes.values():
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()

    def _ensure_demo_user(self) -> None:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        if not Customer.objects.filter(memberships__user=user).exists():
            customer_create(name="Demo workspace", owner=user)
