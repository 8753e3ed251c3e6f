"""What a benchmark run needs: its own database, Redis, a sandbox server and worker processes.

The sandbox is served by gunicorn (several processes, as the real Xero is no single thread) on
the bench database; Celery workers are real processes on Redis. Everything stops at the end.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "var" / "bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hub_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"


def prepare_environment() -> None:
    """Point this process at the bench database and Redis, create and migrate, start clean."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    _create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    LOGS.mkdir(parents=True, exist_ok=True)


def _create_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    match = re.match(
        r"postgres(?:ql)?://(?P<user>[^@/:]+)?(?::[^@]*)?@?(?P<host>[^:/]+)"
        r"(?::(?P<port>\d+))?/(?P<name>\w+)",
        url,
    )
    if not match:
        raise SystemExit(f"make bench needs PostgreSQL; DATABASE_URL={url!r} is not one.")
    conn = psycopg2.connect(
        dbname="postgres",
        user=match["user"] or "postgres",
        host=match["host"],
        port=match["port"] or 5432,
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [match["name"]])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(match["name"])))
    conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def site_env(port: int) -> dict[str, str]:
    site = f"http://127.0.0.1:{port}"
    sandbox = f"{site}/sandbox"
    return {
        "SITE_URL": site,
        "SANDBOX_URL": sandbox,
        "ALLOWED_HOSTS": "*",
        "XERO_LOGIN_URL": f"{sandbox}/xero/login",
        "XERO_IDENTITY_URL": f"{sandbox}/xero/identity",
        "XERO_API_URL": f"{sandbox}/xero/api",
        "AMAZON_LWA_URL": f"{sandbox}/amazon/lwa",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
        "LOG_LEVEL": "INFO",
    }


@contextmanager
def sandbox_server(port: int, *, workers: int = 2) -> Iterator[None]:
    env = {**os.environ, **site_env(port)}
    log = open(LOGS / "sandbox.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "hub.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_http(port)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def _wait_http(port: int) -> None:
    import requests

    for _ in range(100):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return
        except requests.RequestException:  # not listening yet, or still loading the app
            pass
        time.sleep(0.2)
    raise RuntimeError("the sandbox server did not start; see var/bench/sandbox.log")


@contextmanager
def workers(
    port: int, *, count: int, concurrency: int, time_scale: float, name: str
) -> Iterator[list[Path]]:
    env = {
        **os.environ,
        **site_env(port),
        "RATE_LIMIT_TIME_SCALE": str(time_scale),
        "WORKER_CONCURRENCY": str(concurrency),
    }
    logs = [LOGS / f"{name}-worker{n}.log" for n in range(count)]
    procs = []
    for n, path in enumerate(logs):
        handle = open(path, "wb")  # noqa: SIM115
        procs.append(
            (
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "hub",
                        "worker",
                        "--loglevel=INFO",
                        f"--concurrency={concurrency}",
                        f"--hostname={name}{n}@%h",
                        "--without-gossip",
                        "--without-mingle",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                ),
                handle,
            )
        )
    try:
        time.sleep(3)  # let the workers connect before work is queued
        yield logs
    finally:
        for proc, _ in procs:
            proc.send_signal(signal.SIGTERM)
        for proc, handle in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            handle.close()


@dataclass(frozen=True)
class Call:
    at: datetime
    operation: str
    status: str
    tenant: str


_LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO connectors\.http "
    r"provider=xero op=(?P<op>\S+) method=\S+ path=\S+ status=(?P<status>\S+)"
)


def xero_calls(logs: list[Path]) -> list[Call]:
    """Every Xero call the workers made, from the seam's log line (one per call)."""
    calls = []
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            match = _LINE.match(line)
            if match:
                calls.append(
                    Call(
                        datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC),
                        match["op"],
                        match["status"],
                        "",
                    )
                )
    return sorted(calls, key=lambda c: c.at)
